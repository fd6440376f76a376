//! The integrity walk: from the tip back towards genesis, checks that headers, blocks and the
//! best-chain indexes agree. Backends run it at open; it works on any [`ChainStore`].

use talos_chain::{Hash256, Work};

use crate::error::{Result, StorageError};
use crate::traits::ChainStore;
use crate::types::{ChainTip, HeaderEntry, ItemLocation};

/// Blocks checked at open by default.
pub const DEFAULT_INTEGRITY_DEPTH: u64 = 1_000;

/// How far back the integrity walk goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegrityDepth {
    /// No walk (tests of the read path only).
    Skip,
    /// The tip and this many blocks below it (fewer on a shorter chain).
    Recent(u64),
    /// The whole best chain, plus index entry counts (no stray entries).
    Full,
}

impl Default for IntegrityDepth {
    fn default() -> Self {
        Self::Recent(DEFAULT_INTEGRITY_DEPTH)
    }
}

/// What the integrity walk checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntegrityOptions {
    /// How far back.
    pub depth: IntegrityDepth,
    /// Also recompute each walked block's Merkle root.
    pub verify_merkle: bool,
}

impl Default for IntegrityOptions {
    fn default() -> Self {
        Self {
            depth: IntegrityDepth::default(),
            verify_merkle: true,
        }
    }
}

impl IntegrityOptions {
    /// Walks the whole chain.
    pub fn full() -> Self {
        Self {
            depth: IntegrityDepth::Full,
            verify_merkle: true,
        }
    }

    /// Sets the depth.
    #[must_use]
    pub fn with_depth(mut self, depth: IntegrityDepth) -> Self {
        self.depth = depth;
        self
    }

    /// Sets whether Merkle roots are recomputed.
    #[must_use]
    pub fn with_verify_merkle(mut self, verify: bool) -> Self {
        self.verify_merkle = verify;
        self
    }
}

/// What a walk covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Blocks checked.
    pub blocks: u64,
    /// Items whose index entries were checked.
    pub items: u64,
    /// Whether the walk reached genesis.
    pub reached_genesis: bool,
}

fn corrupt(what: &'static str, key: impl Into<String>, reason: impl Into<String>) -> StorageError {
    StorageError::corrupt(what, key, reason)
}

/// Walks the best chain from the tip back per `options`. Each walked block must have a header
/// whose hash is its key, a body with that header (and, optionally, a matching Merkle root),
/// the height index entry pointing at it, a parent link one height down with less cumulative
/// work, and item and nonce index entries pointing back at its items. The first failure is
/// returned as [`StorageError::Corrupt`] naming the tree and key.
pub fn verify_chain<S: ChainStore + ?Sized>(
    store: &S,
    options: IntegrityOptions,
) -> Result<IntegrityReport> {
    let mut report = IntegrityReport::default();
    let limit = match options.depth {
        IntegrityDepth::Skip => return Ok(report),
        IntegrityDepth::Recent(n) => n.saturating_add(1),
        IntegrityDepth::Full => u64::MAX,
    };
    let tip = check_tip(store)?;
    let mut id = tip.id;
    let mut height = tip.height;
    let mut child_work = None;
    while report.blocks < limit {
        let entry = check_header(store, id, height, child_work)?;
        report.items += check_body(store, &entry, height, options.verify_merkle)?;
        report.blocks += 1;
        if height == 0 {
            if id != store.genesis_id() || entry.header.prev_hash != Hash256::ZERO {
                return Err(corrupt(
                    "heights",
                    "0",
                    format!("best chain starts at {id}, not at genesis"),
                ));
            }
            report.reached_genesis = true;
            break;
        }
        child_work = Some(entry.cumulative_work);
        id = entry.header.prev_hash;
        height -= 1;
    }
    if options.depth == IntegrityDepth::Full {
        check_counts(store, &report)?;
    }
    Ok(report)
}

/// The tip record agrees with its header, and nothing is indexed above it.
fn check_tip<S: ChainStore + ?Sized>(store: &S) -> Result<ChainTip> {
    let tip = store.tip()?;
    let above = match tip.height.checked_add(1) {
        Some(h) => store.best_id_at(h)?,
        None => None,
    };
    check_tip_record(tip, store.header(&tip.id)?, ("heights", above))
}

/// The checks of a tip record, for the chain store and the header store alike: `entry` is the
/// tip's stored header, `above` the entry one above the tip and the space it is in.
pub(crate) fn check_tip_record(
    tip: ChainTip,
    entry: Option<HeaderEntry>,
    (space, above): (&'static str, Option<Hash256>),
) -> Result<ChainTip> {
    let tip_key = || format!("tip {}", tip.id);
    let entry = entry.ok_or_else(|| corrupt("meta", tip_key(), "tip header is not stored"))?;
    if entry.height() != tip.height || entry.cumulative_work != tip.cumulative_work {
        return Err(corrupt(
            "meta",
            tip_key(),
            format!(
                "tip record says height {}, its header says height {} (or the work differs)",
                tip.height,
                entry.height()
            ),
        ));
    }
    if let Some(stray) = above {
        return Err(corrupt(
            space,
            (tip.height + 1).to_string(),
            format!("entry {stray} above the tip at height {}", tip.height),
        ));
    }
    Ok(tip)
}

/// The best-chain header `id` at `height`: stored under its hash, at that height, with less
/// work than its child, and indexed at that height.
fn check_header<S: ChainStore + ?Sized>(
    store: &S,
    id: Hash256,
    height: u64,
    child_work: Option<Work>,
) -> Result<HeaderEntry> {
    let key = id.to_hex();
    let entry = store
        .header(&id)?
        .ok_or_else(|| corrupt("headers", key.clone(), "best-chain block has no header"))?;
    if entry.id() != id {
        return Err(corrupt("headers", key, "header hash differs from its key"));
    }
    if entry.height() != height {
        return Err(corrupt(
            "headers",
            key,
            format!(
                "header height {} but the best chain has it at {height}",
                entry.height()
            ),
        ));
    }
    if let Some(child_work) = child_work
        && entry.cumulative_work >= child_work
    {
        return Err(corrupt(
            "headers",
            key,
            "cumulative work not below its best-chain child's",
        ));
    }
    match store.best_id_at(height)? {
        Some(indexed) if indexed == id => Ok(entry),
        other => Err(corrupt(
            "heights",
            height.to_string(),
            format!("entry is {other:?}, the walk from the tip reached {id}"),
        )),
    }
}

/// The body of the best-chain block of `entry`: its header, item count, optionally its Merkle
/// root, and the item and nonce indexes of every item. Returns the number of items.
fn check_body<S: ChainStore + ?Sized>(
    store: &S,
    entry: &HeaderEntry,
    height: u64,
    verify_merkle: bool,
) -> Result<u64> {
    let id = entry.id();
    let key = id.to_hex();
    let block = store
        .block(&id)?
        .ok_or_else(|| corrupt("blocks", key.clone(), "best-chain block body missing"))?;
    if block.header != entry.header {
        return Err(corrupt(
            "blocks",
            key,
            "body's header differs from the stored header",
        ));
    }
    if block.items.len() != entry.header.item_count as usize {
        return Err(corrupt(
            "blocks",
            key,
            format!(
                "holds {} items, its header commits to {}",
                block.items.len(),
                entry.header.item_count
            ),
        ));
    }
    if verify_merkle && block.compute_merkle_root() != entry.header.merkle_root {
        return Err(corrupt(
            "blocks",
            key,
            "items do not match the header's Merkle root",
        ));
    }
    for (position, item) in block.items.iter().enumerate() {
        let item_id = item.id();
        let expected = ItemLocation {
            block: id,
            height,
            position: u32::try_from(position).unwrap_or(u32::MAX),
        };
        let found = store.item_location(&item_id)?;
        if found != Some(expected) {
            return Err(corrupt(
                "items",
                item_id.to_hex(),
                format!("entry is {found:?}, expected {expected:?}"),
            ));
        }
        let by_nonce = store.item_by_nonce(item.author(), item.nonce())?;
        if by_nonce != Some(item_id) {
            return Err(corrupt(
                "nonces",
                format!("{}/{}", Hash256(item.author().to_bytes()), item.nonce()),
                format!("entry is {by_nonce:?}, expected item {item_id}"),
            ));
        }
    }
    Ok(block.items.len() as u64)
}

/// A full walk accounts for every index entry.
fn check_counts<S: ChainStore + ?Sized>(store: &S, report: &IntegrityReport) -> Result<()> {
    let stats = store.stats()?;
    let count_err = |what: &'static str, found: u64, expected: u64| {
        corrupt(
            what,
            "*",
            format!("{found} entries, the best chain accounts for {expected}"),
        )
    };
    if stats.heights != report.blocks {
        return Err(count_err("heights", stats.heights, report.blocks));
    }
    if stats.items != report.items {
        return Err(count_err("items", stats.items, report.items));
    }
    if stats.nonces != report.items {
        return Err(count_err("nonces", stats.nonces, report.items));
    }
    if stats.headers != stats.blocks {
        return Err(count_err("headers", stats.headers, stats.blocks));
    }
    Ok(())
}
