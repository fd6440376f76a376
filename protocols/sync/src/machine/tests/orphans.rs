//! Orphans from gossip: ancestors fetched by hash, then imported oldest first.

use talos_chain::Hash256;

use crate::machine::{Action, Misbehaviour, SyncConfig, SyncMachine};
use crate::messages::{SyncRequest, SyncResponse};
use crate::testkit::TestChain;
use crate::testkit::{Net, SimPeer};

/// Local and the peer at 50 with statuses exchanged; then the peer mines 5 more blocks whose
/// announcements we missed, so its stored status is stale and range sync does not start.
fn setup(config: SyncConfig) -> (Net, TestChain) {
    let mut local = TestChain::new();
    local.extend(50, 0);
    let mut net = Net::new(local.clone(), config);
    net.connect(1, SimPeer::honest(local.clone()));
    assert!(net.run(100));
    let mut remote = local;
    remote.extend(5, 0);
    net.peers.insert(1, SimPeer::honest(remote.clone()));
    (net, remote)
}

/// A machine at genesis with peer 4 connected at the same status.
fn machine_with_peer() -> (SyncMachine<u8>, TestChain, std::time::Instant) {
    let local = TestChain::new();
    let now = std::time::Instant::now();
    let mut m = SyncMachine::new(SyncConfig::default(), local.status());
    m.on_peer_connected(4, now);
    let Some(Action::Send { id, .. }) = m.poll_action() else {
        panic!("expected a status request");
    };
    m.on_response(4, id, SyncResponse::Status(local.status()), &local, now);
    assert_eq!(m.poll_action(), None);
    (m, local, now)
}

#[test]
fn orphan_parents_are_fetched_by_hash_then_imported_oldest_first() {
    let (mut net, remote) = setup(SyncConfig::default());
    // Block 55 arrived by gossip; its parent 54 is unknown.
    let parent = remote.block_at(54).expect("block").id();
    net.m.on_missing_parent(1, parent, 54, &net.local, net.now);
    for _ in 0..10 {
        net.step();
    }
    let hashes: Vec<SyncRequest> = net.sent_to(1, "blocks_by_hash");
    let expected: Vec<SyncRequest> = (51..=54)
        .rev()
        .map(|h| SyncRequest::BlocksByHash(vec![remote.block_at(h).expect("block").id()]))
        .collect();
    assert_eq!(hashes, expected, "walked back one parent at a time");
    assert_eq!(net.imports, vec![(1, vec![51, 52, 53, 54])]);
    assert_eq!(net.local.height(), 54);
    assert_eq!(net.local.tip_id(), parent);
    assert!(net.penalties.is_empty());
    assert!(net.peers_sent("blocks_by_range").is_empty());
    assert_eq!(net.m.orphans_held(), 0);
}

#[test]
fn a_known_parent_or_a_duplicate_fetch_sends_nothing() {
    let (mut net, remote) = setup(SyncConfig::default());
    let known = net.local.tip_id();
    net.m.on_missing_parent(1, known, 50, &net.local, net.now);
    assert_eq!(net.m.poll_action(), None);
    let parent = remote.block_at(54).expect("block").id();
    net.m.on_missing_parent(1, parent, 54, &net.local, net.now);
    net.m.on_missing_parent(1, parent, 54, &net.local, net.now);
    let mut sends = 0;
    while let Some(action) = net.m.poll_action() {
        assert!(matches!(action, Action::Send { .. }));
        sends += 1;
    }
    assert_eq!(sends, 1);
}

#[test]
fn a_wrong_block_for_an_orphan_parent_is_penalized() {
    let (mut m, local, now) = machine_with_peer();
    let mut other = TestChain::new();
    let blocks = other.extend(3, 0);
    let want = Hash256([5; 32]);
    m.on_missing_parent(4u8, want, 1, &local, now);
    let Some(Action::Send { peer, id, .. }) = m.poll_action() else {
        panic!("expected a request");
    };
    m.on_response(
        peer,
        id,
        SyncResponse::Blocks(vec![blocks[0].clone()]),
        &local,
        now,
    );
    assert_eq!(
        m.poll_action(),
        Some(Action::Penalize {
            peer: 4,
            misbehaviour: Misbehaviour::UnrequestedData
        })
    );
    assert_eq!(m.orphans_held(), 0);
    assert_eq!(m.requests_in_flight(), 0);
}

#[test]
fn an_empty_answer_for_an_orphan_parent_is_penalized() {
    let (mut m, local, now) = machine_with_peer();
    m.on_missing_parent(4u8, Hash256([5; 32]), 1, &local, now);
    let Some(Action::Send { peer, id, .. }) = m.poll_action() else {
        panic!("expected a request");
    };
    m.on_response(peer, id, SyncResponse::Blocks(Vec::new()), &local, now);
    assert_eq!(
        m.poll_action(),
        Some(Action::Penalize {
            peer: 4,
            misbehaviour: Misbehaviour::EmptyResponse
        })
    );
}

#[test]
fn a_gap_deeper_than_the_orphan_bound_is_left_to_range_sync() {
    let (mut net, mut remote) = setup(SyncConfig::default().with_max_orphans(4));
    remote.extend(25, 0); // 30 blocks ahead of us in all
    net.peers.insert(1, SimPeer::honest(remote.clone()));
    let parent = remote.block_at(79).expect("block").id();
    net.m.on_missing_parent(1, parent, 79, &net.local, net.now);
    assert!(net.run(2_000));

    assert_eq!(
        net.sent_to(1, "blocks_by_hash").len(),
        4,
        "walked back at most 4"
    );
    assert!(
        !net.peers_sent("blocks_by_range").is_empty(),
        "range sync took over"
    );
    assert_eq!(net.local.tip_id(), remote.tip_id());
    assert_eq!(net.m.orphans_held(), 0);
    assert!(net.penalties.is_empty());
}

#[test]
fn orphan_fetches_are_bounded() {
    let mut m = SyncMachine::new(
        SyncConfig::default().with_max_orphan_fetches(2),
        TestChain::new().status(),
    );
    let local = TestChain::new();
    let now = std::time::Instant::now();
    for i in 0..5u8 {
        m.on_peer_connected(i, now);
        m.on_missing_parent(i, Hash256([i + 1; 32]), 1, &local, now);
    }
    let mut by_hash = 0;
    while let Some(action) = m.poll_action() {
        if let Action::Send {
            request: SyncRequest::BlocksByHash(_),
            ..
        } = action
        {
            by_hash += 1;
        }
    }
    assert_eq!(by_hash, 2);
}

#[test]
fn an_orphan_chain_too_light_to_become_best_is_not_imported() {
    let mut local = TestChain::new();
    local.extend(50, 0);
    let mut net = Net::new(local.clone(), SyncConfig::default());
    // The peer's fork leaves our chain at 20 and is 15 blocks long: 15 blocks of work behind
    // our tip, past the side-branch margin of 8.
    let mut peer_chain = local.clone();
    let fork_point = local.block_at(20).expect("block").id();
    let fork = peer_chain.mine_on(fork_point, 15, 3);
    net.connect(1, SimPeer::honest(peer_chain));
    assert!(net.run(100));
    let orphan_parent = fork[13].id();
    net.m.on_missing_parent(
        1,
        orphan_parent,
        fork[13].header.height,
        &net.local,
        net.now,
    );
    for _ in 0..40 {
        net.step();
    }
    assert_eq!(
        net.sent_to(1, "blocks_by_hash").len(),
        14,
        "walked back to the fork"
    );
    assert!(net.imports.is_empty(), "{:?}", net.imports);
    assert_eq!(net.m.orphans_held(), 0);
    assert_eq!(net.local.tip_id(), local.tip_id());
}

#[test]
fn notices_about_peers_that_left_recreate_no_state() {
    let (mut m, local, now) = machine_with_peer();
    m.on_peer_disconnected(4);
    assert_eq!(m.peer_count(), 0);
    m.on_missing_parent(4, Hash256([7; 32]), 3, &local, now);
    m.on_status(4, local.status(), &local, now);
    assert_eq!(m.peer_count(), 0, "no state for a peer that is gone");
    assert_eq!(m.poll_action(), None, "and nothing is sent to it");
}
