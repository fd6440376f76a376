//! Adversaries against real honest nodes (the real `talos-node` code over the memory
//! transport).

use std::sync::Arc;
use std::time::Duration;

use libp2p::core::transport::MemoryTransport;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, Transport};
use talos_chain::NetworkSpec;
use talos_chain_service::ChainServiceConfig;
use talos_network::{InjectedTransport, NetConfig, RawStream, TransportKind};
use talos_node::identity::NodeIdentity;
use talos_node::node::{NodeParts, RunningNode, start_with};
use talos_storage::MemoryStore;

use talos_chain::testkit::easy_spec;

use super::*;

mod proof_liar;

/// How long a test waits for a condition.
const WAIT: Duration = Duration::from_secs(30);

/// A fresh `/memory/<port>` address (the memory transport's ports are process-global).
fn memory_addr() -> Multiaddr {
    let port = (rand::random::<u64>() >> 2) | (1 << 40);
    Multiaddr::empty().with(Protocol::Memory(port))
}

fn memory_transport() -> InjectedTransport {
    InjectedTransport::new("mem", || {
        MemoryTransport::default()
            .map(|s, _| Box::new(s) as Box<dyn RawStream>)
            .boxed()
    })
}

/// A real honest node on `spec`; returns it with its dialable address.
async fn honest_node(spec: &NetworkSpec) -> (RunningNode, Multiaddr) {
    let identity = NodeIdentity::generate();
    let listen = memory_addr();
    let parts = NodeParts {
        store: Arc::new(MemoryStore::new(&spec.genesis()).expect("memory store")),
        chain: ChainServiceConfig::new(spec.clone()),
        net: NetConfig::new(spec.clone(), identity.keypair().clone())
            .with_transport(TransportKind::Memory)
            .with_listen(vec![listen.clone()])
            .with_request_timeout(Duration::from_secs(2)),
    };
    let node = start_with(&identity, parts).await.expect("node starts");
    (node, listen.with(Protocol::P2p(identity.peer_id())))
}

fn config(kind: AdversaryKind, spec: &NetworkSpec, targets: Vec<Multiaddr>) -> AdversaryConfig {
    AdversaryConfig {
        kind,
        spec: spec.clone(),
        keypair: Keypair::generate_ed25519(),
        transport: memory_transport(),
        listen: memory_addr(),
        targets,
        rate_per_s: 20.0,
        seed: 42,
    }
}

/// Sum of every `talos_peers_banned_total` series in the node's metrics.
fn banned_total(node: &RunningNode) -> f64 {
    node.metrics
        .encode()
        .lines()
        .filter(|l| l.starts_with("talos_peers_banned_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Sum of the series of `family` whose labels mention `code`.
fn metric(node: &RunningNode, family: &str, code: &str) -> f64 {
    crate::runner::metric_sum(&node.metrics.encode(), family, code)
}

/// The codes of the bans the node counted.
fn ban_codes(node: &RunningNode) -> Vec<String> {
    node.metrics
        .encode()
        .lines()
        .filter(|l| l.starts_with("talos_peers_banned_total{") && !l.ends_with(" 0"))
        .filter_map(|l| Some(l.split('"').nth(1)?.to_owned()))
        .collect()
}

async fn connected_to(node: &RunningNode, peer: PeerId) -> bool {
    node.handle
        .peers()
        .await
        .map(|peers| peers.iter().any(|p| p.peer_id == peer))
        .unwrap_or(false)
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn stop_node(node: RunningNode) {
    node.handle.shutdown();
    let _ = tokio::time::timeout(WAIT, node.wait()).await;
}

#[test]
fn kinds_have_stable_names() {
    for kind in AdversaryKind::ALL {
        assert_eq!(kind.as_str().parse::<AdversaryKind>().unwrap(), kind);
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
    }
    assert_eq!(AdversaryKind::JunkSync.to_string(), "junk-sync");
    assert_eq!(
        "proof-liar".parse::<AdversaryKind>().unwrap(),
        AdversaryKind::ProofLiar
    );
    assert!("loud".parse::<AdversaryKind>().is_err());
}

#[test]
fn only_light_clients_can_catch_a_proof_liar() {
    let liar = AdversaryKind::ProofLiar;
    assert!(liar.breaks_rules() && !liar.caught_by_full_nodes() && !liar.uses_rate());
    for kind in AdversaryKind::ALL.into_iter().filter(|k| *k != liar) {
        assert_eq!(kind.caught_by_full_nodes(), kind.breaks_rules(), "{kind}");
    }
}

#[tokio::test]
async fn bad_configs_are_refused() {
    let spec = easy_spec();
    let mut flood = config(AdversaryKind::InvalidBlockFlood, &spec, Vec::new());
    flood.rate_per_s = 0.0;
    assert!(matches!(
        Adversary::spawn(flood),
        Err(SimError::Adversary(_))
    ));
    let no_peer = config(AdversaryKind::Silent, &spec, vec![memory_addr()]);
    assert!(matches!(
        Adversary::spawn(no_peer),
        Err(SimError::Adversary(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_block_flood_gets_banned() {
    let spec = easy_spec();
    let (node, addr) = honest_node(&spec).await;
    let adversary = Adversary::spawn(config(AdversaryKind::InvalidBlockFlood, &spec, vec![addr]))
        .expect("adversary starts");
    assert_eq!(adversary.kind(), AdversaryKind::InvalidBlockFlood);
    eventually("the flood is banned", || async {
        banned_total(&node) >= 1.0
    })
    .await;
    assert!(adversary.sent() > 0);
    assert_eq!(adversary.contacted(), 1);
    let codes = ban_codes(&node);
    assert!(
        codes
            .iter()
            .all(|c| ["invalid_block", "gossip_score"].contains(&c.as_str())),
        "{codes:?}"
    );
    let text = node.metrics.encode();
    assert!(
        text.lines()
            .any(|l| l.starts_with("talos_blocks_rejected_total") && !l.ends_with(" 0")),
        "rejections counted:\n{text}"
    );
    eventually("the flood is disconnected", || async {
        !connected_to(&node, adversary.peer_id()).await
    })
    .await;
    adversary.stop().await;
    stop_node(node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_sync_gets_banned() {
    let spec = easy_spec();
    let (node, addr) = honest_node(&spec).await;
    let adversary = Adversary::spawn(config(AdversaryKind::JunkSync, &spec, vec![addr]))
        .expect("adversary starts");
    eventually("the junk syncer is banned", || async {
        banned_total(&node) >= 1.0
    })
    .await;
    assert!(adversary.sent() > 0);
    let codes = ban_codes(&node);
    assert!(
        codes
            .iter()
            .all(|c| ["bad_frame", "wrong_headers", "timeout"].contains(&c.as_str())),
        "{codes:?}"
    );
    eventually("the junk syncer is disconnected", || async {
        !connected_to(&node, adversary.peer_id()).await
    })
    .await;
    // The node still has only genesis.
    assert_eq!(node.handle.tip().expect("tip").height, 0);
    adversary.stop().await;
    stop_node(node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_peer_stays_connected_and_sends_nothing() {
    let spec = easy_spec();
    let (node, addr) = honest_node(&spec).await;
    let adversary = Adversary::spawn(config(AdversaryKind::Silent, &spec, vec![addr]))
        .expect("adversary starts");
    eventually("the silent peer connects", || async {
        connected_to(&node, adversary.peer_id()).await
    })
    .await;
    // Long enough for the node's status request (2 s timeout here) to time out.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(connected_to(&node, adversary.peer_id()).await);
    assert_eq!(banned_total(&node), 0.0);
    assert_eq!(adversary.sent(), 0);
    assert_eq!(adversary.contacted(), 1);
    adversary.stop().await;
    stop_node(node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_flooder_is_answered_busy_then_banned_over_quota() {
    let spec = easy_spec();
    let (node, addr) = honest_node(&spec).await;
    let adversary = Adversary::spawn(config(AdversaryKind::RequestFlooder, &spec, vec![addr]))
        .expect("adversary starts");
    eventually("the flooder is banned", || async {
        banned_total(&node) >= 1.0
    })
    .await;
    assert!(adversary.sent() > 20, "{} requests", adversary.sent());
    assert_eq!(ban_codes(&node), vec!["over_quota".to_owned()]);
    adversary.stop().await;
    stop_node(node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_liar_loses_its_claim_and_is_banned() {
    let spec = easy_spec();
    let (node, addr) = honest_node(&spec).await;
    let adversary = Adversary::spawn(config(AdversaryKind::WorkLiar, &spec, vec![addr]))
        .expect("adversary starts");
    // Each claim costs it when its headers back none of it; a fresh claim is chased only
    // after a doubling back-off, so it never holds sync (ban follows from repeats).
    eventually("the work liar is penalized for its claim", || async {
        metric(&node, "talos_peers_penalized_total", "unbacked_claim") >= 1.0
    })
    .await;
    assert!(adversary.sent() > 0);
    assert_eq!(banned_total(&node), 0.0, "one round is not yet a ban");
    assert_eq!(node.handle.tip().expect("tip").height, 0);
    adversary.stop().await;
    stop_node(node).await;
}
