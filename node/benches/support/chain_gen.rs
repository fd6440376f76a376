//! Chain generation shared by the node's benchmarks (`sync`, `light`), included by each with
//! `#[path]`: the `bench` network, deterministic item authors, multi-threaded signing and a
//! mined chain of anchor blocks on genesis. Nothing here is timed.

use anyhow::{Context, ensure};
use talos_chain::item::Anchor;
use talos_chain::testkit::EASY;
use talos_chain::{
    Block, BlockTemplate, Hash256, ItemKind, MemoryItemIndex, NetworkSpec, ParentContext,
    SignedItem, SigningKey, UnsignedItem, mine_nonce,
};

/// Distinct item authors.
pub(crate) const AUTHORS: usize = 100;
/// Block spacing; every block is exactly one interval after its parent.
pub(crate) const BLOCK_INTERVAL_MS: u64 = 1_000;
/// Blocks cross-checked against the chain crate's own `child_context` during generation.
const CROSS_CHECKED_BLOCKS: u64 = 16;
/// Most nonces tried per header (the easiest target needs about two).
pub(crate) const MAX_NONCE_TRIES: u64 = 1_000_000;

/// The benchmarks' network: `local` with the easiest target and a fixed block interval.
pub(crate) fn bench_spec() -> NetworkSpec {
    let mut spec = NetworkSpec::local();
    spec.name = "bench".into();
    spec.genesis_target = EASY;
    spec.retarget.pow_limit = EASY;
    spec.retarget.block_interval_ms = BLOCK_INTERVAL_MS;
    spec
}

/// Deterministic author keys.
pub(crate) fn authors() -> Vec<SigningKey> {
    (0..AUTHORS)
        .map(|i| {
            let seed = Hash256::sha256(format!("talos sync bench author {i}").as_bytes());
            SigningKey::from_bytes(&seed.0)
        })
        .collect()
}

/// `f(1)..=f(count)` in order, the indexes spread over the available cores in contiguous
/// chunks. An index whose worker panicked is missing from the result.
pub(crate) fn par_map<T: Send>(count: u64, f: impl Fn(u64) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let indexes: Vec<u64> = (1..=count).collect();
    let chunk = indexes.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = indexes
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|&i| f(i)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    })
}

/// The items of block `height`: item `j` is by author `j % AUTHORS` with nonce
/// `height * per_author + j / AUTHORS`, so every (author, nonce) pair is unique.
fn block_items(
    spec: &NetworkSpec,
    keys: &[SigningKey],
    height: u64,
    items: usize,
    timestamp_ms: u64,
) -> Vec<SignedItem> {
    let per_author = items.div_ceil(AUTHORS) as u64;
    (0..items)
        .map(|j| {
            let key = &keys[j % AUTHORS];
            let nonce = height * per_author + (j / AUTHORS) as u64;
            let mut content = [0u8; 16];
            content[..8].copy_from_slice(&height.to_be_bytes());
            content[8..].copy_from_slice(&(j as u64).to_be_bytes());
            UnsignedItem {
                author: key.verifying_key(),
                nonce,
                timestamp_ms,
                kind: ItemKind::Anchor(Anchor {
                    content_hash: Hash256::sha256(&content),
                    label: format!("bench {height}/{j}"),
                }),
            }
            .sign(key, spec.network_id)
        })
        .collect()
}

/// Signs every block's anchor items, spreading heights over the available cores.
fn sign_all(spec: &NetworkSpec, blocks: u64, items: usize) -> Vec<Vec<SignedItem>> {
    let keys = authors();
    par_map(blocks, |h| {
        let ts = spec.genesis_timestamp_ms + h * BLOCK_INTERVAL_MS;
        block_items(spec, &keys, h, items, ts)
    })
}

/// Builds and mines a chain of `blocks` blocks of `items` anchor items each on genesis, one
/// block interval apart; the first few are validated and cross-checked on the way.
pub(crate) fn generate(
    spec: &NetworkSpec,
    blocks: u64,
    items: usize,
) -> anyhow::Result<Vec<Block>> {
    let signed = sign_all(spec, blocks, items);
    ensure!(signed.len() as u64 == blocks, "a signing thread failed");
    let mut ctx = ParentContext::for_genesis(spec);
    let mut chain = Vec::with_capacity(signed.len());
    for (items, height) in signed.into_iter().zip(1u64..) {
        let time = ctx.header.timestamp_ms + BLOCK_INTERVAL_MS;
        let count = items.len();
        let template = BlockTemplate::from_items(spec, &ctx, items, time, &())
            .map_err(|e| anyhow::anyhow!("state: {e:?}"))?;
        ensure!(
            template.items().len() == count,
            "block {height}: {count} items do not fit the block limits"
        );
        let header = mine_nonce(template.header(), MAX_NONCE_TRIES).context("mining failed")?;
        let block = template.complete(header)?;
        ensure!(block.header.timestamp_ms == time, "template moved the time");
        let next = ctx.child_of_header(&block.header);
        if height <= CROSS_CHECKED_BLOCKS {
            let valid = block
                .clone()
                .check(spec)
                .and_then(|c| {
                    c.validate(spec, &ctx, &MemoryItemIndex::new(), time)
                        .map_err(talos_chain::ValidateError::into_invalid)
                })
                .map_err(|e| anyhow::anyhow!("generated block {height} invalid: {e}"))?;
            ensure!(
                ctx.child_context(&valid) == next,
                "context of block {height} differs from child_context"
            );
        }
        ctx = next;
        chain.push(block);
    }
    Ok(chain)
}
