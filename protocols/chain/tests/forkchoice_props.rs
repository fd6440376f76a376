//! Property tests of fork choice: random header trees with random targets.

use std::collections::HashMap;

use proptest::prelude::*;
use talos_chain::validate::genesis_work;
use talos_chain::{
    BlockHeader, CompactTarget, ForkChoiceConfig, ForkChoiceError, Hash256, HeaderTree,
    InsertOutcome, NetworkSpec, Work,
};

const TARGETS: [CompactTarget; 4] = [
    CompactTarget(0x207f_ffff),
    CompactTarget(0x2000_ffff),
    CompactTarget(0x1f7f_ffff),
    CompactTarget(0x1f00_ffff),
];

struct Model {
    headers: Vec<BlockHeader>,
    work: HashMap<Hash256, Work>,
}

/// Builds a random tree: each step picks an existing header (by seed) as parent.
fn build(spec: &NetworkSpec, steps: &[(usize, usize)]) -> (HeaderTree, Model, Vec<InsertOutcome>) {
    let g = spec.genesis().header;
    let mut tree = HeaderTree::new(spec);
    let mut model = Model {
        headers: vec![g],
        work: HashMap::from([(g.id(), genesis_work(spec))]),
    };
    let mut outcomes = Vec::new();
    for (i, &(parent_seed, target_seed)) in steps.iter().enumerate() {
        let parent = model.headers[parent_seed % model.headers.len()];
        let target = TARGETS[target_seed % TARGETS.len()];
        let h = BlockHeader {
            height: parent.height + 1,
            prev_hash: parent.id(),
            timestamp_ms: parent.timestamp_ms + 1000,
            target,
            nonce: i as u64,
            ..parent
        };
        outcomes.push(tree.insert(h).unwrap());
        let w = model.work[&parent.id()].saturating_add(target.to_target().unwrap().work());
        model.work.insert(h.id(), w);
        model.headers.push(h);
    }
    (tree, model, outcomes)
}

fn parent_of(model: &Model, id: &Hash256) -> Hash256 {
    model
        .headers
        .iter()
        .find(|h| h.id() == *id)
        .unwrap()
        .prev_hash
}

fn steps() -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((any::<usize>(), any::<usize>()), 1..120)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn best_is_the_first_seen_most_work_header(steps in steps()) {
        let spec = NetworkSpec::local();
        let (tree, model, _) = build(&spec, &steps);
        let max = model.work.values().max().copied().unwrap();
        let first_best = model.headers.iter().find(|h| model.work[&h.id()] == max).unwrap();
        let best = tree.best();
        prop_assert_eq!(best.id, first_best.id());
        prop_assert_eq!(best.cumulative_work, max);
        prop_assert_eq!(best.height, first_best.height);
        // The best chain index agrees with walking parents from the tip.
        let mut id = best.id;
        for h in (0..=best.height).rev() {
            prop_assert_eq!(tree.best_at(h), Some(id));
            prop_assert_eq!(tree.ancestor(&best.id, h), Some(id));
            id = parent_of(&model, &id);
        }
    }

    #[test]
    fn reorg_paths_are_consistent(steps in steps(), a_seed in any::<usize>(), b_seed in any::<usize>()) {
        let spec = NetworkSpec::local();
        let (tree, model, outcomes) = build(&spec, &steps);
        let a = model.headers[a_seed % model.headers.len()].id();
        let b = model.headers[b_seed % model.headers.len()].id();
        let r = tree.reorg_path(&a, &b).unwrap();
        let height = |id: &Hash256| tree.tip(id).unwrap().height;
        let ca = r.common_ancestor;
        prop_assert_eq!(r.disconnect.len() as u64, height(&a) - height(&ca));
        prop_assert_eq!(r.connect.len() as u64, height(&b) - height(&ca));
        prop_assert_eq!(tree.ancestor(&a, height(&ca)), Some(ca));
        prop_assert_eq!(tree.ancestor(&b, height(&ca)), Some(ca));
        // Disconnect runs from `a` down to a child of the ancestor; connect from a child of
        // the ancestor up to `b`; the two sides share nothing.
        let mut cursor = a;
        for id in &r.disconnect {
            prop_assert_eq!(*id, cursor);
            cursor = parent_of(&model, id);
        }
        prop_assert_eq!(cursor, ca);
        let mut cursor = ca;
        for id in &r.connect {
            prop_assert_eq!(parent_of(&model, id), cursor);
            cursor = *id;
        }
        prop_assert_eq!(cursor, b);
        prop_assert!(r.disconnect.iter().all(|d| !r.connect.contains(d)));
        // Every reported reorg moved the tip to its last connected block.
        for o in outcomes {
            if let InsertOutcome::Reorged(r) = o {
                prop_assert!(!r.disconnect.is_empty());
                prop_assert!(!r.connect.is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With a tiny tree that prunes often, the tree stays within its bound and still picks
    /// the first-seen most-work header among everything it accepted.
    #[test]
    fn pruned_trees_stay_bounded_and_pick_the_most_work(
        steps in prop::collection::vec((0usize..6, any::<usize>()), 1..200),
    ) {
        let spec = NetworkSpec::local();
        let config = ForkChoiceConfig::default().with_max_headers(30).with_keep_depth(10);
        let mut tree = HeaderTree::with_config(&spec, config);
        let g = spec.genesis().header;
        let mut accepted = vec![(g, genesis_work(&spec))];
        for (i, &(back, target_seed)) in steps.iter().enumerate() {
            // Parents among the most recent headers, so chains grow past the window.
            let (parent, parent_work) = accepted[accepted.len().saturating_sub(1 + back)];
            let target = TARGETS[target_seed % TARGETS.len()];
            let h = BlockHeader {
                height: parent.height + 1,
                prev_hash: parent.id(),
                timestamp_ms: parent.timestamp_ms + 1000,
                target,
                nonce: i as u64,
                ..parent
            };
            match tree.insert(h) {
                Ok(_) => {
                    let w = parent_work.saturating_add(target.to_target().unwrap().work());
                    accepted.push((h, w));
                }
                Err(ForkChoiceError::Orphan { .. } | ForkChoiceError::Full { .. }) => {}
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
            prop_assert!(tree.len() <= 30);
        }
        let max = accepted.iter().map(|(_, w)| *w).max().unwrap();
        let first = accepted.iter().find(|(_, w)| *w == max).unwrap().0;
        prop_assert_eq!(tree.best().id, first.id());
        prop_assert_eq!(tree.best().cumulative_work, max);
        prop_assert!(tree.parent_context(&first.id()).is_some());
    }
}
