//! Property tests of the state tree (sparse Merkle tree): proofs, canonical shape, old roots,
//! sets and inserts.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::sample::Index;
use talos_chain::Hash256;
use talos_chain::state::{
    EMPTY_ROOT, MemoryNodes, Node, StateLookup, StateProof, StateWrite, Terminal, WriteKind,
    apply_updates, apply_writes, get, prove,
};

/// `key` with bit `i` (most significant bit of byte 0 first) flipped.
fn flip(key: &Hash256, i: usize) -> Hash256 {
    let mut out = *key;
    out.0[i / 8] ^= 0x80 >> (i % 8);
    out
}

/// Up to ~200 keys: random ones, and neighbours of earlier keys differing only in a late bit,
/// so that long shared prefixes (down to depth 256) are common.
fn keys() -> impl Strategy<Value = Vec<Hash256>> {
    (
        prop::collection::vec(any::<[u8; 32]>(), 1..120),
        prop::collection::vec((any::<Index>(), 160usize..256), 0..80),
    )
        .prop_map(|(random, near)| {
            let mut keys: Vec<Hash256> = random.into_iter().map(Hash256).collect();
            for (of, bit) in near {
                let neighbour = flip(&keys[of.index(keys.len())], bit);
                keys.push(neighbour);
            }
            keys
        })
}

/// Keys with values, some keys given several values (the last one counts).
fn updates() -> impl Strategy<Value = Vec<(Hash256, Hash256)>> {
    (
        keys(),
        prop::collection::vec(any::<Index>(), 0..40),
        any::<u64>(),
    )
        .prop_map(|(keys, repeats, seed)| {
            let value = |n: usize| Hash256::sha256_parts(&[&seed.to_be_bytes(), &n.to_be_bytes()]);
            let mut out: Vec<_> = keys
                .iter()
                .enumerate()
                .map(|(n, k)| (*k, value(n)))
                .collect();
            for (n, at) in repeats.iter().enumerate() {
                out.push((keys[at.index(keys.len())], value(keys.len() + n)));
            }
            out
        })
}

/// The map `updates` leave: the last value of each key.
fn final_map(updates: &[(Hash256, Hash256)]) -> BTreeMap<Hash256, Hash256> {
    updates.iter().copied().collect()
}

/// The canonical root of `entries` (sorted, distinct keys) at `depth`, from the definition.
fn reference_root(entries: &[(Hash256, Hash256)], depth: usize) -> Hash256 {
    match entries {
        [] => Hash256::ZERO,
        [(key, value)] => Node::Leaf {
            key: *key,
            value: *value,
        }
        .hash(),
        _ => {
            let split =
                entries.partition_point(|(k, _)| k.0[depth / 8] & (0x80 >> (depth % 8)) == 0);
            let (left, right) = entries.split_at(split);
            let l = reference_root(left, depth + 1);
            let r = reference_root(right, depth + 1);
            Node::Internal { left: l, right: r }.hash()
        }
    }
}

/// Applies `batches` in turn on one store, returning it and the root after each batch
/// (`roots[0]` is the empty root).
fn apply_batches(batches: &[&[(Hash256, Hash256)]]) -> (MemoryNodes, Vec<Hash256>) {
    let mut store = MemoryNodes::new();
    let mut roots = vec![EMPTY_ROOT];
    for batch in batches {
        let delta = apply_updates(&store, *roots.last().unwrap(), batch).unwrap();
        store.extend(&delta);
        roots.push(delta.root);
    }
    (store, roots)
}

/// Writes on the keys of `base` (picked by `Index`) or on new keys, sets or inserts, with
/// values from `seed`.
fn writes_on(
    base: &BTreeMap<Hash256, Hash256>,
    picks: &[(Index, Option<[u8; 32]>, bool)],
    seed: u64,
) -> Vec<StateWrite> {
    let keys: Vec<_> = base.keys().copied().collect();
    picks
        .iter()
        .enumerate()
        .map(|(n, (at, new, insert))| StateWrite {
            key: new.map_or_else(|| keys[at.index(keys.len())], Hash256),
            value: Hash256::sha256_parts(&[b"write", &seed.to_be_bytes(), &n.to_be_bytes()]),
            kind: if *insert {
                WriteKind::Insert
            } else {
                WriteKind::Set
            },
        })
        .collect()
}

/// `writes` applied one by one on `map`, and the keys whose inserts found a value `map` had
/// (keys written by a set excepted), sorted.
fn model_writes(
    map: &BTreeMap<Hash256, Hash256>,
    writes: &[StateWrite],
) -> (BTreeMap<Hash256, Hash256>, Vec<Hash256>) {
    let mut after = map.clone();
    for write in writes {
        match write.kind {
            WriteKind::Set => {
                after.insert(write.key, write.value);
            }
            WriteKind::Insert => {
                after.entry(write.key).or_insert(write.value);
            }
        }
    }
    let set: BTreeSet<_> = writes
        .iter()
        .filter(|w| w.kind == WriteKind::Set)
        .map(|w| w.key)
        .collect();
    let already_set: BTreeSet<_> = writes
        .iter()
        .map(|w| w.key)
        .filter(|k| map.contains_key(k) && !set.contains(k))
        .collect();
    (after, already_set.into_iter().collect())
}

/// A proof must verify to the truth, and the proof with one bit flipped must fail: every bit
/// of the terminal, and in every sibling the bit `salt` picks (all bits of all siblings would
/// be quadratic in the depth, and paths go 256 deep).
fn check_proof(proof: &StateProof, root: &Hash256, key: &Hash256, truth: StateLookup, salt: u64) {
    assert_eq!(proof.verify(root, key), Ok(truth));
    let refuted = |bad: &StateProof| {
        let verdict = bad.verify(root, key);
        // Never another answer; and with SHA-256 not even the same one.
        assert!(
            verdict.is_err(),
            "flipped proof gave {verdict:?}, truth {truth:?}"
        );
    };
    let mut bad = proof.clone();
    for s in 0..proof.siblings.len() {
        let bit = (salt.wrapping_mul(s as u64 + 1) >> 7) as usize % 256;
        bad.siblings[s] = flip(&proof.siblings[s], bit);
        refuted(&bad);
        bad.siblings[s] = proof.siblings[s];
    }
    if let Terminal::Leaf { key: k, value } = proof.terminal {
        for bit in 0..256 {
            bad.terminal = Terminal::Leaf {
                key: flip(&k, bit),
                value,
            };
            refuted(&bad);
            bad.terminal = Terminal::Leaf {
                key: k,
                value: flip(&value, bit),
            };
            refuted(&bad);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// (1) Every key proves present with its value, other keys prove absent.
    #[test]
    fn state_proofs_verify_to_the_truth(
        updates in updates(),
        others in prop::collection::vec(any::<[u8; 32]>(), 1..20),
        near in prop::collection::vec((any::<Index>(), 0usize..256), 1..20),
    ) {
        let map = final_map(&updates);
        let (store, roots) = apply_batches(&[&updates]);
        let root = roots[1];
        for (key, value) in &map {
            prop_assert_eq!(get(&store, root, key), Ok(Some(*value)));
            let proof = prove(&store, root, key).unwrap();
            prop_assert_eq!(proof.verify(&root, key), Ok(StateLookup::Present(*value)));
        }
        let keys: Vec<_> = map.keys().copied().collect();
        let absent = others
            .into_iter()
            .map(Hash256)
            .chain(near.iter().map(|(of, bit)| flip(&keys[of.index(keys.len())], *bit)))
            .filter(|k| !map.contains_key(k));
        for key in absent {
            prop_assert_eq!(get(&store, root, &key), Ok(None));
            let proof = prove(&store, root, &key).unwrap();
            prop_assert_eq!(proof.verify(&root, &key), Ok(StateLookup::Absent));
        }
    }

    /// (2) The root depends on the final map only: not on order, not on batch splitting.
    #[test]
    fn state_root_is_canonical(
        updates in updates(),
        cuts in prop::collection::vec(any::<Index>(), 0..12),
        order in any::<u64>(),
    ) {
        let map = final_map(&updates);
        let sorted: Vec<_> = map.iter().map(|(k, v)| (*k, *v)).collect();
        let expected = reference_root(&sorted, 0);

        let (_, one) = apply_batches(&[&updates]);
        prop_assert_eq!(one[1], expected);

        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(updates.len() + 1)).collect();
        at.extend([0, updates.len()]);
        at.sort_unstable();
        let pieces: Vec<_> = at.windows(2).map(|w| &updates[w[0]..w[1]]).collect();
        let (_, many) = apply_batches(&pieces);
        prop_assert_eq!(*many.last().unwrap(), expected);

        let singles: Vec<_> = updates.chunks(1).collect();
        let (_, each) = apply_batches(&singles);
        prop_assert_eq!(*each.last().unwrap(), expected);

        // The final map inserted in a scrambled order, one key per batch.
        let mut scrambled = sorted.clone();
        scrambled.sort_by_key(|(k, _)| Hash256::sha256_parts(&[&order.to_be_bytes(), &k.0]));
        let (_, shuffled) = apply_batches(&scrambled.chunks(1).collect::<Vec<_>>());
        prop_assert_eq!(*shuffled.last().unwrap(), expected);
    }

    /// (3) An old root read from the shared store answers as a fresh tree of its updates.
    #[test]
    fn state_rolling_back_equals_rebuilding(
        updates in updates(),
        cuts in prop::collection::vec(any::<Index>(), 1..10),
        pick in any::<Index>(),
    ) {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(updates.len() + 1)).collect();
        at.extend([0, updates.len()]);
        at.sort_unstable();
        let batches: Vec<_> = at.windows(2).map(|w| &updates[w[0]..w[1]]).collect();
        let (store, roots) = apply_batches(&batches);

        let i = pick.index(roots.len());
        let prefix = &updates[..at[i]];
        let (_, fresh) = apply_batches(&[prefix]);
        prop_assert_eq!(roots[i], fresh[1]);

        let then = final_map(prefix);
        for (key, _) in &updates {
            let truth = then.get(key).copied();
            prop_assert_eq!(get(&store, roots[i], key), Ok(truth));
            let proof = prove(&store, roots[i], key).unwrap();
            let lookup = truth.map_or(StateLookup::Absent, StateLookup::Present);
            prop_assert_eq!(proof.verify(&roots[i], key), Ok(lookup));
        }
    }

    /// (4) No single-bit alteration of a sibling or of the terminal survives verification.
    #[test]
    fn state_proof_bit_flips_are_refuted(
        updates in updates(),
        present in any::<Index>(),
        absent in any::<[u8; 32]>(),
        near in (any::<Index>(), 0usize..256),
        salt in any::<u64>(),
    ) {
        let map = final_map(&updates);
        let (store, roots) = apply_batches(&[&updates]);
        let root = roots[1];
        let keys: Vec<_> = map.keys().copied().collect();
        let key = keys[present.index(keys.len())];
        let proof = prove(&store, root, &key).unwrap();
        check_proof(&proof, &root, &key, StateLookup::Present(map[&key]), salt);
        for other in [Hash256(absent), flip(&keys[near.0.index(keys.len())], near.1)] {
            if !map.contains_key(&other) {
                let proof = prove(&store, root, &other).unwrap();
                check_proof(&proof, &root, &other, StateLookup::Absent, salt);
            }
        }
    }

    /// (5) Sets and inserts, several per key, on a tree: what writing them one by one gives,
    /// and the inserts that found their key set are reported.
    #[test]
    fn state_writes_apply_in_order(
        updates in updates(),
        picks in prop::collection::vec(
            (any::<Index>(), prop::option::weighted(0.3, any::<[u8; 32]>()), any::<bool>()),
            1..80,
        ),
        seed in any::<u64>(),
    ) {
        let map = final_map(&updates);
        let (mut store, roots) = apply_batches(&[&updates]);
        let writes = writes_on(&map, &picks, seed);
        let (after, already_set) = model_writes(&map, &writes);
        let outcome = apply_writes(&store, roots[1], &writes).unwrap();
        let sorted: Vec<_> = after.iter().map(|(k, v)| (*k, *v)).collect();
        prop_assert_eq!(outcome.delta.root, reference_root(&sorted, 0));
        prop_assert_eq!(&outcome.already_set, &already_set);
        store.extend(&outcome.delta);
        for (key, value) in &after {
            prop_assert_eq!(get(&store, outcome.delta.root, key), Ok(Some(*value)));
        }
    }
}
