//! Side branches, reorgs (also deeper than one store update) and fork choice after restarts.

use super::*;

#[tokio::test]
async fn a_heavier_side_branch_reorganises_store_and_mempool() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config());
    let mut peer = ChainBuilder::new(&spec);
    let from = 7;
    let g = peer.genesis();
    let x = item(&spec, &key(5), 0);
    let y = item(&spec, &key(6), 0);
    let z = item(&spec, &key(5), 1);

    let a1 = peer.child(g, vec![x.clone()]);
    let a2 = peer.child(a1.id(), vec![z.clone()]);
    let b1 = peer.child(g, vec![y.clone()]);
    // X is in the best chain, but above the fork point: valid on this branch.
    let b2 = peer.child(b1.id(), vec![x.clone()]);
    // Y is already on this branch (in b1): invalid here although the best chain lacks it.
    let b2_replay = mine(peer.template(b1.id(), vec![y.clone()]).into_block());
    let b3 = peer.child(b2.id(), Vec::new());

    for block in [&a1, &a2] {
        assert_eq!(
            h.import(block.clone(), BlockSource::Gossip(from)).await,
            ImportOutcome::Imported { new_tip: true }
        );
    }
    assert_eq!(
        h.import(b1.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Imported { new_tip: false }
    );
    assert_eq!(
        h.import(b2.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Imported { new_tip: false },
        "equal work: the first tip seen stays"
    );
    assert!(invalid(
        &h.import(b2_replay, BlockSource::Gossip(from)).await,
        "item_already_in_chain"
    ));
    assert_eq!(h.store.tip().unwrap().id, a2.id());
    h.queued_notices();

    assert_eq!(
        h.import(b3.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let (tip, depth) = h
        .notice(|n| match n {
            ChainNotice::NewTip {
                tip, reorg_depth, ..
            } => Some((tip, reorg_depth)),
            _ => None,
        })
        .await;
    assert_eq!((tip.id, tip.height, depth), (b3.id(), 3, 2));

    let store = &h.store;
    assert_eq!(store.tip().unwrap().id, b3.id());
    for (height, block) in [(1, &b1), (2, &b2), (3, &b3)] {
        assert_eq!(store.best_id_at(height).unwrap(), Some(block.id()));
    }
    // The shared index followed the reorg, and still knows the old branch is stored.
    for (height, block) in [(1, &b1), (2, &b2), (3, &b3)] {
        assert_eq!(h.index.best_id_at(height), Some(block.id()));
    }
    assert!(h.index.has_block(&a2.id(), 2) && h.index.has_block(&a1.id(), 1));
    assert_eq!(h.index.status().tip_hash, b3.id());
    assert_eq!(store.item(&x.id()).unwrap().unwrap().1.block, b2.id());
    assert_eq!(store.item(&y.id()).unwrap().unwrap().1.block, b1.id());
    assert!(
        store.item(&z.id()).unwrap().is_none(),
        "Z left the best chain"
    );
    assert_eq!(
        store.item_by_nonce(z.author(), z.nonce()).unwrap(),
        None,
        "Z's nonce is free again"
    );
    // Z went back to the mempool; X is in the new chain and did not.
    assert_eq!(h.mempool_len().await, 1);
    assert_eq!(h.mempool_item(z.id()).await, Some(z.clone()));
    assert_eq!(h.mempool_item(x.id()).await, None);
    assert_eq!(h.metrics.reorgs.get(), 1);
    assert_eq!(h.metrics.height.get(), 3);
    h.stop().await;
}

#[tokio::test]
async fn a_stored_side_branch_is_followed_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let spec = easy_spec();
    let mut peer = ChainBuilder::new(&spec);
    let from = 7;
    let g = peer.genesis();
    let a1 = peer.child(g, Vec::new());
    let a2 = peer.child(a1.id(), Vec::new());
    let s1 = peer.child(g, vec![item(&spec, &key(7), 0)]);

    let h = Harness::start(&path, config());
    for block in [&a1, &a2, &s1] {
        assert!(matches!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { .. }
        ));
    }
    let store = h.stop().await;
    drop(store);

    // The restarted service loads the best chain only; s1 is found in the store when a
    // child needs it.
    let h = Harness::start(&path, config());
    assert_eq!(h.store.tip().unwrap().id, a2.id());
    assert!(
        h.index.has_block(&a2.id(), 2),
        "the index is loaded from the store"
    );
    let s2 = peer.child(s1.id(), vec![item(&spec, &key(7), 1)]);
    let s3 = peer.child(s2.id(), Vec::new());
    assert_eq!(
        h.import(s2, BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: false }
    );
    assert_eq!(
        h.import(s3.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    assert_eq!(h.store.tip().unwrap().id, s3.id());
    assert_eq!(h.store.best_id_at(1).unwrap(), Some(s1.id()));
    h.stop().await;
}

#[tokio::test]
async fn a_reorg_deeper_than_one_update_is_committed_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let h = Harness::start(dir.path(), config());
    let mut peer = ChainBuilder::new(&spec);
    let from = 7;
    let depth = talos_storage::MAX_UPDATE_BLOCKS / 2 + 8;
    let mut build = |first: SignedItem, len: usize| {
        let mut parent = peer.genesis();
        let mut blocks = Vec::with_capacity(len);
        for n in 0..len {
            let items = if n == 0 {
                vec![first.clone()]
            } else {
                Vec::new()
            };
            let block = peer.child(parent, items);
            parent = block.id();
            blocks.push(block);
        }
        blocks
    };
    let lost = item(&spec, &key(10), 0);
    let a = build(lost.clone(), depth);
    let b = build(item(&spec, &key(11), 0), depth + 1);
    for block in &a {
        assert_eq!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { new_tip: true }
        );
    }
    for block in &b[..depth] {
        assert_eq!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { new_tip: false }
        );
    }
    let last = b[depth].clone();
    assert_eq!(
        h.import(last.clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let tip = h.store.tip().unwrap();
    assert_eq!((tip.id, tip.height), (last.id(), depth as u64 + 1));
    assert_eq!(h.store.best_id_at(1).unwrap(), Some(b[0].id()));
    assert!(h.store.item(&lost.id()).unwrap().is_none());
    assert_eq!(
        h.mempool_item(lost.id()).await,
        None,
        "only the newest blocks' items return"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_restart_loads_fork_choice_from_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let spec = easy_spec();
    let shallow = || {
        config().with_fork_choice(
            talos_chain::ForkChoiceConfig::default()
                .with_max_headers(64)
                .with_keep_depth(4),
        )
    };
    let mut peer = ChainBuilder::new(&spec);
    let from = 7;
    let mut a = vec![spec.genesis()];
    for n in 0..10u64 {
        let parent = a[a.len() - 1].id();
        a.push(peer.child(parent, vec![item(&spec, &key(12), n)]));
    }
    let h = Harness::start(&path, shallow());
    for block in &a[1..] {
        assert_eq!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { new_tip: true }
        );
    }
    drop(h.stop().await);

    // Restarted with a tree rooted at height 10 - 4 = 6: a fork above the root is followed
    // (median time past and retarget come from the checkpoint's ancestors), one below it is
    // too deep.
    let mut h = Harness::start(&path, shallow());
    let mut side = vec![a[7].clone()];
    for _ in 0..4 {
        let parent = side[side.len() - 1].id();
        side.push(peer.child(parent, Vec::new()));
    }
    for block in &side[1..4] {
        assert_eq!(
            h.import(block.clone(), BlockSource::Sync(from)).await,
            ImportOutcome::Imported { new_tip: false }
        );
    }
    assert_eq!(
        h.import(side[4].clone(), BlockSource::Sync(from)).await,
        ImportOutcome::Imported { new_tip: true }
    );
    let depth = h
        .notice(|n| match n {
            ChainNotice::NewTip { reorg_depth, .. } => Some(reorg_depth),
            _ => None,
        })
        .await;
    assert_eq!(depth, 3);
    assert_eq!(h.store.tip().unwrap().height, 11);
    // Items of a8..a10 went back to the pool.
    assert_eq!(h.mempool_len().await, 3);

    let deep = peer.child(a[2].id(), Vec::new());
    assert_eq!(
        h.import(deep, BlockSource::Sync(from)).await,
        ImportOutcome::Dropped
    );
    h.stop().await;
}

#[tokio::test]
async fn gossiped_side_blocks_far_below_the_tip_are_neither_stored_nor_blamed() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let mut h = Harness::start(dir.path(), config().with_side_branch_margin(8));
    let mut peer = ChainBuilder::new(&spec);
    let (honest, attacker) = (7, 6);
    let main = peer.extend(peer.genesis(), 20);
    for block in &main {
        h.import(block.clone(), BlockSource::Gossip(honest)).await;
    }
    assert_eq!(h.store.tip().unwrap().id, main[19].id());

    // Siblings of block 3 (tip work minus 17 blocks): each a real proof of work on a valid
    // parent, and each far too light to ever become best. None is stored or relayed.
    let mut stale = Vec::new();
    for n in 0..20 {
        let sibling = peer.child(main[1].id(), vec![item(&spec, &key(9), n)]);
        assert_eq!(
            h.import(sibling.clone(), BlockSource::Gossip(attacker))
                .await,
            ImportOutcome::Stale
        );
        stale.push(sibling);
    }
    for block in &stale {
        assert!(!h.store.contains_block(&block.id()).unwrap());
    }
    assert_eq!(h.metrics.blocks_stale.get(), 20);
    assert!(
        !h.queued_notices()
            .iter()
            .any(|n| matches!(n, ChainNotice::BadBlock { .. })),
        "a stale block is no offence"
    );

    // A sibling of the tip's parent trails by one block: an honest fork, stored.
    let near = peer.child(main[18].id(), vec![item(&spec, &key(9), 99)]);
    assert_eq!(
        h.import(near.clone(), BlockSource::Gossip(honest)).await,
        ImportOutcome::Imported { new_tip: false }
    );
    assert!(h.store.contains_block(&near.id()).unwrap());
    h.stop().await;
}

#[tokio::test]
async fn stale_side_branches_are_pruned_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let spec = easy_spec();
    let fork_choice = talos_chain::ForkChoiceConfig::default()
        .with_max_headers(64)
        .with_keep_depth(16);
    let config = config()
        .with_fork_choice(fork_choice)
        .with_side_prune_depth(16);
    let h = Harness::start(dir.path(), config);
    let mut peer = ChainBuilder::new(&spec);
    let from = 7;
    let main = peer.extend(peer.genesis(), 5);
    for block in &main {
        h.import(block.clone(), BlockSource::Gossip(from)).await;
    }
    let side = peer.child(main[2].id(), vec![item(&spec, &key(8), 0)]);
    assert_eq!(
        h.import(side.clone(), BlockSource::Gossip(from)).await,
        ImportOutcome::Imported { new_tip: false }
    );
    assert!(h.store.contains_block(&side.id()).unwrap());
    for block in peer.extend(main[4].id(), 123) {
        h.import(block, BlockSource::Gossip(from)).await;
    }
    assert_eq!(h.store.tip().unwrap().height, 128);
    assert!(
        !h.store.contains_block(&side.id()).unwrap(),
        "a side block 124 deep is pruned"
    );
    assert!(h.store.is_best_chain(&main[2].id()).unwrap());
    let store = h.stop().await;
    talos_storage::verify_chain(&*store, talos_storage::IntegrityOptions::full()).unwrap();
}
