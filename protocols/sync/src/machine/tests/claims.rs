//! Peers whose claimed work is not backed by their headers: liars that never answer, answer
//! `busy`, or serve a chain lighter than they claim. A node behind always catches up while
//! one honest peer is reachable, and claims alone fetch no bodies.

use std::time::Duration;

use talos_chain::{ChainStatus, Hash256, Work};

use crate::machine::{Misbehaviour, SyncConfig};
use crate::testkit::TestChain;
use crate::testkit::{Behaviour, Net, SimPeer};

fn remote(height: usize) -> TestChain {
    let mut chain = TestChain::new();
    chain.extend(height, 0);
    chain
}

/// `chain`'s status claiming height 1,000,000 and far more work.
fn huge_claim(chain: &TestChain) -> ChainStatus {
    let mut status = chain.status();
    status.tip_height = 1_000_000;
    status.tip_hash = Hash256([0xee; 32]);
    status.cumulative_work = Work::from_be_slice(&[0xff; 24]).expect("24 bytes");
    status
}

fn liar(chain: TestChain, behaviour: Behaviour) -> SimPeer {
    let status = huge_claim(&chain);
    let mut peer = SimPeer::with(chain, behaviour);
    peer.status = Some(status);
    peer
}

/// Steps and lets time pass (500 ms per quiet step) until the local tip is `tip` or
/// `budget` of virtual time is spent; returns the time it took.
fn time_to_reach(net: &mut Net, tip: Hash256, budget: Duration) -> Option<Duration> {
    let start = net.now;
    while net.now - start <= budget {
        if net.local.tip_id() == tip {
            return Some(net.now - start);
        }
        if !net.step() {
            net.advance(Duration::from_millis(500));
        }
    }
    None
}

#[test]
fn a_liar_claiming_the_most_work_that_never_answers_cannot_stall_sync() {
    let honest = remote(200);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, liar(TestChain::new(), Behaviour::Silent));
    net.connect(2, SimPeer::honest(honest.clone()));
    let took = time_to_reach(&mut net, honest.tip_id(), Duration::from_secs(110))
        .expect("caught up with the honest peer while the liar stayed connected");
    // One header request timeout (10 s) and the round goes to the honest peer.
    assert!(took <= Duration::from_secs(15), "took {took:?}");
    let penalties = net.penalties_of(1);
    assert!(penalties.contains(&Misbehaviour::Stalled), "{penalties:?}");
    assert!(net.penalties_of(2).is_empty());
}

#[test]
fn a_liar_answering_busy_loses_the_round_at_once() {
    let honest = remote(100);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, liar(TestChain::new(), Behaviour::Busy));
    net.connect(2, SimPeer::honest(honest.clone()));
    let took =
        time_to_reach(&mut net, honest.tip_id(), Duration::from_secs(30)).expect("caught up");
    assert!(
        took <= Duration::from_secs(1),
        "a busy answer costs no timeout: {took:?}"
    );
    // Busy is no offence (an honest server may be saturated), but it loses the round.
    assert!(net.penalties_of(1).is_empty());
    assert!(
        !net.sent_to(2, "blocks_by_range").is_empty(),
        "the honest peer served it"
    );
}

#[test]
fn a_liar_keeps_losing_rounds_and_only_returns_after_a_growing_back_off() {
    let honest = remote(50);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, liar(TestChain::new(), Behaviour::Silent));
    net.connect(2, SimPeer::honest(honest.clone()));
    time_to_reach(&mut net, honest.tip_id(), Duration::from_secs(30)).expect("caught up");
    // Caught up, the liar still claims more: it is tried again only after its back-off,
    // each time costing it a stalled round.
    for _ in 0..600 {
        if !net.step() {
            net.advance(Duration::from_millis(500));
        }
    }
    let stalls = net
        .penalties_of(1)
        .iter()
        .filter(|m| **m == Misbehaviour::Stalled)
        .count();
    // 300 s: rounds at 0, +10+10, +20+10, +40+10, +80+10, +160 (backoff plus the timeout).
    assert!((3..=6).contains(&stalls), "{stalls} stalled rounds");
    assert_eq!(net.local.tip_id(), honest.tip_id());
}

#[test]
fn a_claim_over_a_chain_lighter_than_ours_fetches_no_bodies() {
    // The liar's real chain is 30 blocks on genesis; ours is 60. It claims far more work.
    let ours = remote(60);
    let mut lighter = TestChain::new();
    lighter.extend(30, 9);
    let mut net = Net::new(ours.clone(), SyncConfig::default());
    net.connect(1, liar(lighter, Behaviour::Honest));
    for _ in 0..200 {
        if !net.step() {
            net.advance(Duration::from_millis(500));
        }
    }
    assert!(
        !net.sent_to(1, "headers_by_range").is_empty(),
        "its headers were checked"
    );
    assert!(
        net.sent_to(1, "blocks_by_range").is_empty(),
        "no body of a chain lighter than ours is fetched"
    );
    // It has no headers above our tip, though it claims to.
    assert!(net.penalties_of(1).contains(&Misbehaviour::UnbackedClaim));
    assert_eq!(net.local.tip_id(), ours.tip_id());
}

#[test]
fn a_heavier_chain_under_a_false_claim_is_still_synced_and_the_claim_costs() {
    // The liar serves the real, heavier chain but claims more than it has: we take the
    // chain (it beats ours) and it pays for the claim.
    let honest = remote(80);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, liar(honest.clone(), Behaviour::Honest));
    time_to_reach(&mut net, honest.tip_id(), Duration::from_secs(30)).expect("synced");
    for _ in 0..20 {
        net.step();
    }
    assert!(net.penalties_of(1).contains(&Misbehaviour::UnbackedClaim));
}
