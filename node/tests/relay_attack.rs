//! The header-id poisoning attack over real TCP between real `talos` processes: a victim
//! whose only peer is an attacker that relays every real block, but publishes a copy with a
//! mutated body first, still follows the real chain.
//!
//! The attacker is the simulator's `mutated-body` adversary on a TCP transport, in this test
//! process. It is connected to the miner and the victim; it relays sync between them
//! unchanged and runs Kademlia in client mode, so the victim never learns the miner's address:
//! every block the victim gets comes through the attacker, mutated copy first. Each mutated
//! copy costs its sender (a ban after two), never the block: when the victim bans one
//! identity the attacker comes back under a fresh one, as a real attacker would. Before the
//! fix the first mutated copy was remembered as the verdict on the block id, so the victim
//! refused the real block and every child for good and stayed at genesis.

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::{Cluster, Id, Listen, NodeOptions, TRIVIAL_TARGET, metric_sum, spec_toml};
use libp2p::identity::Keypair;
use talos_chain::NetworkSpec;
use talos_simulator::adversary::{Adversary, AdversaryConfig, AdversaryKind, tcp_transport};

/// Network id of the test network ("TRLY").
const NETWORK_ID: u32 = 0x5452_4c59;

/// Blocks the miner makes while the attacker relays.
const BLOCKS: u64 = 30;

fn metrics(c: &Cluster, id: Id) -> String {
    c.node(id).try_metrics_text().unwrap_or_default()
}

fn bans(c: &Cluster, id: Id) -> f64 {
    metric_sum(&metrics(c, id), &["talos_peers_banned_total"])
}

fn tip(c: &Cluster, id: Id) -> Option<(String, u64)> {
    c.node(id)
        .try_status()
        .ok()
        .map(|s| (s.tip_id, s.tip_height))
}

struct Attacker {
    runtime: tokio::runtime::Runtime,
    config: AdversaryConfig,
    current: Option<Adversary>,
    identities: u64,
    sent: u64,
}

impl Attacker {
    fn new(spec: NetworkSpec, targets: Vec<libp2p::Multiaddr>) -> Self {
        let config = AdversaryConfig {
            kind: AdversaryKind::MutatedBody,
            spec,
            keypair: Keypair::generate_ed25519(),
            transport: tcp_transport(),
            listen: "/ip4/127.0.0.1/tcp/0".parse().expect("address"),
            targets,
            rate_per_s: 0.0,
            seed: 1,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut attacker = Self {
            runtime,
            config,
            current: None,
            identities: 0,
            sent: 0,
        };
        attacker.reappear();
        attacker
    }

    /// Drops the current identity and comes back under a fresh one.
    fn reappear(&mut self) {
        if let Some(old) = self.current.take() {
            self.sent += old.sent();
            self.runtime.block_on(old.stop());
        }
        self.identities += 1;
        let mut config = self.config.clone();
        config.keypair = Keypair::generate_ed25519();
        config.seed = self.identities;
        let _guard = self.runtime.enter();
        self.current = Some(Adversary::spawn(config).expect("attacker starts"));
    }

    fn sent(&self) -> u64 {
        self.sent + self.current.as_ref().map_or(0, Adversary::sent)
    }
}

#[test]
fn a_victim_behind_a_relay_that_mutates_every_block_first_still_follows_the_real_chain() {
    let text = spec_toml("relay", NETWORK_ID, TRIVIAL_TARGET, 1);
    let spec = NetworkSpec::from_toml(&text).expect("spec");
    let mut c = Cluster::new(&text);
    let victim = c.start("victim", NodeOptions::full().listening(Listen::Tcp));
    let miner = c.start(
        "miner",
        NodeOptions::full().listening(Listen::Tcp).mining(false),
    );
    let targets = [miner, victim]
        .iter()
        .map(|&id| c.node(id).tcp_addr().parse().expect("multiaddr"))
        .collect();
    let mut attacker = Attacker::new(spec, targets);
    c.wait_until(
        "the attacker reaches both nodes",
        Duration::from_secs(20),
        |c| {
            c.node(victim).try_peers().is_ok_and(|p| p.len() == 1)
                && c.node(miner).try_peers().is_ok_and(|p| p.len() == 1)
        },
    );
    c.stop(miner);
    c.restart(miner, |o| o.mine = true);

    // The miner mines; every block reaches the victim through the attacker, mutated copy
    // first. A banned identity is replaced at once.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut seen_bans = 0.0;
    while tip(&c, miner).is_none_or(|(_, h)| h < BLOCKS) {
        let b = bans(&c, victim);
        if b > seen_bans {
            seen_bans = b;
            attacker.reappear();
        }
        if Instant::now() > deadline {
            c.fail("the miner did not reach its height with the attacker relaying");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    c.stop(miner);
    c.restart(miner, |o| o.mine = false);
    attacker.reappear();

    // With no new blocks there are no new mutated copies: the attacker's relayed sync lets
    // the victim finish on the miner's tip.
    let (want, height) = tip(&c, miner).expect("miner tip");
    c.wait_until(
        "the victim is on the miner's tip",
        Duration::from_secs(60),
        |c| tip(c, victim).is_some_and(|(id, _)| id == want),
    );
    let victim_metrics = metrics(&c, victim);
    let rejected = metric_sum(&victim_metrics, &["talos_blocks_rejected_total"]);
    let gossip_imports = metric_sum(&victim_metrics, &["talos_blocks_imported_total", "gossip"]);
    let banned = metric_sum(
        &victim_metrics,
        &["talos_peers_banned_total", "invalid_block"],
    );
    c.note(format!(
        "victim at {height}: {rejected} mutated copies rejected, {gossip_imports} real blocks \
         taken from gossip after them, {banned} attacker identities banned of {}, {} copies sent",
        attacker.identities,
        attacker.sent()
    ));
    assert!(height >= BLOCKS);
    assert!(attacker.sent() > 0, "the attacker sent mutated copies");
    assert!(
        rejected >= 1.0,
        "the victim judged mutated copies:\n{victim_metrics}"
    );
    assert!(
        banned >= 1.0,
        "mutated copies cost their sender:\n{victim_metrics}"
    );
    assert!(
        gossip_imports >= 1.0,
        "real blocks relayed after their mutated copy were taken:\n{victim_metrics}"
    );
    // The victim's only peer was the attacker: the miner never connected to it.
    let miner_id = c.node(miner).peer_id.clone();
    assert!(
        c.node(victim)
            .try_peers()
            .is_ok_and(|peers| peers.iter().all(|p| p.peer_id != miner_id))
    );
    drop(attacker);
}
