//! Unit tests for the header tree: insertion outcomes and errors, tie-breaking, reorg paths,
//! ancestors, parent contexts and pruning.

use super::*;
use crate::validate::testutil::{EASY, accept, child, easy_spec, item, key};

const HARD: CompactTarget = CompactTarget(0x2000_ffff);

/// A child header of `parent` (no proof of work: the tree does not check it).
fn hdr(parent: &BlockHeader, target: CompactTarget, salt: u64) -> BlockHeader {
    BlockHeader {
        height: parent.height + 1,
        prev_hash: parent.id(),
        timestamp_ms: parent.timestamp_ms + 1000,
        target,
        nonce: salt,
        ..*parent
    }
}

/// Inserts a chain of `n` headers on `from`, returning them.
fn extend(
    tree: &mut HeaderTree,
    from: &BlockHeader,
    n: usize,
    target: CompactTarget,
    salt: u64,
) -> Vec<BlockHeader> {
    let mut out: Vec<BlockHeader> = Vec::new();
    for _ in 0..n {
        let parent = out.last().unwrap_or(from);
        let h = hdr(parent, target, salt);
        tree.insert(h).unwrap();
        out.push(h);
    }
    out
}

fn work(t: CompactTarget) -> Work {
    t.to_target().unwrap().work()
}

#[test]
fn starts_at_genesis() {
    let spec = easy_spec();
    let tree = HeaderTree::new(&spec);
    let best = tree.best();
    assert_eq!(best.id, spec.genesis_hash());
    assert_eq!(best.height, 0);
    assert_eq!(best.cumulative_work, genesis_work(&spec));
    assert_eq!((tree.len(), tree.is_empty()), (1, false));
    assert_eq!(tree.root(), spec.genesis_hash());
    assert!(tree.is_on_best_chain(&spec.genesis_hash()));
}

#[test]
fn extending_the_tip_moves_it() {
    let spec = easy_spec();
    let mut tree = HeaderTree::new(&spec);
    let g = spec.genesis().header;
    let a = hdr(&g, EASY, 0);
    assert_eq!(tree.insert(a), Ok(InsertOutcome::ExtendedBest));
    let b = hdr(&a, EASY, 0);
    assert_eq!(tree.insert(b), Ok(InsertOutcome::ExtendedBest));
    assert_eq!(tree.best().id, b.id());
    assert_eq!(tree.best().height, 2);
    assert_eq!(
        tree.best().cumulative_work,
        genesis_work(&spec)
            .saturating_add(work(EASY))
            .saturating_add(work(EASY))
    );
    assert_eq!(tree.header(&a.id()), Some(&a));
    assert_eq!(tree.best_at(1), Some(a.id()));
}

#[test]
fn insert_errors() {
    let spec = easy_spec();
    let mut tree = HeaderTree::new(&spec);
    let g = spec.genesis().header;
    let a = hdr(&g, EASY, 0);
    tree.insert(a).unwrap();
    let e = tree.insert(a).unwrap_err();
    assert_eq!(e, ForkChoiceError::AlreadyKnown { id: a.id() });
    assert_eq!(e.code(), "already_known");

    let orphan = hdr(&hdr(&a, EASY, 0), EASY, 0);
    let e = tree.insert(orphan).unwrap_err();
    assert_eq!(
        e,
        ForkChoiceError::Orphan {
            parent: orphan.prev_hash
        }
    );
    assert_eq!(e.code(), "orphan");

    let mut tall = hdr(&a, EASY, 1);
    tall.height = 9;
    let e = tree.insert(tall).unwrap_err();
    assert_eq!(
        e,
        ForkChoiceError::HeightMismatch {
            expected: 2,
            found: 9
        }
    );
    assert_eq!(e.code(), "height_mismatch");

    let bad = hdr(&a, CompactTarget(0), 2);
    let e = tree.insert(bad).unwrap_err();
    assert_eq!(e.code(), "invalid_target");

    let e = tree.reorg_path(&Hash256::ZERO, &a.id()).unwrap_err();
    assert_eq!(e, ForkChoiceError::Unknown { id: Hash256::ZERO });
    assert_eq!(e.code(), "unknown_header");
    assert_eq!(tree.len(), 2);
}

#[test]
fn equal_work_keeps_the_first_seen_tip() {
    let spec = easy_spec();
    let mut tree = HeaderTree::new(&spec);
    let g = spec.genesis().header;
    let a = hdr(&g, EASY, 1);
    let b = hdr(&g, EASY, 2);
    assert_eq!(tree.insert(a), Ok(InsertOutcome::ExtendedBest));
    assert_eq!(tree.insert(b), Ok(InsertOutcome::SideBranch));
    assert_eq!(tree.best().id, a.id());
    assert!(!tree.is_on_best_chain(&b.id()));
}

#[test]
fn more_work_on_a_shorter_branch_wins_and_reports_the_reorg() {
    let spec = easy_spec();
    let mut tree = HeaderTree::new(&spec);
    let g = spec.genesis().header;
    let base = extend(&mut tree, &g, 2, EASY, 0);
    let long = extend(&mut tree, &base[1], 3, EASY, 1);
    assert_eq!(tree.best().id, long[2].id());
    // One hard block outweighs three easy ones.
    let hard = hdr(&base[1], HARD, 2);
    let outcome = tree.insert(hard).unwrap();
    let expected = Reorg {
        common_ancestor: base[1].id(),
        disconnect: vec![long[2].id(), long[1].id(), long[0].id()],
        connect: vec![hard.id()],
    };
    assert_eq!(outcome, InsertOutcome::Reorged(expected));
    assert_eq!(tree.best().id, hard.id());
    assert_eq!(tree.best().height, 3);
    assert_eq!(tree.best_at(3), Some(hard.id()));
    assert_eq!(tree.best_at(4), None);
    assert!(!tree.is_on_best_chain(&long[0].id()));
    assert!(tree.is_on_best_chain(&base[0].id()));
}

#[test]
fn reorg_path_between_branches_and_along_one() {
    let spec = easy_spec();
    let mut tree = HeaderTree::new(&spec);
    let g = spec.genesis().header;
    let base = extend(&mut tree, &g, 2, EASY, 0);
    let left = extend(&mut tree, &base[1], 2, EASY, 1);
    let right = extend(&mut tree, &base[1], 3, EASY, 2);
    let r = tree.reorg_path(&left[1].id(), &right[2].id()).unwrap();
    assert_eq!(r.common_ancestor, base[1].id());
    assert_eq!(r.disconnect, vec![left[1].id(), left[0].id()]);
    assert_eq!(r.connect, vec![right[0].id(), right[1].id(), right[2].id()]);
    let along = tree.reorg_path(&base[0].id(), &left[1].id()).unwrap();
    assert_eq!(along.common_ancestor, base[0].id());
    assert!(along.disconnect.is_empty());
    assert_eq!(
        along.connect,
        vec![base[1].id(), left[0].id(), left[1].id()]
    );
    let same = tree.reorg_path(&left[0].id(), &left[0].id()).unwrap();
    assert!(same.disconnect.is_empty() && same.connect.is_empty());
}

#[test]
fn ancestors_on_and_off_the_best_chain() {
    let spec = easy_spec();
    let mut tree = HeaderTree::new(&spec);
    let g = spec.genesis().header;
    let main = extend(&mut tree, &g, 5, EASY, 0);
    let side = extend(&mut tree, &main[1], 2, EASY, 1);
    assert_eq!(tree.ancestor(&main[4].id(), 0), Some(g.id()));
    // main[i] is at height i + 1.
    assert_eq!(tree.ancestor(&main[4].id(), 3), Some(main[2].id()));
    assert_eq!(tree.ancestor(&main[4].id(), 5), Some(main[4].id()));
    assert_eq!(tree.ancestor(&main[4].id(), 6), None);
    assert_eq!(tree.ancestor(&side[1].id(), 3), Some(side[0].id()));
    assert_eq!(tree.ancestor(&side[1].id(), 1), Some(main[0].id()));
    assert_eq!(tree.ancestor(&Hash256::ZERO, 0), None);
}

#[test]
fn parent_context_matches_the_validated_chain() {
    let spec = easy_spec();
    let mut tree = HeaderTree::new(&spec);
    let mut ctx = ParentContext::for_genesis(&spec);
    assert_eq!(tree.parent_context(&ctx.id), Some(ctx.clone()));
    let k = key(1);
    for n in 0..15 {
        let valid = accept(&spec, &ctx, child(&spec, &ctx, vec![item(&spec, &k, n)]));
        tree.insert(*valid.header()).unwrap();
        ctx = ctx.child_context(&valid);
        assert_eq!(tree.parent_context(&ctx.id), Some(ctx.clone()));
    }
    assert_eq!(tree.parent_context(&Hash256::ZERO), None);
}

#[test]
fn pruning_bounds_memory_and_keeps_contexts_right() {
    let spec = easy_spec();
    let config = ForkChoiceConfig::default()
        .with_max_headers(100)
        .with_keep_depth(64);
    let mut tree = HeaderTree::with_config(&spec, config);
    let g = spec.genesis().header;
    let main = extend(&mut tree, &g, 40, EASY, 0);
    // A side branch forking at height 5.
    let side = extend(&mut tree, &main[4], 3, EASY, 1);
    let main2 = extend(&mut tree, &main[39], 120, EASY, 0);
    assert!(tree.len() <= 100, "len {}", tree.len());
    let tip = tree.best();
    assert_eq!(tip.id, main2[119].id());
    assert_eq!(tip.height, 160);
    assert_ne!(tree.root(), g.id());
    assert!(
        !tree.contains(&side[0].id()),
        "side branch below the root dropped"
    );
    assert!(!tree.contains(&g.id()));
    // The root's context still sees its pruned parent's timestamp.
    let root = tree.root();
    let root_header = *tree.header(&root).unwrap();
    let ctx = tree.parent_context(&root).unwrap();
    assert_eq!(
        ctx.grandparent_timestamp,
        Some(root_header.timestamp_ms - 1000)
    );
    let late = hdr(&side[2], EASY, 9);
    assert_eq!(
        tree.insert(late),
        Err(ForkChoiceError::Orphan {
            parent: side[2].id()
        })
    );
    // Ancestors and reorg paths still work from the root up.
    assert_eq!(tree.ancestor(&tip.id, root_header.height), Some(root));
    let path = tree.reorg_path(&root, &tip.id).unwrap();
    assert_eq!(path.connect.len() as u64, tip.height - root_header.height);
}

#[test]
fn a_tree_full_of_headers_above_its_root_refuses_more() {
    let spec = easy_spec();
    let config = ForkChoiceConfig::default().with_max_headers(11);
    let mut tree = HeaderTree::with_config(&spec, config);
    let g = spec.genesis().header;
    // Tip at height 5 with keep_depth capped at 11 / 2 = 5: the root cannot move, and five
    // siblings at height 1 fill the tree.
    let main = extend(&mut tree, &g, 5, EASY, 0);
    for salt in 1..=5 {
        tree.insert(hdr(&g, EASY, salt)).unwrap();
    }
    assert_eq!(tree.len(), 11);
    let e = tree.insert(hdr(&main[4], EASY, 0)).unwrap_err();
    assert_eq!(e, ForkChoiceError::Full { max: 11 });
    assert_eq!(e.code(), "header_tree_full");
}

#[test]
fn from_checkpoint_roots_the_tree_mid_chain() {
    let spec = easy_spec();
    let g = spec.genesis().header;
    let a = hdr(&g, EASY, 0);
    let mut tree = HeaderTree::from_checkpoint(
        a,
        work(EASY),
        Some(g.timestamp_ms),
        ForkChoiceConfig::default(),
    );
    assert_eq!(tree.best().height, 1);
    let b = hdr(&a, EASY, 0);
    assert_eq!(tree.insert(b), Ok(InsertOutcome::ExtendedBest));
    let ctx = tree.parent_context(&a.id()).unwrap();
    assert_eq!(ctx.grandparent_timestamp, Some(g.timestamp_ms));
}
