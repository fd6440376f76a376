//! Proof benchmarks: state-tree (sparse Merkle) proof verification and RFC 9162 inclusion
//! proof verification, each next to a bare hash chain of the same length, and a 100-update
//! batch on a 100,000-key state tree.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::digest::generic_array::GenericArray;
use talos_chain::Hash256;
use talos_chain::merkle::{self, MerkleTree};
use talos_chain::state::{self, EMPTY_ROOT, MemoryNodes, StateLookup, StateProof};

const STATE_KEYS: u64 = 100_000;
const PROOFS: u64 = 1_000;
const MERKLE_LEAVES: u64 = 1_024;

fn h(domain: u8, n: u64) -> Hash256 {
    Hash256::sha256_parts(&[&[domain], &n.to_be_bytes()])
}

/// The 100,000-key tree, built once in one batch.
fn state_tree() -> (MemoryNodes, Hash256) {
    let entries: Vec<_> = (0..STATE_KEYS).map(|n| (h(0, n), h(1, n))).collect();
    let mut store = MemoryNodes::new();
    let delta = state::apply_updates(&store, EMPTY_ROOT, &entries).expect("memory source");
    store.extend(&delta);
    (store, delta.root)
}

/// SHA-256's initial value: where the bare chain's compressions start (the tree's start from
/// its midstates, the same cost).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The floor of any path verifier: `steps` SHA-256 compressions of `acc ‖ sibling` (the state
/// tree hashes a node with one), chained, the first one standing for the leaf.
fn bare_chain(start: &Hash256, siblings: &[Hash256], steps: usize) -> Hash256 {
    let mut acc = *start;
    let leaf = std::iter::once(&Hash256::ZERO);
    for sibling in leaf.chain(siblings.iter().cycle()).take(steps) {
        let mut block = GenericArray::default();
        block[..32].copy_from_slice(&acc.0);
        block[32..].copy_from_slice(&sibling.0);
        let mut state = SHA256_IV;
        sha2::compress256(&mut state, std::slice::from_ref(&block));
        for (bytes, word) in acc.0.chunks_exact_mut(4).zip(state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
    }
    acc
}

/// (a) Verifying 1,000 membership proofs of a 100,000-key tree vs bare chains of one
/// compression per sibling plus one for the leaf, the same total count.
fn state_proof_verify(c: &mut Criterion, store: &MemoryNodes, root: Hash256) {
    let keys: Vec<Hash256> = (0..PROOFS).map(|n| h(0, n * 97)).collect();
    let proofs: Vec<(Hash256, StateProof)> = keys
        .iter()
        .map(|k| (*k, state::prove(store, root, k).expect("memory source")))
        .collect();
    let hashes: usize = proofs.iter().map(|(_, p)| p.siblings.len() + 1).sum();
    eprintln!(
        "state tree: {STATE_KEYS} keys, {} nodes, mean proof depth {:.2}",
        store.len(),
        hashes as f64 / PROOFS as f64 - 1.0
    );
    for (key, proof) in &proofs {
        assert!(matches!(
            proof.verify(&root, key),
            Ok(StateLookup::Present(_))
        ));
    }

    let mut group = c.benchmark_group("state_proof_verify");
    group.throughput(Throughput::Elements(PROOFS));
    group.bench_function("verify", |b| {
        b.iter(|| {
            for (key, proof) in black_box(&proofs) {
                black_box(proof.verify(black_box(&root), key)).ok();
            }
        });
    });
    group.bench_function("bare_path_hash", |b| {
        b.iter(|| {
            for (key, proof) in black_box(&proofs) {
                black_box(bare_chain(key, &proof.siblings, proof.siblings.len() + 1));
            }
        });
    });
    group.finish();
}

/// (b) RFC 9162 inclusion proofs of all 1,024 leaves vs bare chains of the same node hashes
/// after the same leaf hash.
fn merkle_inclusion_verify(c: &mut Criterion) {
    let leaves: Vec<Hash256> = (0..MERKLE_LEAVES).map(|n| h(2, n)).collect();
    let tree = MerkleTree::new(&leaves);
    let root = tree.root();
    let proofs: Vec<_> = (0..MERKLE_LEAVES)
        .map(|i| tree.proof(i).expect("index in range"))
        .collect();
    for (leaf, proof) in leaves.iter().zip(&proofs) {
        assert_eq!(proof.verify(leaf.as_bytes(), &root), Ok(()));
    }
    let bare = |leaf: &Hash256, path: &[Hash256]| {
        path.iter()
            .fold(merkle::leaf_hash(leaf.as_bytes()), |acc, p| {
                merkle::node_hash(&acc, p)
            })
    };

    let mut group = c.benchmark_group("merkle_inclusion_verify");
    group.throughput(Throughput::Elements(MERKLE_LEAVES));
    group.bench_function("verify", |b| {
        b.iter(|| {
            for (leaf, proof) in leaves.iter().zip(black_box(&proofs)) {
                black_box(proof.verify(leaf.as_bytes(), black_box(&root))).ok();
            }
        });
    });
    group.bench_function("bare_path_hash", |b| {
        b.iter(|| {
            for (leaf, proof) in leaves.iter().zip(black_box(&proofs)) {
                black_box(bare(leaf, &proof.path));
            }
        });
    });
    group.finish();
}

/// (c) 100 updates (50 new keys, 50 overwrites) on the 100,000-key tree.
fn state_apply_100(c: &mut Criterion, store: &MemoryNodes, root: Hash256) {
    let updates: Vec<_> = (0..100u64)
        .map(|n| {
            let key = if n % 2 == 0 { h(3, n) } else { h(0, n * 991) };
            (key, h(4, n))
        })
        .collect();
    let delta = state::apply_updates(store, root, &updates).expect("memory source");
    eprintln!("state_apply_100: {} new nodes", delta.nodes.len());

    let mut group = c.benchmark_group("state_apply_100");
    group.throughput(Throughput::Elements(100));
    group.bench_function("apply_updates", |b| {
        b.iter(|| state::apply_updates(black_box(store), black_box(root), black_box(&updates)));
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let (store, root) = state_tree();
    state_proof_verify(c, &store, root);
    merkle_inclusion_verify(c);
    state_apply_100(c, &store, root);
}

criterion_group!(proofs, benches);
criterion_main!(proofs);
