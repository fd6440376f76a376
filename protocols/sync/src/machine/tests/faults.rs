//! Misbehaving peers: timeouts, empty, junk and mismatching answers, invalid blocks, wrong
//! networks.

use talos_chain::{Block, ChainStatus, CompactTarget, Hash256, Work};

use crate::machine::{DisconnectReason, Misbehaviour, SyncConfig, SyncStatus};
use crate::messages::SyncRequest;
use crate::testkit::TestChain;
use crate::testkit::{Behaviour, Net, SimPeer};
use talos_chain::testkit::mine;

fn remote(height: usize) -> TestChain {
    let mut chain = TestChain::new();
    chain.extend(height, 0);
    chain
}

fn range_starts(requests: &[SyncRequest]) -> Vec<u64> {
    requests
        .iter()
        .filter_map(|r| match r {
            SyncRequest::BlocksByRange { start_height, .. } => Some(*start_height),
            _ => None,
        })
        .collect()
}

#[test]
fn a_range_that_times_out_is_retried_on_another_peer() {
    let chain = remote(200);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::with(chain.clone(), Behaviour::SilentOnBlocks));
    net.connect(2, SimPeer::honest(chain.clone()));
    assert!(net.run(5_000));

    assert_eq!(net.local.tip_id(), chain.tip_id());
    let silent = range_starts(&net.sent_to(1, "blocks_by_range"));
    assert!(!silent.is_empty(), "the silent peer was given ranges");
    let honest = range_starts(&net.sent_to(2, "blocks_by_range"));
    for start in &silent {
        assert!(honest.contains(start), "range {start} retried on peer 2");
    }
    let penalties = net.penalties_of(1);
    assert!(!penalties.is_empty());
    assert!(
        penalties.iter().all(|m| *m == Misbehaviour::Timeout),
        "{penalties:?}"
    );
    assert!(net.penalties_of(2).is_empty());
}

#[test]
fn request_failure_reported_by_the_node_retries_the_range() {
    let chain = remote(64);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::with(chain.clone(), Behaviour::SilentOnBlocks));
    for _ in 0..10 {
        net.step();
    }
    // The node's transport reports each unanswered request as failed (e.g. connection reset).
    let failed: Vec<_> = net.unanswered.drain().collect();
    assert!(!failed.is_empty());
    net.peers.insert(1, SimPeer::honest(chain.clone()));
    for (id, (peer, _)) in failed {
        net.m.on_request_failed(peer, id, net.now);
    }
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), chain.tip_id());
    assert!(
        net.penalties_of(1)
            .iter()
            .all(|m| *m == Misbehaviour::Timeout)
    );
}

#[test]
fn empty_block_answers_are_penalized_and_retried_elsewhere() {
    let chain = remote(100);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::with(chain.clone(), Behaviour::EmptyBlocks));
    net.connect(2, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), chain.tip_id());
    assert!(net.penalties_of(1).contains(&Misbehaviour::EmptyResponse));
    assert!(net.penalties_of(2).is_empty());
}

#[test]
fn shifted_blocks_are_penalized_as_wrong_blocks() {
    let chain = remote(100);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::with(chain.clone(), Behaviour::ShiftedBlocks));
    net.connect(2, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), chain.tip_id());
    assert!(net.penalties_of(1).contains(&Misbehaviour::WrongBlocks));
    assert!(net.penalties_of(2).is_empty());
}

#[test]
fn bodies_that_do_not_match_their_headers_cost_the_server_and_are_fetched_elsewhere() {
    let chain = remote(100);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::with(chain.clone(), Behaviour::MutatedBodies));
    net.connect(2, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), chain.tip_id());
    let mutated = range_starts(&net.sent_to(1, "blocks_by_range"));
    assert!(!mutated.is_empty(), "the mutating peer was given ranges");
    assert!(net.penalties_of(1).contains(&Misbehaviour::MismatchedBody));
    assert!(net.penalties_of(2).is_empty());
    assert!(
        net.import_failures.is_empty(),
        "junk bodies never reach import, so no round is dropped for them"
    );
}

#[test]
fn blocks_of_another_fork_from_a_peer_claiming_the_target_tip_never_reach_import() {
    // A peer whose bodies do not match the accepted headers (it may have reorganised since)
    // is left out of the round without penalty; the round completes from an honest peer.
    let chain = remote(100);
    let mut other = TestChain::new();
    other.extend(100, 7);
    let mut liar = SimPeer::honest(chain.clone());
    liar.range_source = Some(other);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, liar);
    net.connect(2, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), chain.tip_id());
    assert!(!net.penalties_of(1).contains(&Misbehaviour::WrongBlocks));
    assert!(net.penalties_of(2).is_empty());
    assert!(
        net.import_failures.is_empty(),
        "mismatches never reach import"
    );
}

#[test]
fn a_heavier_peer_on_another_fork_is_skipped_without_penalty() {
    // Peer 2 is ahead on another fork; its blocks do not match peer 1's headers. It is not
    // known to be on the round's chain, so it is only left out of the round.
    let mut base = TestChain::new();
    base.extend(10, 0);
    let mut ours = base.clone();
    ours.extend(100, 1);
    let mut theirs = base.clone();
    theirs.extend(150, 2);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::honest(ours.clone()));
    for _ in 0..2 {
        net.step();
    }
    // Peer 1 is now the target; peer 2 arrives with more work on another fork.
    net.connect(2, SimPeer::honest(theirs.clone()));
    assert!(net.run(3_000));
    // Eventually both rounds complete: we end on the heaviest chain.
    assert_eq!(net.local.tip_id(), theirs.tip_id());
    assert!(
        net.penalties.is_empty(),
        "honest peers on different forks are not penalized: {:?}",
        net.penalties
    );
}

#[test]
fn range_answered_with_the_wrong_kind_is_unrequested_data() {
    let chain = remote(80);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::with(chain.clone(), Behaviour::WrongKind));
    net.connect(2, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), chain.tip_id());
    assert!(net.penalties_of(1).contains(&Misbehaviour::UnrequestedData));
}

#[test]
fn headers_that_do_not_link_are_penalized_and_the_target_dropped() {
    let chain = remote(100);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::with(chain.clone(), Behaviour::GappedHeaders));
    assert!(net.run(500));
    assert_eq!(net.penalties_of(1), vec![Misbehaviour::WrongHeaders]);
    assert_eq!(net.local.height(), 0);
    assert_eq!(net.m.state(), SyncStatus::Idle);
    assert!(net.peers_sent("blocks_by_range").is_empty());
    // An honest peer at the same tip is synced from.
    net.connect(2, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), chain.tip_id());
}

#[test]
fn headers_without_work_are_penalized() {
    let mut chain = remote(5);
    // A child of the tip whose header does not meet its own target.
    let mut block = chain.template_on(&chain.tip_id(), 0);
    while block.header.meets_own_target() {
        block.header.nonce += 1;
    }
    chain.insert_unchecked(block);
    // Local holds the first 5 blocks.
    let mut local = TestChain::new();
    for h in 1..=5 {
        local
            .import(chain.block_at(h).cloned().expect("block"))
            .expect("valid");
    }
    let mut net = Net::new(local, SyncConfig::default());
    net.connect(1, SimPeer::honest(chain));
    assert!(net.run(500));
    assert_eq!(net.penalties_of(1), vec![Misbehaviour::WrongHeaders]);
    assert_eq!(net.local.height(), 5);
}

#[test]
fn a_peer_claiming_more_work_with_no_headers_is_penalized_once() {
    let chain = remote(30);
    let mut net = Net::new(chain.clone(), SyncConfig::default());
    let mut liar = SimPeer::with(chain.clone(), Behaviour::EmptyHeaders);
    let mut status = chain.status();
    status.tip_height = 90;
    status.cumulative_work = Work::from_be_slice(&[0xff; 20]).expect("work");
    status.tip_hash = Hash256([0xab; 32]);
    liar.status = Some(status);
    net.connect(1, liar);
    assert!(net.run(500));
    assert_eq!(net.penalties_of(1), vec![Misbehaviour::UnbackedClaim]);
    assert_eq!(net.m.state(), SyncStatus::Idle);
    // The exhausted tip is not chased again on later ticks.
    let asked = net.sent_to(1, "headers_by_range").len();
    net.advance(std::time::Duration::from_secs(5));
    assert!(net.run(500));
    assert_eq!(net.sent_to(1, "headers_by_range").len(), asked);
}

/// `chain` with block 41 replaced by `bad` and 20 blocks on top, none validated.
fn chain_with_bad_block_41(mut bad: Block) -> (TestChain, Hash256) {
    let mut chain = remote(40);
    bad.header.prev_hash = chain.tip_id();
    let bad: Block = mine(bad);
    let bad_id = bad.id();
    chain.insert_unchecked(bad);
    for _ in 0..20 {
        let next = mine(chain.template_on(&chain.tip_id(), 0));
        chain.insert_unchecked(next);
    }
    assert_eq!(chain.height(), 61);
    (chain, bad_id)
}

#[test]
fn a_header_breaking_the_retarget_is_refused_before_its_body_is_fetched() {
    // Block 41 carries a harder target than the retarget allows: its header is well formed,
    // linked and meets its own target, but the chain rules refuse it.
    let base = remote(40);
    let mut bad = base.template_on(&base.tip_id(), 0);
    bad.header.target = CompactTarget(0x2000_ffff);
    let (chain, bad_id) = chain_with_bad_block_41(bad);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000));

    assert_eq!(
        net.local.height(),
        40,
        "the valid headers before it were synced"
    );
    assert!(net.local.get(&bad_id).is_none());
    assert!(net.import_failures.is_empty(), "no body of it was fetched");
    let asked_past_40 = net.sent_to(1, "blocks_by_range").iter().any(|r| {
        matches!(r, SyncRequest::BlocksByRange { start_height, count }
            if start_height + u64::from(*count) > 41)
    });
    assert!(!asked_past_40);
    assert!(net.penalties_of(1).contains(&Misbehaviour::WrongHeaders));
    assert_eq!(net.m.state(), SyncStatus::Idle);
}

#[test]
fn an_invalid_block_is_penalized_heavily_and_its_chain_dropped() {
    // Block 41's header is fine; the item it commits to is signed for another network.
    let base = remote(40);
    let mut bad = base.template_on(&base.tip_id(), 0);
    let k = talos_chain::testkit::key(3);
    let good = talos_chain::testkit::item(&base.spec, &k, 0);
    bad.items = vec![good.item().clone().sign(&k, base.spec.network_id ^ 1)];
    bad.header.item_count = 1;
    bad.header.merkle_root = bad.compute_merkle_root();
    let (chain, bad_id) = chain_with_bad_block_41(bad);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::honest(chain.clone()));
    assert!(net.run(2_000));

    assert_eq!(net.local.height(), 40);
    assert!(net.local.get(&bad_id).is_none());
    assert_eq!(net.import_failures.len(), 1, "{:?}", net.import_failures);
    assert!(net.penalties_of(1).contains(&Misbehaviour::InvalidBlock));
    assert_eq!(net.m.state(), SyncStatus::Idle);
}

#[test]
fn a_peer_on_another_network_is_disconnected() {
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    let mut stranger = SimPeer::honest(remote(10));
    let mut status = stranger.chain.status();
    status.network_id ^= 1;
    stranger.status = Some(status);
    net.connect(1, stranger);
    assert!(net.run(100));
    assert_eq!(net.disconnects, vec![(1, DisconnectReason::WrongNetwork)]);
    assert_eq!(net.m.peer_status(&1), None);
    assert_eq!(net.m.peer_count(), 0);
    assert_eq!(net.local.height(), 0);
}

#[test]
fn a_peer_with_another_genesis_is_disconnected() {
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    let status = ChainStatus {
        genesis_hash: Hash256([7; 32]),
        ..remote(3).status()
    };
    net.m.on_peer_connected(9, net.now);
    net.m.on_status(9, status, &net.local, net.now);
    net.step();
    assert_eq!(net.disconnects, vec![(9, DisconnectReason::WrongNetwork)]);
}

#[test]
fn responses_from_the_wrong_peer_or_unknown_ids_are_ignored() {
    let chain = remote(50);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::honest(chain.clone()));
    net.step();
    // A made-up answer under an id never issued.
    net.m.on_response(
        1,
        crate::machine::RequestId(9_999),
        crate::messages::SyncResponse::Blocks(Vec::new()),
        &net.local,
        net.now,
    );
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), chain.tip_id());
    assert!(net.penalties.is_empty());
}
