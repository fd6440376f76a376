//! The header store: one suite run against both backends (extension, side headers, reorgs,
//! refused updates, queries), then sled-only behaviour (reopen, corruption found on read and
//! by the integrity walk, genesis and format checks, one database per path).
//!
//! Headers here carry no proof of work (the store does not check it), but their cumulative
//! work is their parent's plus their own target's work, as the store requires.

mod header_support;

#[allow(unused_imports)]
use header_support::*;

macro_rules! suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn genesis_init() {
                cases::genesis_init(&$make.store);
            }

            #[test]
            fn extension_and_queries() {
                cases::extension_and_queries(&$make.store);
            }

            #[test]
            fn best_headers_is_capped() {
                cases::best_headers_is_capped(&$make.store);
            }

            #[test]
            fn side_headers_touch_no_index() {
                cases::side_headers_touch_no_index(&$make.store);
            }

            #[test]
            fn reorgs_move_the_index() {
                cases::reorgs_move_the_index(&$make.store);
            }

            #[test]
            fn refused_updates_change_nothing() {
                cases::refused_updates_change_nothing(&$make.store);
            }

            #[test]
            fn unknown_lookups() {
                cases::unknown_lookups(&$make.store);
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

/// The cases both backends run.
mod cases {
    use super::*;

    pub(crate) fn genesis_init(s: &impl HeaderStore) {
        let g = genesis_entry();
        assert_eq!(s.genesis_id(), g.id());
        assert_eq!(s.tip().unwrap(), g.as_tip());
        assert_eq!(s.header(&g.id(), g.height()).unwrap(), Some(g));
        assert_eq!(s.best_id_at(0).unwrap(), Some(g.id()));
        assert_eq!(s.best_id_at(1).unwrap(), None);
        assert!(s.contains(&g.id(), g.height()).unwrap());
        assert!(s.is_best_chain(&g.id(), g.height()).unwrap());
        assert_eq!(
            s.stats().unwrap(),
            HeaderStoreStats {
                headers: 1,
                heights: 1
            }
        );
        let report = full_check(s);
        assert_eq!(report.headers, 1);
        assert_eq!(header_work(&g.header), Some(g.cumulative_work));
    }

    pub(crate) fn extension_and_queries(s: &impl HeaderStore) {
        let mut all = vec![genesis_entry()];
        for salt in 0..10 {
            let entry = child(all.last().unwrap(), salt);
            assert_eq!(
                s.commit(HeaderUpdate::extend(entry)).unwrap(),
                entry.as_tip()
            );
            all.push(entry);
        }
        all.extend(extend(s, 20, 0));
        // A header with another target: the work sums follow each header's own target.
        let hard = child_with(all.last().unwrap(), 0, HARD);
        s.commit(HeaderUpdate::extend(hard)).unwrap();
        all.push(hard);
        assert_eq!(s.tip().unwrap(), hard.as_tip());
        assert_eq!(s.tip().unwrap().height, 31);
        for (height, entry) in all.iter().enumerate() {
            assert_eq!(s.best_id_at(height as u64).unwrap(), Some(entry.id()));
            assert_eq!(s.best_header_at(height as u64).unwrap(), Some(*entry));
            assert!(s.is_best_chain(&entry.id(), entry.height()).unwrap());
        }
        assert_eq!(s.best_headers(0, 100).unwrap(), all);
        assert_eq!(s.best_headers(5, 3).unwrap(), all[5..8].to_vec());
        assert_eq!(s.best_headers(30, 10).unwrap(), all[30..].to_vec());
        assert!(s.best_headers(32, 10).unwrap().is_empty());
        assert_eq!(
            s.stats().unwrap(),
            HeaderStoreStats {
                headers: 32,
                heights: 32
            }
        );
        assert_eq!(full_check(s).headers, 32);
        // An empty update that keeps the tip is accepted and changes nothing.
        let before = snapshot(s);
        let tip = s.tip().unwrap();
        assert_eq!(
            s.commit(HeaderUpdate::extend_many(vec![], tip)).unwrap(),
            tip
        );
        assert_eq!(snapshot(s), before);
    }

    pub(crate) fn best_headers_is_capped(s: &impl HeaderStore) {
        // Batches of 500 new headers, each stored and connected: 1,000 entries per update.
        for salt in 0..5 {
            extend(s, 500, salt);
        }
        assert_eq!(s.tip().unwrap().height, 2_500);
        let page = s.best_headers(1, usize::MAX).unwrap();
        assert_eq!(page.len(), MAX_HEADERS_PER_QUERY);
        assert_eq!(page[0].height(), 1);
        assert_eq!(s.best_headers(2_000, 1_000).unwrap().len(), 501);
        full_check(s);
    }

    pub(crate) fn side_headers_touch_no_index(s: &impl HeaderStore) {
        let main = extend(s, 8, 0);
        let tip = s.tip().unwrap();
        let side = run(&main[4], 3, 77);
        assert_eq!(
            s.commit(HeaderUpdate::side_headers(side.clone(), tip))
                .unwrap(),
            tip
        );
        assert_eq!(s.tip().unwrap(), tip);
        for entry in &side {
            assert_eq!(s.header(&entry.id(), entry.height()).unwrap(), Some(*entry));
            assert!(s.contains(&entry.id(), entry.height()).unwrap());
            assert!(!s.is_best_chain(&entry.id(), entry.height()).unwrap());
            assert_ne!(s.best_id_at(entry.height()).unwrap(), Some(entry.id()));
        }
        let stats = s.stats().unwrap();
        assert_eq!((stats.headers, stats.heights), (12, 9));
        // Storing them again (and a side header on a side header) is fine: stored ones are
        // skipped.
        let deeper = child(&side[2], 1);
        let mut again = side.clone();
        again.push(deeper);
        s.commit(HeaderUpdate::side_headers(again, tip)).unwrap();
        assert_eq!(s.stats().unwrap().headers, 13);
        assert_eq!(full_check(s).headers, 9);
    }

    pub(crate) fn reorgs_move_the_index(s: &impl HeaderStore) {
        let main = extend(s, 6, 0);
        // A branch from height 3, longer and partly harder.
        let mut branch = run(&main[2], 3, 9);
        branch.push(child_with(branch.last().unwrap(), 9, HARD));
        let reorg = HeaderUpdate {
            store: branch.clone(),
            disconnect: main[3..].iter().rev().map(HeaderEntry::id).collect(),
            connect: branch.iter().map(HeaderEntry::id).collect(),
            new_tip: branch[3].as_tip(),
        };
        assert_eq!(s.commit(reorg).unwrap(), branch[3].as_tip());
        assert_eq!(s.tip().unwrap().height, 7);
        for entry in main[..3].iter().chain(&branch) {
            assert!(s.is_best_chain(&entry.id(), entry.height()).unwrap());
        }
        for entry in &main[3..] {
            assert!(
                s.contains(&entry.id(), entry.height()).unwrap(),
                "disconnected stay stored"
            );
            assert!(!s.is_best_chain(&entry.id(), entry.height()).unwrap());
        }
        assert_eq!(s.stats().unwrap().heights, 8);
        full_check(s);

        // Back to the old branch (stored headers) plus new ones on it.
        let tail = run(&main[5], 3, 1);
        let back = HeaderUpdate {
            store: tail.clone(),
            disconnect: branch.iter().rev().map(HeaderEntry::id).collect(),
            connect: main[3..].iter().chain(&tail).map(HeaderEntry::id).collect(),
            new_tip: tail[2].as_tip(),
        };
        s.commit(back).unwrap();
        assert_eq!(s.tip().unwrap(), tail[2].as_tip());
        assert_eq!(s.best_id_at(4).unwrap(), Some(main[3].id()));
        assert!(
            !s.is_best_chain(&branch[0].id(), branch[0].height())
                .unwrap()
        );
        assert_eq!(full_check(s).headers, 10);

        // Disconnecting alone shortens the best chain and drops the index above it.
        let drop_two = HeaderUpdate {
            store: vec![],
            disconnect: vec![tail[2].id(), tail[1].id()],
            connect: vec![],
            new_tip: tail[0].as_tip(),
        };
        s.commit(drop_two).unwrap();
        assert_eq!(s.best_id_at(8).unwrap(), None);
        assert_eq!(s.best_id_at(9).unwrap(), None);
        assert_eq!(
            s.stats().unwrap(),
            HeaderStoreStats {
                headers: 14,
                heights: 8
            }
        );
        full_check(s);
    }

    pub(crate) fn unknown_lookups(s: &impl HeaderStore) {
        let ghost = Hash256::sha256(b"ghost");
        assert_eq!(s.header(&ghost, 1).unwrap(), None);
        assert!(!s.contains(&ghost, 1).unwrap());
        assert!(!s.is_best_chain(&ghost, 1).unwrap());
        assert_eq!(s.best_id_at(99).unwrap(), None);
        assert_eq!(s.best_header_at(99).unwrap(), None);
        assert!(s.best_headers(99, 10).unwrap().is_empty());
        assert_eq!(s.best_headers(0, 0).unwrap(), vec![]);
    }

    pub(crate) fn concurrent_readers_and_writer<S: HeaderStore + 'static>(s: Arc<S>) {
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let tip = s.tip().unwrap();
                        assert!(s.header(&tip.id, tip.height).unwrap().is_some());
                        s.best_headers(0, 50).unwrap();
                    }
                })
            })
            .collect();
        for salt in 0..30 {
            extend(&*s, 2, salt);
        }
        for r in readers {
            r.join().unwrap();
        }
        assert_eq!(s.tip().unwrap().height, 60);
        full_check(&*s);
    }

    /// Commits `update`, which must be refused with an error `check` accepts, and checks the
    /// store is exactly as before and holds none of the update's new headers.
    fn refused(s: &impl HeaderStore, update: HeaderUpdate, check: impl Fn(&StorageError) -> bool) {
        let before = snapshot(s);
        let new: Vec<(Hash256, u64)> = update
            .store
            .iter()
            .map(|e| (e.id(), e.height()))
            .filter(|(id, height)| !s.contains(id, *height).unwrap())
            .collect();
        let err = s.commit(update).unwrap_err();
        assert!(check(&err), "unexpected error: {err}");
        assert_eq!(
            snapshot(s),
            before,
            "refused update ({err}) changed the store"
        );
        for (id, height) in new {
            assert!(
                !s.contains(&id, height).unwrap(),
                "refused update ({err}) stored {id}"
            );
        }
    }

    fn update_error(e: &StorageError, f: impl Fn(&UpdateError) -> bool) -> bool {
        matches!(e, StorageError::InvalidUpdate(u) if f(u))
    }

    pub(crate) fn refused_updates_change_nothing(s: &impl HeaderStore) {
        let main = extend(s, 5, 0);
        let tip = s.tip().unwrap();
        let side = run(&main[1], 2, 5);
        s.commit(HeaderUpdate::side_headers(side.clone(), tip))
            .unwrap();
        refused_new_headers(s, &main);
        refused_chain_moves(s, &main, &side);
        refused_tips_and_size(s, &main);
        full_check(s);
    }

    /// New headers that do not fit their parent.
    fn refused_new_headers(s: &impl HeaderStore, main: &[HeaderEntry]) {
        let tip = s.tip().unwrap();
        let t = main[4];
        let mut orphan = child(&t, 1);
        orphan.header.prev_hash = Hash256::sha256(b"nowhere");
        refused(s, HeaderUpdate::side_headers(vec![orphan], tip), |e| {
            matches!(e, StorageError::MissingParent { .. })
        });
        // Headers are stored by height: one claiming a wrong height finds no parent there.
        let mut tall = child(&t, 2);
        tall.header.height = 9;
        refused(s, HeaderUpdate::side_headers(vec![tall], tip), |e| {
            matches!(e, StorageError::MissingParent { .. })
        });
        let work_refused = |e: &StorageError| {
            update_error(e, |u| matches!(u, UpdateError::WorkNotIncreasing { .. }))
        };
        let mut lazy = child(&t, 3);
        lazy.cumulative_work = t.cumulative_work;
        refused(s, HeaderUpdate::side_headers(vec![lazy], tip), work_refused);
        // More work than the header's own target gives is refused too.
        let mut boastful = child(&t, 4);
        boastful.cumulative_work = boastful.cumulative_work.saturating_add(own_work(&t.header));
        refused(s, HeaderUpdate::extend(boastful), work_refused);
        let mut no_target = child(&t, 5);
        no_target.header.target = CompactTarget(0);
        refused(
            s,
            HeaderUpdate::side_headers(vec![no_target], tip),
            work_refused,
        );
        // Good headers before a bad one are not stored either.
        let mut batch = run(&t, 3, 6);
        let mut bad = child(&batch[2], 6);
        bad.header.height += 1;
        batch.push(bad);
        refused(s, HeaderUpdate::extend_many(batch, tip), |e| {
            update_error(e, |u| matches!(u, UpdateError::BadHeight { .. }))
        });
    }

    /// Disconnects and connects that do not follow the best chain.
    fn refused_chain_moves(s: &impl HeaderStore, main: &[HeaderEntry], side: &[HeaderEntry]) {
        let tip = s.tip().unwrap();
        let not_best = |e: &StorageError| {
            update_error(e, |u| {
                matches!(u, UpdateError::NotBestChain { index: 0, .. })
            })
        };
        let moves =
            |store: Vec<HeaderEntry>, disconnect: Vec<Hash256>, connect, new_tip| HeaderUpdate {
                store,
                disconnect,
                connect,
                new_tip,
            };
        // A side header, and a best-chain header below the tip.
        refused(
            s,
            moves(vec![], vec![side[1].id()], vec![], side[0].as_tip()),
            not_best,
        );
        refused(
            s,
            moves(vec![], vec![main[3].id()], vec![], main[2].as_tip()),
            not_best,
        );
        // Tip first, then not its parent.
        refused(
            s,
            moves(
                vec![],
                vec![main[4].id(), main[2].id()],
                vec![],
                main[1].as_tip(),
            ),
            |e| {
                update_error(e, |u| {
                    matches!(u, UpdateError::NotBestChain { index: 1, .. })
                })
            },
        );
        // Down to genesis and past it.
        let mut all: Vec<Hash256> = main.iter().rev().map(HeaderEntry::id).collect();
        all.push(genesis().id());
        refused(
            s,
            moves(vec![], all, vec![], genesis_entry().as_tip()),
            |e| update_error(e, |u| matches!(u, UpdateError::DisconnectGenesis)),
        );
        // Connecting a side header onto the tip, and an unknown one.
        let sibling = child(&main[3], 8);
        refused(
            s,
            moves(vec![sibling], vec![], vec![sibling.id()], sibling.as_tip()),
            |e| update_error(e, |u| matches!(u, UpdateError::NotLinked { index: 0, .. })),
        );
        refused(
            s,
            moves(vec![], vec![], vec![Hash256::sha256(b"ghost")], tip),
            |e| matches!(e, StorageError::NotFound { .. }),
        );
    }

    /// Declared tips that are not the result, and an update over the size limit.
    fn refused_tips_and_size(s: &impl HeaderStore, main: &[HeaderEntry]) {
        let next = child(&main[4], 0);
        let tip_mismatch =
            |e: &StorageError| update_error(e, |u| matches!(u, UpdateError::TipMismatch { .. }));
        let mut wrong_height = HeaderUpdate::extend(next);
        wrong_height.new_tip.height += 1;
        refused(s, wrong_height, tip_mismatch);
        let mut wrong_id = HeaderUpdate::extend(next);
        wrong_id.new_tip.id = main[4].id();
        refused(s, wrong_id, tip_mismatch);
        let mut kept_old_tip = HeaderUpdate::extend(next);
        kept_old_tip.new_tip = main[4].as_tip();
        refused(s, kept_old_tip, tip_mismatch);
        let mut wrong_work = HeaderUpdate::extend(next);
        wrong_work.new_tip.cumulative_work = Work::ZERO;
        refused(s, wrong_work, |e| {
            update_error(e, |u| matches!(u, UpdateError::TipWorkMismatch { .. }))
        });
        // One entry over the limit (stored + connected count).
        let big = run(&main[4], MAX_HEADER_UPDATE / 2, 3);
        let mut too_large = HeaderUpdate::extend_many(big, s.tip().unwrap());
        too_large.disconnect.push(main[4].id());
        refused(s, too_large, |e| {
            update_error(e, |u| {
                matches!(u, UpdateError::TooLarge { limit, actual }
                    if *limit == MAX_HEADER_UPDATE && *actual == MAX_HEADER_UPDATE + 1)
            })
        });
        // Exactly at the limit is fine.
        let at_limit = run(&main[4], MAX_HEADER_UPDATE / 2, 3);
        let tip = s.tip().unwrap();
        s.commit(HeaderUpdate::extend_many(at_limit, tip)).unwrap();
    }
}
