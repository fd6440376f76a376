//! Mining, peer blocks, invalid blocks, orphans.

use super::*;

#[tokio::test]
async fn mining_extends_the_chain_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::start(dir.path(), config().with_mine(true).with_miner_threads(1));
    let pending = item(&easy_spec(), &key(1), 0);
    let pending_id = h.submit(pending.clone()).await.expect("admitted");
    let mut heights = Vec::new();
    while heights.len() < 3 {
        let (height, announced) = h
            .notice(|n| match n {
                ChainNotice::NewTip { tip, announce, .. } => Some((tip.height, announce)),
                _ => None,
            })
            .await;
        let block = announced.expect("a mined tip is announced");
        let block: &Block = &block;
        assert_eq!(block.header.height, height);
        heights.push(height);
    }
    assert_eq!(heights, vec![1, 2, 3], "each mined block extends the last");
    let tip = h.store.tip().unwrap();
    assert!(tip.height >= 3);
    for height in 1..=3 {
        let block = h.store.best_block_at(height).unwrap().expect("stored");
        let parent = h.store.best_id_at(height - 1).unwrap().unwrap();
        assert_eq!(block.header.prev_hash, parent);
    }
    let (_, location) = h
        .store
        .item(&pending_id)
        .unwrap()
        .expect("the pending item was mined");
    assert!(location.height >= 1);
    assert_eq!(h.mempool_len().await, 0);
    assert!(h.metrics.height.get() >= 3);
    h.stop().await;
}

#[tokio::test]
async fn a_valid_peer_block_imports_and_is_not_announced_again() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = ChainBuilder::new(&spec);
    let it = item(&spec, &key(2), 7);
    let block = peer.child(peer.genesis(), vec![it.clone()]);
    let from = 7;

    assert_eq!(
        h.import(block.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let (tip, depth, announce) = h
        .notice(|n| match n {
            ChainNotice::NewTip {
                tip,
                reorg_depth,
                announce,
            } => Some((tip, reorg_depth, announce)),
            _ => None,
        })
        .await;
    assert_eq!((tip.id, tip.height, depth), (block.id(), 1, 0));
    // gossipsub forwards a validated gossip block itself; republishing would be a duplicate.
    assert_eq!(announce, None);
    match h.events.recv().await.unwrap() {
        ChainEvent::BlockImported { id, height, source } => {
            assert_eq!((id, height, source), (block.id(), 1, ImportSource::Gossip));
        }
        other => panic!("unexpected event {other:?}"),
    }
    match h.events.recv().await.unwrap() {
        ChainEvent::NewTip {
            id,
            height,
            reorg_depth,
        } => {
            assert_eq!((id, height, reorg_depth), (block.id(), 1, 0));
        }
        other => panic!("unexpected event {other:?}"),
    }
    assert_eq!(h.store.tip().unwrap().id, block.id());
    assert!(h.store.item(&it.id()).unwrap().is_some());
    assert_eq!(
        h.import(block, BlockSource::Sync(from)).await,
        ImportOutcome::AlreadyKnown
    );
    assert_eq!(h.metrics.height.get(), 1);
    h.stop().await;
}

#[tokio::test]
async fn invalid_blocks_are_rejected_remembered_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = ChainBuilder::new(&spec);
    let from = 7;

    // An item signature that does not verify: the header commits to it, so the block is bad.
    let bad_sig = mine(
        peer.template(peer.genesis(), vec![badly_signed_item(&spec, &key(3), 1)])
            .into_block(),
    );
    assert!(invalid(
        &h.import(bad_sig.clone(), BlockSource::Gossip(from)).await,
        "bad_signature"
    ));
    // Sent again, even with another body: refused from memory, reported again.
    let mut other_body = bad_sig.clone();
    other_body.items.clear();
    assert!(invalid(
        &h.import(other_body, BlockSource::Sync(from)).await,
        "bad_signature"
    ));

    // A child of an invalid block is invalid whatever it holds.
    peer.adopt(&bad_sig);
    let child = peer.child(bad_sig.id(), Vec::new());
    assert!(invalid(
        &h.import(child, BlockSource::Gossip(from)).await,
        "invalid_parent"
    ));

    let notices = h.queued_notices();
    assert!(
        !notices
            .iter()
            .any(|n| matches!(n, ChainNotice::NewTip { .. }))
    );
    let blamed: Vec<(Peer, &str)> = notices.iter().filter_map(blame).collect();
    assert_eq!(
        blamed,
        vec![
            (from, "bad_signature"),
            (from, "bad_signature"),
            (from, "invalid_parent")
        ]
    );
    assert_eq!(h.store.tip().unwrap().height, 0);
    let rejected = h
        .metrics
        .blocks_rejected
        .get_or_create(&crate::metrics::CodeLabel {
            code: "bad_signature",
        })
        .get();
    assert_eq!(rejected, 2);
    h.stop().await;
}

#[tokio::test]
async fn a_mutated_body_costs_its_sender_and_never_poisons_the_header_id() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = ChainBuilder::new(&spec);
    let real = peer.child(peer.genesis(), vec![item(&spec, &key(5), 0)]);
    let child = peer.child(real.id(), vec![item(&spec, &key(5), 1)]);
    let (attacker, honest) = (6, 7);

    // The real header over junk: another item (Merkle root), a missing one (item count).
    let mut swapped = real.clone();
    swapped.items = vec![item(&spec, &key(66), 0)];
    let mut emptied = real.clone();
    emptied.items.clear();
    assert_eq!((swapped.id(), emptied.id()), (real.id(), real.id()));
    assert!(invalid(
        &h.import(swapped, BlockSource::Gossip(attacker)).await,
        "merkle_root_mismatch"
    ));
    assert!(invalid(
        &h.import(emptied, BlockSource::Sync(attacker)).await,
        "item_count_mismatch"
    ));
    // An orphan child arriving meanwhile is kept, not condemned with the junk.
    assert_eq!(
        h.import(child.clone(), BlockSource::Gossip(honest)).await,
        ImportOutcome::Orphan { parent: real.id() }
    );

    // The real body from anyone imports, and the child follows it.
    assert_eq!(
        h.import(real.clone(), BlockSource::Gossip(honest)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    assert_eq!(h.store.tip().unwrap().id, child.id());
    let blamed = h.queued_blame();
    assert_eq!(
        blamed,
        vec![
            (attacker, "merkle_root_mismatch"),
            (attacker, "item_count_mismatch")
        ],
        "only the sender of the junk is blamed"
    );
    h.stop().await;
}

#[tokio::test]
async fn an_orphan_waits_for_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = ChainBuilder::new(&spec);
    let b1 = peer.child(peer.genesis(), vec![item(&spec, &key(4), 0)]);
    let b2 = peer.child(b1.id(), vec![item(&spec, &key(4), 1)]);
    let b3 = peer.child(b2.id(), Vec::new());
    let from = 7;

    assert_eq!(
        h.import(b3.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Orphan { parent: b2.id() }
    );
    assert_eq!(
        h.import(b2.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Orphan { parent: b1.id() }
    );
    let asked: Vec<(Peer, Hash256, u64)> = h
        .queued_notices()
        .into_iter()
        .filter_map(|n| match n {
            ChainNotice::MissingParent {
                peer,
                parent,
                parent_height,
            } => Some((peer, parent, parent_height)),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![(from, b2.id(), 2), (from, b1.id(), 1)]);
    assert_eq!(
        h.import(b3.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::AlreadyKnown,
        "an orphan sent twice is kept once"
    );

    assert_eq!(
        h.import(b1.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let tips: Vec<u64> = h
        .queued_notices()
        .into_iter()
        .filter_map(|n| match n {
            ChainNotice::NewTip { tip, .. } => Some(tip.height),
            _ => None,
        })
        .collect();
    assert_eq!(tips, vec![1, 2, 3], "the orphans followed their parent");
    assert_eq!(h.store.tip().unwrap().id, b3.id());
    h.stop().await;
}

#[tokio::test]
async fn the_cheap_header_checks_run_before_any_signature() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = ChainBuilder::new(&spec);
    let from = 7;
    // A wrong target and a bad signature: the target, checked against the parent, is what
    // refuses it; the signature is never verified.
    let mut block = peer
        .template(peer.genesis(), vec![badly_signed_item(&spec, &key(3), 1)])
        .into_block();
    block.header.target = talos_chain::CompactTarget(0x2000_ffff);
    let block = mine(block);
    assert!(invalid(
        &h.import(block, BlockSource::Gossip(from)).await,
        "wrong_target"
    ));

    // An orphan is only prechecked: a bad signature waits with it, and is found (and its
    // sender blamed) once the parent arrives.
    let parent = peer.child(peer.genesis(), vec![item(&spec, &key(4), 0)]);
    let orphan = mine(
        peer.template(parent.id(), vec![badly_signed_item(&spec, &key(3), 2)])
            .into_block(),
    );
    let attacker = 6;
    assert_eq!(
        h.import(orphan.clone(), BlockSource::Gossip(attacker))
            .await,
        ImportOutcome::Orphan {
            parent: parent.id()
        }
    );
    h.queued_notices();
    assert_eq!(
        h.import(parent.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let blamed = h
        .notice(|n| match n {
            ChainNotice::BadBlock { peer, rejection } => Some((peer, rejection.code())),
            _ => None,
        })
        .await;
    assert_eq!(blamed, (attacker, "bad_signature"));
    assert_eq!(h.store.tip().unwrap().id, parent.id());
    h.stop().await;
}
