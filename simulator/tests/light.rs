//! A light client in the simulator: real full nodes and a real light client (the node's own
//! code) over the simulator's link model, through a partition and its healing.
//!
//! Two miners are split apart, each mining its own branch; the light client sits with the
//! lighter one and follows it. It holds an inclusion proof for an item mined there. When the
//! partition heals, it reorgs to the heavier branch by headers alone, and the proof it held is
//! reported off the best chain.

use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use talos_chain::item::{Anchor, ItemKind, UnsignedItem};
use talos_chain::testkit::key;
use talos_chain::{Hash256, NetworkSpec};
use talos_chain_service::ChainServiceConfig;
use talos_light::{InclusionVerdict, judge_inclusion};
use talos_network::light::LightHeaders;
use talos_network::{NetConfig, TransportKind};
use talos_node::identity::NodeIdentity;
use talos_node::light::{RunningLight, start_light_with};
use talos_node::node::{NodeParts, RunningNode, start_with};
use talos_simulator::model::{LinkParams, NetModel};
use talos_simulator::runner::sim_spec;
use talos_storage::{MemoryHeaderStore, MemoryStore};

const WAIT: Duration = Duration::from_secs(60);

fn link() -> LinkParams {
    LinkParams {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        bandwidth_bytes_per_s: None,
    }
}

fn net_config(model: &NetModel, spec: &NetworkSpec, node: usize, id: &NodeIdentity) -> NetConfig {
    NetConfig::new(spec.clone(), id.keypair().clone())
        .with_transport(TransportKind::Injected(model.transport(node)))
        .with_listen(vec![model.listen_addr(node)])
}

fn dialable(model: &NetModel, node: usize, id: &NodeIdentity) -> Multiaddr {
    model.listen_addr(node).with(Protocol::P2p(id.peer_id()))
}

async fn full_node(
    model: &NetModel,
    spec: &NetworkSpec,
    node: usize,
    boot: Vec<Multiaddr>,
) -> (RunningNode, NodeIdentity) {
    let id = NodeIdentity::generate();
    let parts = NodeParts {
        store: Arc::new(MemoryStore::new(&spec.genesis()).expect("memory store")),
        chain: ChainServiceConfig::new(spec.clone()),
        net: net_config(model, spec, node, &id).with_bootnodes(boot),
    };
    (start_with(&id, parts).await.expect("full node starts"), id)
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn tip(light: &RunningLight) -> (Hash256, u64) {
    let tip = light.handle.headers().tip().expect("tip");
    (tip.id, tip.height)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_light_client_reorgs_by_headers_when_a_partition_heals() {
    let spec = sim_spec(1);
    let model = NetModel::new(7, link());
    let (a, a_id) = full_node(&model, &spec, 0, Vec::new()).await;
    let (b, b_id) = full_node(&model, &spec, 1, vec![dialable(&model, 0, &a_id)]).await;
    let light_id = NodeIdentity::generate();
    let boot = vec![dialable(&model, 0, &a_id), dialable(&model, 1, &b_id)];
    let light = start_light_with(
        &light_id,
        Arc::new(MemoryHeaderStore::new(&spec.genesis().header).expect("header store")),
        None,
        net_config(&model, &spec, 2, &light_id).with_bootnodes(boot),
    )
    .await
    .expect("light client starts");
    model.partition(&[vec![0, 2], vec![1]]);

    // The light side mines an item into 3 blocks; the other side mines 8.
    let signer = key(3);
    let item = UnsignedItem {
        author: signer.verifying_key(),
        nonce: 0,
        timestamp_ms: spec.genesis_timestamp_ms,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(b"seen by the light side only"),
            label: String::new(),
        }),
    }
    .sign(&signer, spec.network_id);
    a.handle
        .submit_item(item.clone())
        .await
        .expect("handle")
        .expect("pooled");
    for _ in 0..3 {
        a.handle.mine_block().await.expect("handle").expect("mined");
    }
    for _ in 0..8 {
        b.handle.mine_block().await.expect("handle").expect("mined");
    }
    let a_tip = a.handle.tip().expect("tip");
    wait_for("the light client follows its side", || {
        tip(&light) == (a_tip.id, a_tip.height)
    })
    .await;
    let proof = a
        .handle
        .proof(&item.id())
        .expect("store")
        .expect("the item is mined");
    let headers = light.handle.headers().clone();
    let verdict = judge_inclusion(
        &LightHeaders(&*headers),
        spec.network_id,
        &item.id(),
        &proof,
        1,
    )
    .expect("store");
    assert!(verdict.is_in_best_chain(), "{verdict:?}");

    model.heal();
    let b_tip = b.handle.store().tip().expect("tip");
    wait_for("the light client reorgs to the heavier branch", || {
        tip(&light) == (b_tip.id, b_tip.height)
    })
    .await;
    let verdict = judge_inclusion(
        &LightHeaders(&*headers),
        spec.network_id,
        &item.id(),
        &proof,
        1,
    )
    .expect("store");
    assert!(
        matches!(verdict, InclusionVerdict::OffBestChain { height: 1, .. }),
        "{verdict:?}"
    );
    // Headers only: the light client stored exactly the headers of both branches it followed.
    let stats = headers.stats().expect("stats");
    assert_eq!(stats.headers, 1 + 3 + 8, "{stats:?}");

    light.handle.shutdown();
    a.handle.shutdown();
    b.handle.shutdown();
}
