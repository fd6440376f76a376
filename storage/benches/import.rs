//! Block import throughput: sled with one commit (and flush) per block, sled with batches of
//! blocks per commit, and the in-memory backend for reference. Blocks hold 100 items each.
//! Items reuse one signature (storage never verifies signatures), so block building stays
//! cheap; it happens outside the timed part anyway.
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use support::{Maker, chain, genesis, limits, tip_entry};
use talos_storage::{
    ChainStore, ChainUpdate, IntegrityDepth, IntegrityOptions, MemoryStore, SledConfig, SledMode,
    SledStore,
};

const ITEMS_PER_BLOCK: u64 = 100;

/// Imports `iters` commits of `batch` blocks each into `store`, timing only the commits.
fn import(
    store: &dyn ChainStore,
    maker: &Maker,
    next_nonce: &mut u64,
    iters: u64,
    batch: usize,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let tip = tip_entry(store);
        let blocks = chain(&tip, batch, 0, |_| {
            let first = *next_nonce;
            *next_nonce += ITEMS_PER_BLOCK;
            maker.items(first..first + ITEMS_PER_BLOCK)
        });
        let new_tip = support::entry(blocks.last().unwrap()).as_tip();
        let update = ChainUpdate {
            connect: blocks.iter().map(|b| b.block.id()).collect(),
            store: blocks,
            disconnect: Vec::new(),
            new_tip,
        };
        let start = Instant::now();
        store.commit(update).unwrap();
        total += start.elapsed();
    }
    total
}

fn sled_store(dir: &tempfile::TempDir, mode: SledMode) -> SledStore {
    let config = SledConfig::new(limits())
        .with_mode(mode)
        .with_integrity(IntegrityOptions::default().with_depth(IntegrityDepth::Skip));
    SledStore::open(dir.path().join("db"), &genesis(), config).unwrap()
}

fn bench_sled(c: &mut Criterion) {
    let maker = Maker::fast(1);
    let mut group = c.benchmark_group("import_sled");
    group.sample_size(10);
    for (name, mode, batch) in [
        ("flush_per_block", SledMode::HighThroughput, 1usize),
        ("flush_per_block_lowspace", SledMode::LowSpace, 1),
        ("batch", SledMode::HighThroughput, 16),
        ("batch", SledMode::HighThroughput, 64),
    ] {
        group.throughput(Throughput::Elements(batch as u64));
        let dir = tempfile::tempdir().unwrap();
        let store = sled_store(&dir, mode);
        let mut nonce = 0u64;
        group.bench_function(BenchmarkId::new(name, batch), |b| {
            b.iter_custom(|iters| import(&store, &maker, &mut nonce, iters, batch));
        });
    }
    group.finish();
}

fn bench_memory(c: &mut Criterion) {
    let maker = Maker::fast(2);
    let mut group = c.benchmark_group("import_memory");
    group.sample_size(20);
    for batch in [1usize, 16] {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new("commit", batch), |b| {
            b.iter_custom(|iters| {
                // A fresh store every 256 commits keeps memory bounded.
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(256);
                    let store = MemoryStore::new(&genesis()).unwrap();
                    let mut nonce = 0u64;
                    total += import(&store, &maker, &mut nonce, n, batch);
                    left -= n;
                }
                total
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sled, bench_memory);
criterion_main!(benches);
