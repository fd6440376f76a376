//! Unit tests of the state tree, against an independent recursive reference root (node hashes
//! are pinned by known answers in `node.rs`).

mod node;
mod proof;
mod tree;

use crate::hash::Hash256;

use super::{MemoryNodes, Node, apply_updates};

/// A pseudo-random 32-byte value.
fn h(n: u64) -> Hash256 {
    Hash256::sha256(&n.to_be_bytes())
}

/// A key with `first` as its first byte and zeros elsewhere.
fn key_starting(first: u8) -> Hash256 {
    let mut key = Hash256::ZERO;
    key.0[0] = first;
    key
}

/// `key` with bit `i` (MSB-first) flipped.
fn flip(key: &Hash256, i: usize) -> Hash256 {
    let mut out = *key;
    out.0[i / 8] ^= 0x80 >> (i % 8);
    out
}

/// The canonical root of `entries` (distinct keys) at `depth`, straight from the definition.
fn reference_root(entries: &[(Hash256, Hash256)], depth: usize) -> Hash256 {
    match entries {
        [] => Hash256::ZERO,
        [(key, value)] => Node::Leaf {
            key: *key,
            value: *value,
        }
        .hash(),
        _ => {
            let is_right = |k: &Hash256| k.0[depth / 8] & (0x80 >> (depth % 8)) != 0;
            let (right, left): (Vec<_>, Vec<_>) = entries.iter().partition(|(k, _)| is_right(k));
            let l = reference_root(&left, depth + 1);
            let r = reference_root(&right, depth + 1);
            Node::Internal { left: l, right: r }.hash()
        }
    }
}

/// A store holding the tree of `entries`, built in one batch, and its root.
fn tree_of(entries: &[(Hash256, Hash256)]) -> (MemoryNodes, Hash256) {
    let mut store = MemoryNodes::new();
    let delta = apply_updates(&store, Hash256::ZERO, entries).unwrap();
    store.extend(&delta);
    (store, delta.root)
}
