//! Mempool and miner benchmarks: inserting 10,000 items (signature checks included), selecting
//! a full block, removing a block's items, and the single-thread hashrate of the miner.

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use talos_chain::hash::Hash256;
use talos_chain::header::{BlockHeader, HEADER_BYTES, HEADER_VERSION};
use talos_chain::item::{Anchor, ItemKind, SignedItem, UnsignedItem};
use talos_chain::mempool::Mempool;
use talos_chain::miner::mine_nonce;
use talos_chain::{Block, CompactTarget, NetworkSpec, SigningKey};

const ITEMS: usize = 10_000;
const AUTHORS: usize = 100;

/// 10,000 signed anchors from 100 authors (the local spec allows 1,000 per author).
fn items(spec: &NetworkSpec) -> Vec<SignedItem> {
    let keys: Vec<SigningKey> = (0..AUTHORS)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 1; 32]))
        .collect();
    (0..ITEMS)
        .map(|n| {
            let key = &keys[n % AUTHORS];
            UnsignedItem {
                author: key.verifying_key(),
                nonce: n as u64,
                timestamp_ms: 1_767_225_600_000,
                kind: ItemKind::Anchor(Anchor {
                    content_hash: Hash256::sha256(&(n as u64).to_be_bytes()),
                    label: "bench".into(),
                }),
            }
            .sign(key, spec.network_id)
        })
        .collect()
}

fn full_pool(spec: &NetworkSpec, items: &[SignedItem]) -> Mempool {
    let mut pool = Mempool::new(spec.limits);
    for item in items {
        pool.insert(item.clone(), &(), spec)
            .expect("room for every item");
    }
    pool
}

fn mempool(c: &mut Criterion) {
    let spec = NetworkSpec::local();
    let items = items(&spec);
    let block_bytes = spec.limits.max_block_bytes - HEADER_BYTES;
    let block_items = spec.limits.max_items_per_block as usize;

    let mut group = c.benchmark_group("mempool");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.bench_function("insert_10k_verified", |b| {
        b.iter_batched(
            || items.clone(),
            |items| {
                let mut pool = Mempool::new(spec.limits);
                for item in items {
                    pool.insert(item, &(), &spec).expect("room for every item");
                }
                pool
            },
            BatchSize::PerIteration,
        );
    });

    let pool = full_pool(&spec, &items);
    let selected = pool.select(block_bytes, block_items);
    group.throughput(Throughput::Elements(selected.len() as u64));
    group.sample_size(50);
    group.bench_function("select_full_block", |b| {
        b.iter(|| black_box(pool.select(black_box(block_bytes), block_items)));
    });

    let block = Block {
        header: spec.genesis().header,
        items: selected,
    };
    group.bench_function("remove_included_full_block", |b| {
        b.iter_batched(
            || pool.clone(),
            // Return the pool so that dropping it is not measured.
            |mut pool| {
                let removed = pool.remove_included(&block);
                (pool, removed)
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn miner(c: &mut Criterion) {
    const TRIES: u64 = 100_000;
    let header = BlockHeader {
        version: HEADER_VERSION,
        network_id: 1,
        height: 1,
        prev_hash: Hash256::sha256(b"parent"),
        merkle_root: Hash256::sha256(b"root"),
        state_root: Hash256::ZERO,
        item_count: 0,
        timestamp_ms: 1_767_225_600_000,
        // Only hashes 0 and 1 meet it: every try is a full hash and a comparison.
        target: CompactTarget(0x0101_0000),
        nonce: 0,
    };
    let mut group = c.benchmark_group("miner");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TRIES));
    group.bench_function("hashrate_single_thread", |b| {
        b.iter(|| black_box(mine_nonce(black_box(&header), TRIES)));
    });
    group.finish();
}

criterion_group!(benches, mempool, miner);
criterion_main!(benches);
