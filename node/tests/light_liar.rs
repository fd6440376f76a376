//! A light client behind a lying full node detects the lie when an honest node is reachable:
//! real `talos run` processes over loopback TCP, and the simulator's `proof-liar` adversary in
//! this test process. The liar relays everything else to the miner, so it looks like a full
//! node at the real tip; it denies every item ("not found") and serves forged state proofs.

mod cluster_support;

use std::time::Duration;

use cluster_support::{Cluster, Id, NodeOptions, TRIVIAL_TARGET, metric_sum, spec_toml};
use libp2p::identity::Keypair;
use talos_api::light::LightAnswerJson;
use talos_api::types::{ItemStatusJson, SubmitRequest, SubmitResponse};
use talos_chain::item::{Anchor, ItemKind, UnsignedItem};
use talos_chain::{Hash256, NetworkSpec, SigningKey};
use talos_simulator::adversary::{Adversary, AdversaryConfig, AdversaryKind, tcp_transport};

/// Network id of the test network ("TLIE").
const NETWORK_ID: u32 = 0x544c_4945;

const WAIT: Duration = Duration::from_secs(60);

fn liars(answer: &LightAnswerJson) -> Vec<(String, String)> {
    answer
        .liars
        .iter()
        .map(|l| (l.peer_id.clone(), l.lie.clone()))
        .collect()
}

fn ask(c: &Cluster, light: Id, path: &str) -> LightAnswerJson {
    c.node(light)
        .get_json(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The proof liar, relaying to `target` (a multiaddr ending in `/p2p/<id>`); its PeerId.
fn spawn_liar(
    runtime: &tokio::runtime::Runtime,
    spec: NetworkSpec,
    target: String,
) -> (Adversary, String) {
    let keypair = Keypair::generate_ed25519();
    let liar_id = keypair.public().to_peer_id().to_string();
    let config = AdversaryConfig {
        kind: AdversaryKind::ProofLiar,
        spec,
        keypair,
        transport: tcp_transport(),
        listen: "/ip4/127.0.0.1/tcp/0".parse().expect("address"),
        targets: vec![target.parse().expect("multiaddr")],
        rate_per_s: 0.0,
        seed: 7,
    };
    let _guard = runtime.enter();
    (Adversary::spawn(config).expect("the liar starts"), liar_id)
}

/// Signs an anchor item and submits it to `to`.
fn submit_anchor(c: &Cluster, to: Id) -> talos_chain::SignedItem {
    let key = SigningKey::from_bytes(&[9; 32]);
    let item = UnsignedItem {
        author: key.verifying_key(),
        nonce: 0,
        timestamp_ms: 1_767_225_600_000,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(b"an agent's act"),
            label: String::new(),
        }),
    }
    .sign(&key, NETWORK_ID);
    let body = SubmitRequest {
        item: hex::encode(talos_chain::wire::encode_item(&item)),
    };
    let _: SubmitResponse = c.node(to).post_json("/v1/items", &body).expect("submit");
    item
}

#[test]
fn a_light_client_names_and_penalizes_the_full_node_that_lied() {
    let text = spec_toml("liar", NETWORK_ID, TRIVIAL_TARGET, 1);
    let spec = NetworkSpec::from_toml(&text).expect("spec");
    let mut c = Cluster::new(&text);
    let miner = c.start("miner", NodeOptions::full().mining(true));
    let honest = c.start("honest", NodeOptions::full().bootnode(c.node(miner).addr()));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (liar, liar_id) = spawn_liar(&runtime, spec, c.node(miner).tcp_addr());
    let liar_addr = runtime
        .block_on(liar.listening(Duration::from_secs(10)))
        .into_iter()
        .next()
        .expect("the liar listens");
    c.wait_until("the liar reaches the miner", WAIT, |_| {
        liar.contacted() >= 1
    });
    let light = c.start(
        "light",
        NodeOptions::light()
            .bootnode(liar_addr.to_string())
            .bootnode(c.node(honest).addr()),
    );
    c.wait_until(
        "the light client follows the liar and the honest node",
        WAIT,
        |c| {
            let peers = c.node(light).try_peers().unwrap_or_default();
            let with_tip = |id: &str| {
                peers
                    .iter()
                    .any(|p| p.peer_id == id && p.tip_height.is_some())
            };
            with_tip(&liar_id)
                && with_tip(&c.node(honest).peer_id)
                && c.node(light).height() > Some(3)
        },
    );

    // An item the honest node proves and the liar denies.
    let item = submit_anchor(&c, miner);
    let path = format!("/v1/items/{}", item.id().to_hex());
    c.wait_until("the item is mined and everyone is past it", WAIT, |c| {
        let Ok(status) = c.node(miner).get_json::<ItemStatusJson>(&path) else {
            return false;
        };
        status.location.is_some_and(|l| {
            [light, honest]
                .iter()
                .all(|&n| c.node(n).height().is_some_and(|h| h > l.height + 1))
        })
    });
    let answer = ask(
        &c,
        light,
        &format!("/v1/light/verify/{}", item.id().to_hex()),
    );
    assert_eq!(answer.outcome, "verified", "{answer:?}");
    // Proven by an honest node (the light client may also have found the miner itself).
    assert!(answer.proven_by.is_some(), "{answer:?}");
    assert_ne!(answer.proven_by.as_deref(), Some(liar_id.as_str()));
    assert!(
        liars(&answer).contains(&(liar_id.clone(), "denied_proven_item".into())),
        "{answer:?}"
    );

    // A forged state proof: still a valid answer from the honest node, the liar named.
    let revoked = ask(
        &c,
        light,
        &format!("/v1/light/revoked/{}", Hash256::sha256(b"cap").to_hex()),
    );
    assert_eq!(revoked.outcome, "not_revoked", "{revoked:?}");
    assert!(
        liars(&revoked).contains(&(liar_id.clone(), "invalid_proof".into())),
        "{revoked:?}"
    );
    // Lying costs: the light client bans the liar (a forged proof is 100 points, a denial 50).
    c.wait_until("the light client bans the liar", WAIT, |c| {
        let text = c.node(light).try_metrics_text().unwrap_or_default();
        metric_sum(&text, &["talos_peers_banned_total"]) >= 1.0
    });
    runtime.block_on(liar.stop());
}
