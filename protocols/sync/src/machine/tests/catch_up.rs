//! Honest catch-up: one peer, several peers, a heavier fork, a growing target.

use std::time::Duration;

use crate::machine::{SyncConfig, SyncStatus};
use crate::messages::SyncRequest;
use crate::testkit::TestChain;
use crate::testkit::{Behaviour, Net, SimPeer};

#[test]
fn linear_catch_up_of_500_blocks_from_one_peer() {
    let mut remote = TestChain::new();
    remote.extend(500, 0);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::honest(remote.clone()));

    assert!(net.run(2_000), "settles");
    assert_eq!(net.local.height(), 500);
    assert_eq!(net.local.tip_id(), remote.tip_id());
    assert!(net.penalties.is_empty(), "{:?}", net.penalties);
    assert_eq!(net.m.state(), SyncStatus::Idle);
    net.assert_imports_in_order();
    // Headers first: the first header request starts just above our tip.
    assert_eq!(
        net.sent_to(1, "headers_by_range").first(),
        Some(&SyncRequest::HeadersByRange {
            start_height: 1,
            count: 500
        })
    );
    // Every block was downloaded once, in ranges of at most 32.
    let ranges = net.sent_to(1, "blocks_by_range");
    let total: u64 = ranges
        .iter()
        .map(|r| match r {
            SyncRequest::BlocksByRange { count, .. } => u64::from(*count),
            _ => 0,
        })
        .sum();
    assert_eq!(total, 500);
    assert!(
        ranges
            .iter()
            .all(|r| matches!(r, SyncRequest::BlocksByRange { count, .. } if *count <= 32))
    );
}

#[test]
fn catch_up_from_three_peers_spreads_ranges_over_all_of_them() {
    let mut remote = TestChain::new();
    remote.extend(300, 0);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    for id in 1..=3 {
        net.connect(id, SimPeer::honest(remote.clone()));
    }

    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), remote.tip_id());
    assert!(net.penalties.is_empty(), "{:?}", net.penalties);
    let served = net.peers_sent("blocks_by_range");
    assert_eq!(served.len(), 3, "ranges went to {served:?}");
    assert!(
        net.max_parallel_peers >= 2,
        "at most {} peers at once",
        net.max_parallel_peers
    );
    // Only one peer was asked for headers: the round's target.
    assert_eq!(net.peers_sent("headers_by_range").len(), 1);
    net.assert_imports_in_order();
}

#[test]
fn per_peer_in_flight_limit_is_respected() {
    let mut remote = TestChain::new();
    remote.extend(200, 0);
    let config = SyncConfig::default().with_max_in_flight_per_peer(1);
    let mut net = Net::new(TestChain::new(), config);
    net.connect(1, SimPeer::honest(remote.clone()));
    net.connect(2, SimPeer::honest(remote.clone()));
    // Drain one batch of actions by hand: no peer gets two header/block requests at once.
    for _ in 0..50 {
        let mut per_peer = std::collections::HashMap::<u8, usize>::new();
        let before = net.sent.len();
        net.step();
        for (peer, request) in &net.sent[before..] {
            if !matches!(request, SyncRequest::Status(_)) {
                *per_peer.entry(*peer).or_default() += 1;
            }
        }
        assert!(per_peer.values().all(|n| *n <= 1), "{per_peer:?}");
    }
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), remote.tip_id());
}

#[test]
fn reorg_to_a_heavier_fork_finds_the_fork_point() {
    let mut base = TestChain::new();
    base.extend(60, 0);
    let mut local = base.clone();
    local.extend(40, 1); // ours: 60 shared + 40 = height 100
    let mut remote = base.clone();
    remote.extend(70, 2); // theirs: 60 shared + 70 = height 130, more work
    let fork_point = base.tip_id();

    let mut net = Net::new(local.clone(), SyncConfig::default());
    net.connect(1, SimPeer::honest(remote.clone()));
    assert!(net.run(2_000));

    assert_eq!(
        net.local.tip_id(),
        remote.tip_id(),
        "reorged to the heavier fork"
    );
    assert_eq!(net.local.height(), 130);
    assert_eq!(net.local_id_at(60), Some(fork_point));
    assert!(net.penalties.is_empty(), "{:?}", net.penalties);
    // The fork search stepped back exponentially from our tip.
    let starts: Vec<u64> = net
        .sent_to(1, "headers_by_range")
        .iter()
        .map(|r| match r {
            SyncRequest::HeadersByRange { start_height, .. } => *start_height,
            _ => 0,
        })
        .collect();
    assert_eq!(
        &starts[..8],
        &[101, 100, 99, 97, 93, 85, 69, 37],
        "{starts:?}"
    );
    // Only blocks past the fork point were downloaded.
    let lowest = net
        .sent_to(1, "blocks_by_range")
        .iter()
        .filter_map(|r| match r {
            SyncRequest::BlocksByRange { start_height, .. } => Some(*start_height),
            _ => None,
        })
        .min();
    assert_eq!(lowest, Some(61));
    net.assert_imports_in_order();
}

#[test]
fn a_lighter_fork_is_not_followed() {
    let mut base = TestChain::new();
    base.extend(20, 0);
    let mut local = base.clone();
    local.extend(30, 1);
    let mut remote = base.clone();
    remote.extend(10, 2);
    let mut net = Net::new(local.clone(), SyncConfig::default());
    net.connect(1, SimPeer::honest(remote));
    assert!(net.run(200));
    assert_eq!(net.local.tip_id(), local.tip_id());
    assert!(net.peers_sent("headers_by_range").is_empty());
}

#[test]
fn nothing_in_flight_when_nobody_is_ahead() {
    let mut chain = TestChain::new();
    chain.extend(25, 0);
    let mut net = Net::new(chain.clone(), SyncConfig::default());
    net.connect(1, SimPeer::honest(chain.clone()));
    net.connect(2, SimPeer::honest(chain.clone()));
    assert!(net.run(200));
    net.advance(Duration::from_secs(5));
    assert!(net.run(200));

    assert_eq!(net.m.state(), SyncStatus::Idle);
    assert_eq!(net.m.requests_in_flight(), 0);
    assert!(
        net.sent
            .iter()
            .all(|(_, r)| matches!(r, SyncRequest::Status(_))),
        "{:?}",
        net.sent
    );
    assert_eq!(net.m.peer_status(&1), Some(chain.status()));
}

#[test]
fn target_that_grows_during_sync_is_followed_to_its_new_tip() {
    let mut remote = TestChain::new();
    remote.extend(120, 0);
    let mut net = Net::new(TestChain::new(), SyncConfig::default().with_window(64));
    net.connect(1, SimPeer::honest(remote.clone()));
    while net.local.height() == 0 {
        assert!(net.step());
    }
    assert_eq!(
        net.m.state(),
        SyncStatus::Syncing { target_height: 120 },
        "{} imported",
        net.local.height()
    );
    // The peer mines 40 more and tells us (as on a periodic status exchange).
    remote.extend(40, 0);
    net.peers.insert(1, SimPeer::honest(remote.clone()));
    let status = remote.status();
    net.m.on_status(1, status, &net.local, net.now);
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), remote.tip_id());
    assert_eq!(net.local.height(), 160);
    assert!(net.penalties.is_empty());
}

#[test]
fn downloads_stay_within_the_window_until_imports_are_confirmed() {
    let mut remote = TestChain::new();
    remote.extend(300, 0);
    let config = SyncConfig::default()
        .with_window(64)
        .with_blocks_per_request(16);
    let mut net = Net::new(TestChain::new(), config);
    net.hold_imports = true;
    net.connect(1, SimPeer::honest(remote.clone()));
    for _ in 0..200 {
        net.step();
    }
    let handed: usize = net.held.iter().map(|(_, b)| b.len()).sum();
    assert_eq!(handed, 64, "exactly one window handed to import");
    assert!(matches!(net.m.state(), SyncStatus::Syncing { .. }));
    assert_eq!(net.m.requests_in_flight(), 0, "nothing more asked");

    net.hold_imports = false;
    net.release_held();
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), remote.tip_id());
}

#[test]
fn a_small_output_queue_still_syncs_and_stays_bounded() {
    let mut remote = TestChain::new();
    remote.extend(150, 0);
    let config = SyncConfig::default().with_max_queued_actions(2);
    let mut net = Net::new(TestChain::new(), config);
    for id in 1..=3 {
        net.connect(id, SimPeer::honest(remote.clone()));
    }
    assert!(net.run(5_000));
    assert_eq!(net.local.tip_id(), remote.tip_id());
    assert!(net.max_queued <= 4, "queue reached {}", net.max_queued);
}

#[test]
fn disconnect_of_the_target_mid_sync_moves_on_to_another_peer() {
    let mut remote = TestChain::new();
    remote.extend(200, 0);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::honest(remote.clone()));
    net.connect(2, SimPeer::honest(remote.clone()));
    for _ in 0..4 {
        net.step();
    }
    net.disconnect(1);
    net.disconnect(2);
    net.connect(3, SimPeer::honest(remote.clone()));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), remote.tip_id());
    assert!(net.penalties.is_empty());
}

#[test]
fn imports_dropped_by_the_pipeline_are_fetched_again_after_the_import_timeout() {
    let mut remote = TestChain::new();
    remote.extend(100, 0);
    let config = SyncConfig::default().with_window(32);
    let mut net = Net::new(TestChain::new(), config.clone());
    net.hold_imports = true;
    net.connect(1, SimPeer::honest(remote.clone()));
    for _ in 0..50 {
        net.step();
    }
    assert_eq!(net.held.iter().map(|(_, b)| b.len()).sum::<usize>(), 32);
    // The pipeline lost them (queue full): nothing is ever stored.
    net.held.clear();
    net.hold_imports = false;
    net.advance(config.import_timeout - Duration::from_secs(1));
    assert_eq!(net.sent_to(1, "headers_by_range").len(), 1, "still waiting");
    net.advance(Duration::from_secs(1));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), remote.tip_id());
    assert_eq!(
        net.sent_to(1, "headers_by_range").len(),
        2,
        "round restarted once"
    );
    assert!(net.penalties.is_empty());
}

#[test]
fn short_answers_are_continued_not_taken_as_the_end() {
    // A responder may send fewer headers or blocks than asked; sync goes on from where each
    // answer stopped, without penalty.
    let mut remote = TestChain::new();
    remote.extend(90, 0);
    let mut net = Net::new(TestChain::new(), SyncConfig::default());
    net.connect(1, SimPeer::with(remote.clone(), Behaviour::Capped));
    assert!(net.run(2_000));
    assert_eq!(net.local.tip_id(), remote.tip_id());
    assert!(net.penalties.is_empty(), "{:?}", net.penalties);
    let starts: Vec<u64> = net
        .sent_to(1, "headers_by_range")
        .iter()
        .map(|r| match r {
            SyncRequest::HeadersByRange { start_height, .. } => *start_height,
            _ => 0,
        })
        .collect();
    assert_eq!(starts, vec![1, 26, 51, 76]);
    assert!(net.imports.iter().all(|(_, heights)| heights.len() <= 5));
    net.assert_imports_in_order();
}

#[test]
fn a_reorg_announces_the_new_tip_to_every_peer_and_an_extension_does_not() {
    let mut local = TestChain::new();
    let fork = local.extend(5, 1);
    let mut net = Net::new(local.clone(), SyncConfig::default());
    net.connect(1, SimPeer::honest(local.clone()));
    net.connect(2, SimPeer::honest(local.clone()));
    assert!(net.run(200));
    let statuses = |net: &Net| net.sent_to(1, "status").len() + net.sent_to(2, "status").len();
    let before = statuses(&net);
    // One more block on the tip: peers learn it from gossip, no status is pushed.
    net.local.extend(1, 2);
    let now = net.now;
    net.m.on_local_tip_changed(&net.local, now, false);
    assert!(net.run(200));
    assert_eq!(statuses(&net), before, "an extension pushes no status");
    // A heavier branch from block 3 replaces the tip: both peers are told at once.
    let base = fork[2].id();
    net.local.mine_on(base, 5, 3);
    assert_ne!(net.local.tip_id(), fork[4].id());
    net.m.on_local_tip_changed(&net.local, now, true);
    assert!(net.run(200));
    assert_eq!(statuses(&net), before + 2);
    // Another reorg within the gap is not announced again.
    net.local.mine_on(base, 7, 4);
    net.m.on_local_tip_changed(&net.local, now, true);
    assert!(net.run(200));
    assert_eq!(statuses(&net), before + 2, "one announcement per gap");
}
