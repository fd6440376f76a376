//! One test suite, run against both backends.

mod support;

use std::sync::Arc;

use support::{Maker, chain, child, entry, extend, genesis, tip_entry};
use talos_chain::{Hash256, Work};
use talos_storage::{
    ChainStore, ChainTip, ChainUpdate, IntegrityOptions, KvBatch, MAX_KV_KEY, MAX_UPDATE_BLOCKS,
    MemoryStore, NewBlock, SledConfig, SledStore, StorageError, Store, UpdateError, genesis_work,
    verify_chain,
};
use tempfile::TempDir;

/// A store plus whatever keeps it alive.
struct Fixture<S> {
    store: S,
    _dir: Option<TempDir>,
}

fn memory() -> Fixture<MemoryStore> {
    Fixture {
        store: MemoryStore::new(&genesis()).unwrap(),
        _dir: None,
    }
}

fn sled() -> Fixture<SledStore> {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(
        dir.path().join("db"),
        &genesis(),
        SledConfig::new(support::limits()).with_cache_bytes(8 << 20),
    )
    .unwrap();
    Fixture {
        store,
        _dir: Some(dir),
    }
}

fn full_check(store: &impl ChainStore) {
    verify_chain(store, IntegrityOptions::full()).unwrap();
}

/// Everything observable about the chain state, to show a rejected update changed nothing.
fn snapshot(store: &impl ChainStore) -> (ChainTip, talos_storage::StoreStats) {
    (store.tip().unwrap(), store.stats().unwrap())
}

mod cases {
    use super::*;

    pub(crate) fn genesis_init(s: &impl Store) {
        let g = genesis();
        let tip = s.tip().unwrap();
        assert_eq!(tip.id, g.id());
        assert_eq!(tip.height, 0);
        assert_eq!(tip.cumulative_work, genesis_work(&g));
        assert_eq!(s.genesis_id(), g.id());
        assert_eq!(s.block(&g.id()).unwrap(), Some(g.clone()));
        assert_eq!(s.header(&g.id()).unwrap().unwrap().header, g.header);
        assert_eq!(s.best_id_at(0).unwrap(), Some(g.id()));
        assert_eq!(s.best_id_at(1).unwrap(), None);
        assert!(s.is_best_chain(&g.id()).unwrap());
        assert_eq!(s.locator().unwrap(), vec![g.id()]);
        assert_eq!(s.chain_status(7).unwrap().tip_hash, g.id());
        let report = verify_chain(s, IntegrityOptions::full()).unwrap();
        assert!(report.reached_genesis);
        assert_eq!(report.blocks, 1);
    }

    pub(crate) fn linear_import(s: &impl Store) {
        let m = Maker::new(1);
        let mut blocks = Vec::new();
        for h in 1..=12u64 {
            blocks.push(extend(s, m.items(h * 10..h * 10 + 3), 0));
        }
        let tip = s.tip().unwrap();
        let last = blocks.last().unwrap();
        assert_eq!(tip.id, last.block.id());
        assert_eq!(tip.height, 12);
        assert_eq!(tip.cumulative_work, last.cumulative_work);
        for (i, nb) in blocks.iter().enumerate() {
            let h = i as u64 + 1;
            let id = nb.block.id();
            assert_eq!(s.best_id_at(h).unwrap(), Some(id));
            assert_eq!(s.block(&id).unwrap().as_ref(), Some(&*nb.block));
            assert_eq!(s.header(&id).unwrap(), Some(entry(nb)));
            for (pos, item) in nb.block.items.iter().enumerate() {
                let loc = s.item_location(&item.id()).unwrap().unwrap();
                assert_eq!((loc.block, loc.height, loc.position), (id, h, pos as u32));
                assert_eq!(
                    s.item_by_nonce(item.author(), item.nonce()).unwrap(),
                    Some(item.id())
                );
                let (stored, _) = s.item(&item.id()).unwrap().unwrap();
                assert_eq!(&stored, item);
                let proof = s.item_proof(&item.id()).unwrap().unwrap();
                proof.verify().unwrap();
                assert_eq!(proof.header, nb.block.header);
            }
        }
        // Range queries for the sync server.
        let headers = s.best_headers(0, 100).unwrap();
        assert_eq!(headers.len(), 13);
        assert_eq!(headers[5].height(), 5);
        assert_eq!(s.best_headers(10, 2).unwrap().len(), 2);
        assert_eq!(s.best_headers(13, 10).unwrap().len(), 0);
        let all = s.best_blocks(1, 100, usize::MAX).unwrap();
        assert_eq!(all.len(), 12);
        let one_size = all[0].encoded_len();
        assert_eq!(s.best_blocks(1, 100, one_size * 2).unwrap().len(), 2);
        assert_eq!(
            s.best_blocks(1, 100, 0).unwrap().len(),
            1,
            "always progress"
        );
        // Locator and fork point.
        let locator = s.locator().unwrap();
        assert_eq!(locator[0], tip.id);
        assert_eq!(*locator.last().unwrap(), genesis().id());
        let fork = s
            .find_fork_point(&[Hash256::sha256(b"unknown"), blocks[4].block.id()])
            .unwrap()
            .unwrap();
        assert_eq!(fork.height(), 5);
        assert!(s.reorg_path(&tip.id, 10).unwrap().connect.is_empty());
        full_check(s);
    }

    pub(crate) fn side_chain_storage_leaves_indexes(s: &impl Store) {
        let m = Maker::new(2);
        for h in 1..=5u64 {
            extend(s, m.items([h]), 0);
        }
        let before = snapshot(s);
        let fork = s.best_header_at(3).unwrap().unwrap();
        let side = chain(&fork, 2, 99, |i| m.items([100 + i as u64]));
        let summary = s
            .commit(ChainUpdate::side_blocks(side.clone(), before.0))
            .unwrap();
        assert_eq!(summary.blocks_written, 2);
        assert_eq!(s.tip().unwrap(), before.0);
        for nb in &side {
            let id = nb.block.id();
            assert!(s.contains_block(&id).unwrap());
            assert!(!s.is_best_chain(&id).unwrap());
            assert_eq!(s.header(&id).unwrap(), Some(entry(nb)));
            for item in &nb.block.items {
                assert_eq!(s.item_location(&item.id()).unwrap(), None);
                assert_eq!(s.item_by_nonce(item.author(), item.nonce()).unwrap(), None);
            }
        }
        let after = s.stats().unwrap();
        assert_eq!(after.blocks, before.1.blocks + 2);
        assert_eq!((after.heights, after.items, after.nonces), (6, 5, 5));
        // Storing the same blocks again writes nothing.
        let again = s.commit(ChainUpdate::side_blocks(side, before.0)).unwrap();
        assert_eq!(again.blocks_written, 0);
        full_check(s);
    }

    pub(crate) fn pruning_removes_only_side_blocks(s: &impl Store) {
        let m = Maker::new(4);
        let main: Vec<NewBlock> = (1..=5u64).map(|h| extend(s, m.items([h]), 0)).collect();
        let tip = s.tip().unwrap();
        let fork = s.best_header_at(2).unwrap().unwrap();
        let side = chain(&fork, 2, 42, |i| m.items([200 + i as u64]));
        s.commit(ChainUpdate::side_blocks(side.clone(), tip))
            .unwrap();
        let before = s.stats().unwrap();
        let mut ids: Vec<Hash256> = side.iter().map(|b| b.block.id()).collect();
        ids.push(main[2].block.id());
        ids.push(Hash256::sha256(b"never stored"));
        assert_eq!(s.prune_side_blocks(&ids).unwrap(), 2);
        for nb in &side {
            assert!(!s.contains_block(&nb.block.id()).unwrap());
            assert_eq!(s.header(&nb.block.id()).unwrap(), None);
        }
        assert!(
            s.is_best_chain(&main[2].block.id()).unwrap(),
            "best chain kept"
        );
        assert_eq!(s.stats().unwrap().blocks, before.blocks - 2);
        assert_eq!(s.tip().unwrap(), tip);
        assert_eq!(
            s.prune_side_blocks(&ids).unwrap(),
            0,
            "nothing left to prune"
        );
        let too_many = vec![Hash256::ZERO; talos_storage::MAX_UPDATE_BLOCKS + 1];
        assert!(matches!(
            s.prune_side_blocks(&too_many),
            Err(StorageError::InvalidUpdate(UpdateError::TooLarge { .. }))
        ));
        full_check(s);
    }

    pub(crate) fn reorg_disconnect_two_connect_three(s: &impl Store) {
        let m = Maker::new(3);
        let main: Vec<NewBlock> = (1..=5u64)
            .map(|h| extend(s, m.items([h * 10, h * 10 + 1]), 0))
            .collect();
        let old_tip = s.tip().unwrap();
        // Side branch from block 3: re-includes block 5's first item, reuses nothing else.
        let fork = entry(&main[2]);
        let reincluded = main[4].block.items[0].clone();
        let side = chain(&fork, 3, 7, |i| match i {
            0 => vec![reincluded.clone(), m.item(400)],
            _ => m.items([400 + i as u64 * 10]),
        });
        let new_tip = entry(side.last().unwrap());
        assert!(new_tip.cumulative_work > old_tip.cumulative_work);
        s.commit(ChainUpdate::side_blocks(side.clone(), old_tip))
            .unwrap();
        let path = s.reorg_path(&new_tip.id(), 10).unwrap();
        assert_eq!(path.fork_point, fork.id());
        assert_eq!(
            path.disconnect,
            vec![main[4].block.id(), main[3].block.id()]
        );
        let side_ids: Vec<Hash256> = side.iter().map(|b| b.block.id()).collect();
        assert_eq!(path.connect, side_ids);
        assert!(matches!(
            s.reorg_path(&new_tip.id(), 1),
            Err(StorageError::ReorgTooDeep { limit: 1 })
        ));

        let summary = s
            .commit(ChainUpdate {
                store: Vec::new(),
                disconnect: path.disconnect.clone(),
                connect: path.connect.clone(),
                new_tip: new_tip.as_tip(),
            })
            .unwrap();
        assert_eq!((summary.disconnected, summary.connected), (2, 3));
        assert_eq!(s.tip().unwrap(), new_tip.as_tip());
        for (i, id) in side_ids.iter().enumerate() {
            assert_eq!(s.best_id_at(4 + i as u64).unwrap(), Some(*id));
        }
        assert_eq!(s.best_id_at(7).unwrap(), None);
        // Old branch: still stored, off the best chain, its items unindexed...
        for nb in &main[3..] {
            assert!(s.contains_block(&nb.block.id()).unwrap());
            assert!(!s.is_best_chain(&nb.block.id()).unwrap());
        }
        for item in main[3].block.items.iter().chain(&main[4].block.items[1..]) {
            assert_eq!(s.item_location(&item.id()).unwrap(), None);
            assert_eq!(s.item_by_nonce(item.author(), item.nonce()).unwrap(), None);
        }
        // ...except the re-included item, which now points into the new branch.
        let loc = s.item_location(&reincluded.id()).unwrap().unwrap();
        assert_eq!((loc.block, loc.height, loc.position), (side_ids[0], 4, 0));
        assert_eq!(
            s.item_by_nonce(reincluded.author(), reincluded.nonce())
                .unwrap(),
            Some(reincluded.id())
        );
        // Items below the fork are untouched.
        assert!(
            s.item_location(&main[2].block.items[0].id())
                .unwrap()
                .is_some()
        );
        full_check(s);

        // And back again: disconnect 3, connect the 2 old blocks plus a new one on top.
        let old5 = entry(&main[4]);
        let top = child(&old5, m.items([900]), 0);
        let back = s.reorg_path(&main[4].block.id(), 10).unwrap();
        assert_eq!(back.disconnect.len(), 3);
        // Old block 5 holds an item the side branch re-included; the side branch is
        // disconnected first in the same update, so the item is free again.
        let before = snapshot(s);
        let mut connect = back.connect.clone();
        connect.push(top.block.id());
        s.commit(ChainUpdate {
            store: vec![top.clone()],
            disconnect: back.disconnect.clone(),
            connect: connect.clone(),
            new_tip: entry(&top).as_tip(),
        })
        .unwrap();
        assert_ne!(snapshot(s), before);
        assert_eq!(s.tip().unwrap().id, top.block.id());
        assert_eq!(
            s.item_location(&reincluded.id()).unwrap().unwrap().block,
            main[4].block.id()
        );
        full_check(s);
    }

    pub(crate) fn rejected_updates_change_nothing(s: &impl Store) {
        let m = Maker::new(4);
        let b1 = extend(s, m.items([1, 2]), 0);
        let b2 = extend(s, m.items([3]), 0);
        let tip = s.tip().unwrap();
        let before = snapshot(s);
        let t = entry(&b2);
        let expect = |u: ChainUpdate, check: &dyn Fn(&StorageError) -> bool| {
            let err = s.commit(u).unwrap_err();
            assert!(check(&err), "unexpected {err:?}");
            assert_eq!(
                snapshot(s),
                before,
                "rejected update {err} changed the store"
            );
        };

        rejected_shapes(&m, &t, tip, &b1, &expect);
        rejected_contents(&m, &t, tip, (&b1, &b2), &expect);
        let g1 = child(&t, m.items([80]), 0);
        assert!(!s.contains_block(&g1.block.id()).unwrap());
        // A pure rollback is fine.
        let rollback = ChainUpdate {
            store: vec![],
            disconnect: vec![b2.block.id()],
            connect: vec![],
            new_tip: entry(&b1).as_tip(),
        };
        s.commit(rollback).unwrap();
        assert_eq!(s.tip().unwrap(), entry(&b1).as_tip());
        assert_eq!(s.item_location(&b2.block.items[0].id()).unwrap(), None);
        full_check(s);
    }

    /// Judges one update that must be refused: the check on its error.
    type Expect<'a> = dyn Fn(ChainUpdate, &dyn Fn(&StorageError) -> bool) + 'a;

    /// Updates refused for their shape: links, heights, work, tips.
    fn rejected_shapes(
        m: &Maker,
        t: &talos_storage::HeaderEntry,
        tip: ChainTip,
        b1: &NewBlock,
        expect: &Expect<'_>,
    ) {
        // Orphan.
        let mut orphan = child(t, m.items([50]), 0);
        std::sync::Arc::make_mut(&mut orphan.block).header.prev_hash = Hash256::sha256(b"nowhere");
        expect(ChainUpdate::side_blocks(vec![orphan], tip), &|e| {
            matches!(e, StorageError::MissingParent { .. })
        });
        // Height not parent + 1.
        let mut bad_height = child(t, vec![], 0);
        std::sync::Arc::make_mut(&mut bad_height.block)
            .header
            .height = 9;
        expect(ChainUpdate::side_blocks(vec![bad_height], tip), &|e| {
            matches!(
                e,
                StorageError::InvalidUpdate(UpdateError::BadHeight { .. })
            )
        });
        // Work not increasing.
        let mut lazy = child(t, vec![], 1);
        lazy.cumulative_work = t.cumulative_work;
        expect(ChainUpdate::side_blocks(vec![lazy], tip), &|e| {
            matches!(
                e,
                StorageError::InvalidUpdate(UpdateError::WorkNotIncreasing { .. })
            )
        });
        // Disconnecting something that is not the tip.
        let good = child(t, m.items([60]), 0);
        expect(
            ChainUpdate {
                store: vec![good.clone()],
                disconnect: vec![b1.block.id()],
                connect: vec![],
                new_tip: tip,
            },
            &|e| {
                matches!(
                    e,
                    StorageError::InvalidUpdate(UpdateError::NotBestChain { index: 0, .. })
                )
            },
        );
        // Connecting a block that does not extend the tip.
        let sibling = child(&entry(b1), m.items([61]), 5);
        expect(
            ChainUpdate {
                store: vec![sibling.clone()],
                disconnect: vec![],
                connect: vec![sibling.block.id()],
                new_tip: entry(&sibling).as_tip(),
            },
            &|e| {
                matches!(
                    e,
                    StorageError::InvalidUpdate(UpdateError::NotLinked { index: 0, .. })
                )
            },
        );
        // Connecting an unknown block.
        expect(
            ChainUpdate {
                store: vec![],
                disconnect: vec![],
                connect: vec![Hash256::sha256(b"ghost")],
                new_tip: tip,
            },
            &|e| matches!(e, StorageError::NotFound { .. }),
        );
        // Declared tip differs from the result.
        let mut wrong_tip = ChainUpdate::extend(good.block.clone(), good.cumulative_work);
        wrong_tip.new_tip.height += 1;
        expect(wrong_tip, &|e| {
            matches!(
                e,
                StorageError::InvalidUpdate(UpdateError::TipMismatch { .. })
            )
        });
        let mut wrong_work = ChainUpdate::extend(good.block.clone(), good.cumulative_work);
        wrong_work.new_tip.cumulative_work = Work::ZERO;
        expect(wrong_work, &|e| {
            matches!(
                e,
                StorageError::InvalidUpdate(UpdateError::TipWorkMismatch { .. })
            )
        });
    }

    /// Updates refused for what they hold: replayed items and nonces, genesis, size.
    fn rejected_contents(
        m: &Maker,
        t: &talos_storage::HeaderEntry,
        tip: ChainTip,
        (b1, b2): (&NewBlock, &NewBlock),
        expect: &Expect<'_>,
    ) {
        // Duplicate item (already in the best chain), and a duplicate within one block.
        let dup_item = child(t, vec![b1.block.items[0].clone()], 0);
        expect(
            ChainUpdate::extend(dup_item.block, dup_item.cumulative_work),
            &|e| {
                matches!(
                    e,
                    StorageError::InvalidUpdate(UpdateError::DuplicateItem { .. })
                )
            },
        );
        let twice = child(t, vec![m.item(70), m.item(70)], 0);
        expect(
            ChainUpdate::extend(twice.block, twice.cumulative_work),
            &|e| {
                matches!(
                    e,
                    StorageError::InvalidUpdate(UpdateError::DuplicateItem { .. })
                )
            },
        );
        // Same (author, nonce), different item: another author's key cannot collide, so use
        // a second item with the same nonce but different content.
        let reuse = {
            let other = Maker::new(4);
            let mut item = other.item(3);
            let unsigned = talos_chain::UnsignedItem {
                timestamp_ms: item.item().timestamp_ms + 1,
                ..item.item().clone()
            };
            item = unsigned.sign(other.key(), support::spec().network_id);
            child(t, vec![item], 0)
        };
        expect(
            ChainUpdate::extend(reuse.block, reuse.cumulative_work),
            &|e| {
                matches!(
                    e,
                    StorageError::InvalidUpdate(UpdateError::DuplicateNonce { nonce: 3, .. })
                )
            },
        );
        // A good block then a bad one in the same update: nothing of it is written.
        let g1 = child(t, m.items([80]), 0);
        let g2 = child(&entry(&g1), vec![b1.block.items[1].clone()], 0);
        expect(
            ChainUpdate {
                store: vec![g1.clone(), g2.clone()],
                disconnect: vec![],
                connect: vec![g1.block.id(), g2.block.id()],
                new_tip: entry(&g2).as_tip(),
            },
            &|e| {
                matches!(
                    e,
                    StorageError::InvalidUpdate(UpdateError::DuplicateItem { .. })
                )
            },
        );
        // Genesis cannot be disconnected.
        let disconnect_all = ChainUpdate {
            store: vec![],
            disconnect: vec![b2.block.id(), b1.block.id(), genesis().id()],
            connect: vec![],
            new_tip: tip,
        };
        expect(disconnect_all, &|e| {
            matches!(
                e,
                StorageError::InvalidUpdate(UpdateError::DisconnectGenesis)
            )
        });
        // Too many blocks in one update.
        let huge = ChainUpdate {
            store: vec![],
            disconnect: vec![Hash256::ZERO; MAX_UPDATE_BLOCKS + 1],
            connect: vec![],
            new_tip: tip,
        };
        expect(huge, &|e| {
            matches!(e, StorageError::InvalidUpdate(UpdateError::TooLarge { .. }))
        });
    }

    pub(crate) fn unknown_lookups(s: &impl Store) {
        let unknown = Hash256::sha256(b"unknown");
        let m = Maker::new(5);
        assert_eq!(s.block(&unknown).unwrap(), None);
        assert_eq!(s.header(&unknown).unwrap(), None);
        assert!(!s.contains_block(&unknown).unwrap());
        assert!(!s.is_best_chain(&unknown).unwrap());
        assert_eq!(s.best_id_at(u64::MAX).unwrap(), None);
        assert_eq!(s.best_header_at(1).unwrap(), None);
        assert_eq!(s.best_block_at(1).unwrap(), None);
        assert_eq!(s.item_location(&unknown).unwrap(), None);
        assert_eq!(s.item(&unknown).unwrap(), None);
        assert_eq!(s.item_proof(&unknown).unwrap(), None);
        assert_eq!(s.item_by_nonce(&m.key().verifying_key(), 1).unwrap(), None);
        assert_eq!(s.find_fork_point(&[unknown]).unwrap(), None);
        assert!(matches!(
            s.reorg_path(&unknown, 10),
            Err(StorageError::NotFound { .. })
        ));
        assert!(s.best_blocks(u64::MAX, 10, 1 << 20).unwrap().is_empty());
    }

    pub(crate) fn kv_space(s: &impl Store) {
        assert_eq!(s.kv_get("ratchet", b"a").unwrap(), None);
        s.kv_put("ratchet", b"a", b"1").unwrap();
        s.kv_put("ratchet", b"b", b"2").unwrap();
        s.kv_put("ratchet", b"c", b"").unwrap();
        s.kv_put("mailbox", b"a", b"other").unwrap();
        assert_eq!(s.kv_get("ratchet", b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(s.kv_get("ratchet", b"c").unwrap(), Some(Vec::new()));
        assert_eq!(s.kv_get("mailbox", b"a").unwrap(), Some(b"other".to_vec()));
        s.kv_put("ratchet", b"a", b"updated").unwrap();
        assert_eq!(
            s.kv_get("ratchet", b"a").unwrap(),
            Some(b"updated".to_vec())
        );
        let all = s.kv_scan("ratchet", None, 100).unwrap();
        let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, vec![&b"a"[..], b"b", b"c"]);
        let page = s.kv_scan("ratchet", Some(b"a"), 1).unwrap();
        assert_eq!(page, vec![(b"b".to_vec(), b"2".to_vec())]);
        assert_eq!(s.kv_scan("mailbox", None, 10).unwrap().len(), 1);
        assert!(s.kv_scan("empty", None, 10).unwrap().is_empty());
        s.kv_delete("ratchet", b"a").unwrap();
        s.kv_delete("ratchet", b"never").unwrap();
        assert_eq!(s.kv_get("ratchet", b"a").unwrap(), None);
        // Batches are atomic and ordered.
        let mut batch = KvBatch::new();
        batch.put("mailbox", b"x", b"1").unwrap();
        batch.put("mailbox", b"y", b"2").unwrap();
        batch.delete("mailbox", b"x").unwrap();
        s.kv_write(batch).unwrap();
        assert_eq!(s.kv_get("mailbox", b"x").unwrap(), None);
        assert_eq!(s.kv_get("mailbox", b"y").unwrap(), Some(b"2".to_vec()));
        // Limits and namespace rules.
        assert!(matches!(
            s.kv_put("ratchet", &vec![0; MAX_KV_KEY + 1], b""),
            Err(StorageError::KvTooLarge { what: "key", .. })
        ));
        assert!(matches!(
            s.kv_get("Bad Namespace", b"a"),
            Err(StorageError::BadNamespace(_))
        ));
        // The chain is untouched.
        assert_eq!(s.tip().unwrap().height, 0);
        assert_eq!(s.stats().unwrap().kv_entries, 4);
    }

    pub(crate) fn concurrent_readers_and_writer<S: Store + 'static>(s: Arc<S>) {
        let m = Maker::fast(6);
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let tip = s.tip().unwrap();
                        assert!(s.header(&tip.id).unwrap().is_some());
                        s.best_headers(0, 50).unwrap();
                    }
                })
            })
            .collect();
        for h in 1..=30u64 {
            let tip = tip_entry(&*s);
            let nb = child(&tip, m.items([h]), 0);
            s.commit(ChainUpdate::extend(nb.block, nb.cumulative_work))
                .unwrap();
        }
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(s.tip().unwrap().height, 30);
        full_check(&*s);
    }
}

macro_rules! suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn genesis_init() {
                cases::genesis_init(&$make.store);
            }

            #[test]
            fn linear_import() {
                cases::linear_import(&$make.store);
            }

            #[test]
            fn side_chain_storage_leaves_indexes() {
                cases::side_chain_storage_leaves_indexes(&$make.store);
            }

            #[test]
            fn pruning_removes_only_side_blocks() {
                cases::pruning_removes_only_side_blocks(&$make.store);
            }

            #[test]
            fn reorg_disconnect_two_connect_three() {
                cases::reorg_disconnect_two_connect_three(&$make.store);
            }

            #[test]
            fn rejected_updates_change_nothing() {
                cases::rejected_updates_change_nothing(&$make.store);
            }

            #[test]
            fn unknown_lookups() {
                cases::unknown_lookups(&$make.store);
            }

            #[test]
            fn kv_space() {
                cases::kv_space(&$make.store);
            }

            #[test]
            fn concurrent_readers_and_writer() {
                let f = $make;
                cases::concurrent_readers_and_writer(Arc::new(f.store));
            }
        }
    };
}

suite!(memory_backend, memory());
suite!(sled_backend, sled());
