//! Chain benchmarks: block validation against bare batch signature verification, Merkle roots,
//! and Merkle proof verification against a bare path-hash loop.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, VerifyingKey};
use talos_chain::merkle::{self, MerkleTree};
use talos_chain::{Hash256, ParentContext, SignedItem, ValidateError, testkit};

/// (a) `check` + `validate` of a 100-item block vs batch verification of its 100 signatures
/// alone with the same verifier (`ed25519-consensus`, ZIP 215), in one group so they are
/// measured in the same run; `ed25519-dalek`'s batch verifier is shown for reference.
fn block_validation(c: &mut Criterion) {
    let spec = testkit::easy_spec();
    let ctx = ParentContext::for_genesis(&spec);
    let keys: Vec<_> = (1..=10).map(testkit::key).collect();
    let items: Vec<SignedItem> = (0..100u64)
        .map(|n| testkit::item(&spec, &keys[(n % 10) as usize], n))
        .collect();
    let block = testkit::child(&spec, &ctx, items);
    let now = block.header.timestamp_ms;

    let messages: Vec<Vec<u8>> = block
        .items
        .iter()
        .map(|i| i.item().signing_bytes(spec.network_id))
        .collect();
    let message_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let signatures: Vec<Signature> = block.items.iter().map(|i| *i.signature()).collect();
    let authors: Vec<VerifyingKey> = block.items.iter().map(|i| *i.author()).collect();

    let mut group = c.benchmark_group("block_100_items");
    group.throughput(Throughput::Elements(100));
    group.bench_function("check_and_validate", |b| {
        b.iter_batched(
            || block.clone(),
            |block| {
                let valid = block.check(&spec).and_then(|c| {
                    c.validate(&spec, &ctx, &(), now)
                        .map_err(ValidateError::into_invalid)
                });
                assert!(valid.is_ok());
                valid
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("ed25519_consensus_batch_alone", |b| {
        b.iter(|| {
            let mut verifier = ed25519_consensus::batch::Verifier::new();
            for ((m, s), a) in message_refs.iter().zip(&signatures).zip(&authors) {
                verifier.queue((
                    ed25519_consensus::VerificationKeyBytes::from(a.to_bytes()),
                    ed25519_consensus::Signature::from(s.to_bytes()),
                    black_box(*m),
                ));
            }
            verifier.verify(rand::thread_rng())
        });
    });
    group.bench_function("ed25519_dalek_verify_batch", |b| {
        b.iter(|| {
            ed25519_dalek::verify_batch(
                black_box(&message_refs),
                black_box(&signatures),
                black_box(&authors),
            )
        });
    });
    group.finish();
}

fn ids(n: u64) -> Vec<Hash256> {
    (0..n).map(|i| Hash256::sha256(&i.to_be_bytes())).collect()
}

/// (b) RFC 9162 root over 10,000 item ids.
fn merkle_root(c: &mut Criterion) {
    let leaves = ids(10_000);
    let mut group = c.benchmark_group("merkle_root");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("10000_ids", |b| {
        b.iter(|| merkle::root(black_box(&leaves)));
    });
    group.finish();
}

/// (c) Proof verification in a 10,000-leaf tree vs the bare node hashes along the same path
/// (directions and leaf hash precomputed: the floor any verifier must pay).
fn merkle_proof(c: &mut Criterion) {
    let leaves = ids(10_000);
    let tree = MerkleTree::new(&leaves);
    let root = tree.root();
    let index = 6_789u64;
    let proof = tree.proof(index).expect("index in range");
    let leaf = leaves[index as usize];

    // Sibling sides from RFC 9162's recursive PATH definition (true: sibling on the left).
    fn sides(m: u64, n: u64, out: &mut Vec<bool>) {
        if n <= 1 {
            return;
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        if m < k {
            sides(m, k, out);
        } else {
            sides(m - k, n - k, out);
        }
        out.push(m >= k);
    }
    let mut dirs = Vec::new();
    sides(index, 10_000, &mut dirs);
    let steps: Vec<(Hash256, bool)> = proof.path.iter().copied().zip(dirs).collect();
    let leaf_hash = merkle::leaf_hash(leaf.as_bytes());
    let bare = |steps: &[(Hash256, bool)]| {
        steps.iter().fold(leaf_hash, |r, (p, left)| {
            if *left {
                merkle::node_hash(p, &r)
            } else {
                merkle::node_hash(&r, p)
            }
        })
    };
    assert_eq!(bare(&steps), root);

    let mut group = c.benchmark_group("merkle_proof_10000_leaves");
    group.bench_function("verify", |b| {
        b.iter(|| black_box(&proof).verify(black_box(leaf.as_bytes()), black_box(&root)));
    });
    group.bench_function("bare_path_hash", |b| {
        b.iter(|| bare(black_box(&steps)));
    });
    group.finish();
}

criterion_group!(benches, block_validation, merkle_root, merkle_proof);
criterion_main!(benches);
