//! Headers-only mode (a light client over a header store): catch-up without bodies, reorgs,
//! lighter chains that never reach the store, and headers that break a rule.

use talos_chain::testkit::mine;
use talos_chain::{Block, ChainStatus, CompactTarget, Hash256, Work};

use crate::machine::{Misbehaviour, SyncConfig, SyncStatus};
use crate::messages::SyncRequest;
use crate::testkit::{HeaderChain, Net, SimPeer, TestChain};

fn remote(height: usize) -> TestChain {
    let mut chain = TestChain::new();
    chain.extend(height, 0);
    chain
}

fn light(local: HeaderChain) -> Net<HeaderChain> {
    Net::new(local, SyncConfig::default().with_headers_only(true))
}

/// No body was asked of anyone, and no block handed to import.
fn assert_no_bodies(net: &Net<HeaderChain>) {
    for kind in ["blocks_by_range", "blocks_by_hash"] {
        assert!(net.peers_sent(kind).is_empty(), "{kind} requests were sent");
    }
    assert!(net.imports.is_empty(), "blocks handed to import");
}

/// Every height handed over, in order.
fn header_heights(net: &Net<HeaderChain>) -> Vec<u64> {
    net.header_imports
        .iter()
        .flat_map(|(_, heights)| heights.iter().copied())
        .collect()
}

#[test]
fn a_light_client_catches_up_on_a_long_chain_without_asking_for_a_body() {
    let chain = remote(3_000);
    let mut net = light(HeaderChain::new());
    net.connect(1, SimPeer::honest(chain.clone()));
    assert!(net.run(5_000), "settles");

    assert_eq!(net.local.tip_id(), chain.tip_id());
    assert_eq!(net.local.height(), 3_000);
    assert_eq!(net.m.state(), SyncStatus::Idle);
    assert!(net.penalties.is_empty(), "{:?}", net.penalties);
    assert_no_bodies(&net);
    net.assert_imports_in_order();
    assert_eq!(
        header_heights(&net),
        (1..=3_000).collect::<Vec<_>>(),
        "each header once"
    );
    let per_request = SyncConfig::default().headers_per_request as usize;
    assert!(
        net.header_imports
            .iter()
            .all(|(_, h)| h.len() <= per_request)
    );
}

#[test]
fn header_hand_overs_wait_for_room_in_a_small_action_queue() {
    let chain = remote(1_000);
    let config = SyncConfig::default()
        .with_headers_only(true)
        .with_headers_per_request(100)
        .with_max_queued_actions(2);
    let mut net = Net::new(HeaderChain::new(), config);
    net.connect(1, SimPeer::honest(chain.clone()));
    assert!(net.run(5_000), "settles");

    assert_eq!(net.local.tip_id(), chain.tip_id());
    assert!(net.header_imports.iter().all(|(_, h)| h.len() <= 100));
    assert!(net.max_queued <= 4, "queued {}", net.max_queued);
    assert_eq!(header_heights(&net), (1..=1_000).collect::<Vec<_>>());
    assert_no_bodies(&net);
}

#[test]
fn a_light_client_follows_a_heavier_fork() {
    let base = remote(60);
    let fork_point = base.tip_id();
    let mut ours = base.clone();
    ours.extend(40, 1); // height 100
    let mut theirs = base.clone();
    theirs.extend(70, 2); // height 130, heavier
    let mut net = light(HeaderChain::of_best_chain(&ours));
    assert_eq!(net.local.tip_id(), ours.tip_id());
    net.connect(1, SimPeer::honest(theirs.clone()));
    assert!(net.run(2_000), "settles");

    assert_eq!(
        net.local.tip_id(),
        theirs.tip_id(),
        "reorged to the heavier fork"
    );
    assert_eq!(net.local.height(), 130);
    assert_eq!(net.local_id_at(60), Some(fork_point));
    assert_eq!(header_heights(&net), (61..=130).collect::<Vec<_>>());
    assert!(net.penalties.is_empty(), "{:?}", net.penalties);
    assert_no_bodies(&net);
}

#[test]
fn a_header_chain_lighter_than_ours_never_reaches_the_store() {
    // Ours: 60 headers. Theirs: a fork at 20 with 30 more (height 50), claiming far more
    // work than it has.
    let base = remote(20);
    let mut ours = base.clone();
    ours.extend(40, 1);
    let mut lighter = base.clone();
    lighter.extend(30, 9);
    let mut claim: ChainStatus = lighter.status();
    claim.cumulative_work = Work::from_be_slice(&[0xff; 24]).expect("24 bytes");
    let mut liar = SimPeer::honest(lighter.clone());
    liar.status = Some(claim);
    let mut net = light(HeaderChain::of_best_chain(&ours));
    net.connect(1, liar);
    assert!(net.run(2_000), "settles");

    // The fork search went down past the fork point: its 30 headers above it were fetched
    // and checked.
    let reached_fork = net.sent_to(1, "headers_by_range").iter().any(|r| {
        matches!(r, SyncRequest::HeadersByRange { start_height, count }
            if *start_height <= 21 && start_height + u64::from(*count) > 50)
    });
    assert!(reached_fork, "{:?}", net.sent_to(1, "headers_by_range"));
    assert!(net.header_imports.is_empty(), "{:?}", net.header_imports);
    assert!(
        !net.local.contains(&lighter.tip_id()),
        "no header of the lighter fork is stored"
    );
    assert_eq!(net.local.tip_id(), ours.tip_id());
    assert!(net.penalties_of(1).contains(&Misbehaviour::UnbackedClaim));
    assert_no_bodies(&net);
}

/// A 40-block chain, then `bad` as block 41 (mined, not validated), then 20 more on top.
fn chain_with_bad_header_41(edit: impl FnOnce(&mut Block)) -> (TestChain, Hash256) {
    let mut chain = remote(40);
    let mut bad = chain.template_on(&chain.tip_id(), 0);
    edit(&mut bad);
    let bad = mine(bad);
    let bad_id = bad.id();
    chain.insert_unchecked(bad);
    for _ in 0..20 {
        let next = mine(chain.template_on(&chain.tip_id(), 0));
        chain.insert_unchecked(next);
    }
    assert_eq!(chain.height(), 61);
    (chain, bad_id)
}

/// Only headers up to 40 were stored, none of 41 and above.
fn assert_stopped_at_40(net: &Net<HeaderChain>, chain: &TestChain, bad_id: Hash256) {
    assert_eq!(net.local.height(), 40);
    assert!(!net.local.contains(&bad_id));
    for height in 42..=61 {
        let id = chain.block_at(height).map(Block::id).unwrap_or_default();
        assert!(!net.local.contains(&id), "header {height} stored");
    }
    assert_eq!(net.m.state(), SyncStatus::Idle);
    assert_no_bodies(net);
}

#[test]
fn a_header_breaking_the_chain_rules_is_penalized_and_nothing_after_it_is_stored() {
    // Header 41 carries a harder target than the retarget allows: the machine's own checks
    // refuse it; the 40 valid headers before it beat our chain and are stored.
    let (chain, bad_id) =
        chain_with_bad_header_41(|b| b.header.target = CompactTarget(0x2000_ffff));
    let mut net = light(HeaderChain::new());
    net.connect(1, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000), "settles");

    assert!(net.penalties_of(1).contains(&Misbehaviour::WrongHeaders));
    assert!(header_heights(&net).iter().all(|h| *h <= 40));
    assert!(net.import_failures.is_empty(), "never handed over");
    assert_stopped_at_40(&net, &chain, bad_id);
}

#[test]
fn a_header_the_store_refuses_costs_its_peer_and_ends_the_round() {
    // Header 41 has an unknown version: the machine's checks (linkage, work, retarget, time)
    // pass, the header store refuses it. The peer pays, and the round ends there.
    let (chain, bad_id) = chain_with_bad_header_41(|b| b.header.version = 2);
    let mut net = light(HeaderChain::new());
    net.connect(1, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000), "settles");

    assert_eq!(net.import_failures, vec![(1, "unsupported_version")]);
    assert!(net.penalties_of(1).contains(&Misbehaviour::InvalidHeader));
    assert!(!net.penalties_of(1).contains(&Misbehaviour::InvalidBlock));
    assert_stopped_at_40(&net, &chain, bad_id);
    // Its tip is not followed again at once.
    let asked = net.sent_to(1, "headers_by_range").len();
    for _ in 0..10 {
        net.step();
    }
    assert_eq!(net.sent_to(1, "headers_by_range").len(), asked);
}

#[test]
fn an_orphan_notice_asks_for_status_instead_of_fetching_bodies() {
    let chain = remote(5);
    let mut net = light(HeaderChain::of_best_chain(&chain));
    net.connect(1, SimPeer::honest(chain.clone()));
    assert!(net.run(100));
    let statuses = net.sent_to(1, "status").len();
    net.m
        .on_missing_parent(1, Hash256([9; 32]), 9, &net.local, net.now);
    net.step();
    assert_eq!(net.sent_to(1, "status").len(), statuses + 1);
    assert_no_bodies(&net);
    assert_eq!(net.m.orphans_held(), 0);
}
