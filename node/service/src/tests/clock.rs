//! Time as the service sees it: a block time ahead of our clock, and orphans that expire,
//! both on a manual clock.

use crate::clock::ManualClock;

use super::*;

fn manual_config(clock: &Arc<ManualClock>) -> ChainServiceConfig {
    config().with_clock(Arc::clone(clock) as Arc<dyn crate::Clock>)
}

#[tokio::test]
async fn a_block_ahead_of_our_clock_waits_for_the_clock_without_blame() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let ahead_ms = 60_000;
    // Our clock stands at genesis; the block claims a time a minute past the allowed drift.
    let clock = Arc::new(ManualClock::new(spec.genesis_timestamp_ms));
    let mut h = Harness::start(dir.path(), manual_config(&clock));
    let peer = ChainBuilder::new(&spec);
    let time = spec.genesis_timestamp_ms + spec.max_future_drift_ms + ahead_ms;
    let ctx = talos_chain::HeaderTree::new(&spec)
        .parent_context(&peer.genesis())
        .unwrap();
    let ahead = mine(BlockTemplate::empty(&spec, &ctx, time).into_block());

    assert_eq!(
        h.import(ahead.clone(), BlockSource::Gossip(3)).await,
        ImportOutcome::Dropped,
        "maybe our clock is behind: not invalid"
    );
    assert!(
        h.queued_notices().is_empty(),
        "no penalty, nothing announced"
    );
    // Not remembered as invalid: once our clock reaches it, the same block is accepted.
    clock.advance(Duration::from_millis(ahead_ms));
    assert_eq!(
        h.import(ahead.clone(), BlockSource::Gossip(3)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    assert_eq!(h.store.tip().unwrap().id, ahead.id());
    h.stop().await;
}

#[tokio::test]
async fn orphans_expire_on_the_service_clock() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let clock = Arc::new(ManualClock::new(spec.genesis_timestamp_ms + 10_000));
    let ttl = Duration::from_secs(30);
    let h = Harness::start(dir.path(), manual_config(&clock).with_orphan_ttl(ttl));
    let mut peer = ChainBuilder::new(&spec);
    let b1 = peer.child(peer.genesis(), Vec::new());
    let b2 = peer.child(b1.id(), Vec::new());
    let b3 = peer.child(b2.id(), Vec::new());

    assert!(matches!(
        h.import(b3.clone(), BlockSource::Gossip(5)).await,
        ImportOutcome::Orphan { .. }
    ));
    clock.advance(ttl + Duration::from_secs(1));
    // The next orphan's arrival expires the old one.
    assert!(matches!(
        h.import(b2.clone(), BlockSource::Gossip(5)).await,
        ImportOutcome::Orphan { .. }
    ));
    assert_eq!(
        h.import(b1, BlockSource::Gossip(5)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let tip = h.store.tip().unwrap();
    assert_eq!(
        (tip.id, tip.height),
        (b2.id(), 2),
        "b2 followed its parent; b3 had expired"
    );
    assert_eq!(
        h.import(b3, BlockSource::Gossip(5)).await,
        ImportOutcome::Imported { new_tip: true },
        "sent again, it imports normally"
    );
    h.stop().await;
}
