//! A proof liar against a real light client (the node's own code) over the simulator's link
//! model: the liar is the light client's only bootnode and relays a real full node's sync, so
//! the light client follows the real chain through it and takes it for a full node at the real
//! tip. Its answers to proof requests are then judged with the light client's own rules: a
//! denial of an item the full node proves is a lie, a forged state proof is invalid, and the
//! light client bans it for that.

use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use talos_chain::item::{Revocation, UnsignedItem};
use talos_chain::testkit::key;
use talos_chain::{Hash256, ItemKind, NetworkSpec, SignedItem};
use talos_chain_service::ChainServiceConfig;
use talos_light::{
    Answer, BlockAt, LieKind, StateQuestion, StateVerdict, cross_check_inclusion, judge_inclusion,
    judge_state,
};
use talos_network::light::LightHeaders;
use talos_network::{NetConfig, TransportKind};
use talos_node::identity::NodeIdentity;
use talos_node::light::{RunningLight, start_light_with};
use talos_node::node::{NodeParts, RunningNode, start_with};
use talos_simulator::adversary::{Adversary, AdversaryConfig, AdversaryKind};
use talos_simulator::model::{LinkParams, NetModel};
use talos_simulator::runner::sim_spec;
use talos_storage::{MemoryHeaderStore, MemoryStore};
use talos_sync::{SyncRequest, SyncResponse};

const WAIT: Duration = Duration::from_secs(60);

/// How long the light client gives the liar to answer.
const ASK: Duration = Duration::from_secs(5);

fn link() -> LinkParams {
    LinkParams {
        latency: Duration::from_millis(10),
        jitter: Duration::from_millis(2),
        bandwidth_bytes_per_s: None,
    }
}

fn net_config(model: &NetModel, spec: &NetworkSpec, node: usize, id: &NodeIdentity) -> NetConfig {
    NetConfig::new(spec.clone(), id.keypair().clone())
        .with_transport(TransportKind::Injected(model.transport(node)))
        .with_listen(vec![model.listen_addr(node)])
}

async fn wait_for<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(start.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn revocation(spec: &NetworkSpec, nonce: u64, capability_id: Hash256) -> SignedItem {
    let signer = key(4);
    UnsignedItem {
        author: signer.verifying_key(),
        nonce,
        timestamp_ms: spec.genesis_timestamp_ms,
        kind: ItemKind::Revocation(Revocation {
            capability_id,
            reason: "compromised".into(),
        }),
    }
    .sign(&signer, spec.network_id)
}

/// A full node (model node 0) with three blocks, the first revoking `capability`; returns it,
/// its dialable address and the revocation's id.
async fn full_node(
    model: &NetModel,
    spec: &NetworkSpec,
    capability: Hash256,
) -> (RunningNode, Multiaddr, Hash256) {
    let id = NodeIdentity::generate();
    let parts = NodeParts {
        store: Arc::new(MemoryStore::new(&spec.genesis()).expect("memory store")),
        chain: ChainServiceConfig::new(spec.clone()),
        net: net_config(model, spec, 0, &id),
    };
    let node = start_with(&id, parts).await.expect("full node starts");
    let item = revocation(spec, 0, capability);
    node.handle
        .submit_item(item.clone())
        .await
        .expect("handle")
        .expect("pooled");
    for _ in 0..3 {
        node.handle
            .mine_block()
            .await
            .expect("handle")
            .expect("mined");
    }
    let addr = model.listen_addr(0).with(Protocol::P2p(id.peer_id()));
    (node, addr, item.id())
}

/// A light client (model node 2) whose only bootnode is `boot`.
async fn light_client(model: &NetModel, spec: &NetworkSpec, boot: Multiaddr) -> RunningLight {
    let id = NodeIdentity::generate();
    start_light_with(
        &id,
        Arc::new(MemoryHeaderStore::new(&spec.genesis().header).expect("header store")),
        None,
        net_config(model, spec, 2, &id).with_bootnodes(vec![boot]),
    )
    .await
    .expect("light client starts")
}

/// The tip height the light client holds for `peer` from its status, if connected.
async fn advertised_height(light: &RunningLight, peer: PeerId) -> Option<u64> {
    let peers = light.handle.net().peers().await.ok()?;
    peers.into_iter().find(|p| p.peer_id == peer)?.tip_height
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_light_client_follows_the_chain_through_a_proof_liar_and_catches_its_lies() {
    let spec = sim_spec(1);
    let model = NetModel::new(11, link());
    let capability = Hash256::sha256(b"a compromised capability");
    let (full, full_addr, item) = full_node(&model, &spec, capability).await;
    let liar = Adversary::spawn(AdversaryConfig {
        kind: AdversaryKind::ProofLiar,
        spec: spec.clone(),
        keypair: Keypair::generate_ed25519(),
        transport: model.transport(1),
        listen: model.listen_addr(1),
        targets: vec![full_addr],
        rate_per_s: 0.0,
        seed: 5,
    })
    .expect("the liar starts");
    let liar_addr = liar.listening(WAIT).await.pop().expect("the liar listens");
    wait_for("the liar reaches the full node", || async {
        liar.contacted() == 1
    })
    .await;
    let light = light_client(&model, &spec, liar_addr).await;

    // Headers and status come through the liar: the light client is on the full node's tip
    // and takes the liar for a full node there.
    let tip = full.handle.tip().expect("tip");
    wait_for("the light client is on the full node's tip", || async {
        light.handle.tip().is_ok_and(|t| t.id == tip.id)
    })
    .await;
    wait_for("the liar advertises the full node's tip", || async {
        advertised_height(&light, liar.peer_id()).await == Some(tip.height)
    })
    .await;

    let headers = light.handle.headers().clone();
    let source = LightHeaders(&*headers);
    // An item proof: the full node proves it, the liar denies it, a lie by the light client's
    // own cross-check.
    let proof = full.handle.proof(&item).expect("store").expect("mined");
    let proven = judge_inclusion(&source, spec.network_id, &item, &proof, 1).expect("judged");
    let net = light.handle.net();
    let denial = net
        .ask(liar.peer_id(), SyncRequest::Proof(item), ASK)
        .await
        .expect("the liar answers");
    assert_eq!(denial, SyncResponse::Proof(None));
    let answers = [
        (0, Answer::Judged(proven)),
        (
            1,
            Answer::NotFound {
                peer_height: Some(tip.height),
            },
        ),
    ];
    let check = cross_check_inclusion(&answers);
    assert_eq!(check.liars.len(), 1, "{check:?}");
    assert_eq!(
        (check.liars[0].peer, check.liars[0].kind),
        (1, LieKind::DeniedProvenItem)
    );

    // A state proof at the tip: forged, so invalid by the light client's rules.
    let question = StateQuestion::Revoked {
        capability_id: capability,
    };
    let request = SyncRequest::StateProof {
        block: tip.id,
        key: question.key(),
    };
    let SyncResponse::StateProof(Some(answer)) = net
        .ask(liar.peer_id(), request, ASK)
        .await
        .expect("the liar answers")
    else {
        panic!("a state answer");
    };
    let at = BlockAt {
        id: tip.id,
        height: tip.height,
    };
    let verdict = judge_state(&source, &question, at, &answer).expect("judged");
    let StateVerdict::Invalid(reason) = verdict else {
        panic!("a forged proof must not hold: {verdict:?}");
    };
    assert_eq!(liar.sent(), 2, "one denial, one forgery");

    // Reported, the forgery is a ban at once.
    net.report_lie(liar.peer_id(), LieKind::InvalidProof(reason.code()))
        .await;
    wait_for("the light client bans the liar", || async {
        net.banned()
            .await
            .is_ok_and(|banned| banned.contains(&liar.peer_id()))
    })
    .await;
    // The full node had nothing to ban it for.
    let banned = full.handle.banned_peers().await.expect("handle");
    assert!(!banned.contains(&liar.peer_id()));
    liar.stop().await;
    light.handle.shutdown();
    full.handle.shutdown();
}
