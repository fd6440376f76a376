//! The header store's integrity walk: from the tip back towards genesis, checks that the
//! headers, their work sums and the height index agree. The sled store runs it at open; it
//! works on any [`HeaderStore`].

use talos_chain::Hash256;

use super::entry::{adds_own_work, header_work};
use super::store::HeaderStore;
use crate::error::{Result, StorageError};
use crate::integrity::IntegrityDepth;
use crate::types::{ChainTip, HeaderEntry};

/// What a header walk covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderIntegrityReport {
    /// Best-chain headers checked.
    pub headers: u64,
    /// Whether the walk reached genesis.
    pub reached_genesis: bool,
}

fn corrupt(what: &'static str, key: impl Into<String>, reason: impl Into<String>) -> StorageError {
    StorageError::corrupt(what, key, reason)
}

/// Walks the best chain from the tip back per `depth` (`Recent(n)`: the tip and `n` headers
/// below it; `Full`: to genesis, then the index counts). Each walked header must be stored
/// under its hash at the height the walk expects, be the height index's entry there, and
/// have exactly its parent's cumulative work plus its own target's work (genesis: its own);
/// the walk ends at the store's genesis id. The tip record must agree with its header and
/// nothing may be indexed above it. The first failure is returned as
/// [`StorageError::Corrupt`] naming the space and key.
pub fn verify_headers<S: HeaderStore + ?Sized>(
    store: &S,
    depth: IntegrityDepth,
) -> Result<HeaderIntegrityReport> {
    let mut report = HeaderIntegrityReport::default();
    let limit = match depth {
        IntegrityDepth::Skip => return Ok(report),
        IntegrityDepth::Recent(n) => n.saturating_add(1),
        IntegrityDepth::Full => u64::MAX,
    };
    let tip = check_tip(store)?;
    let (mut id, mut height) = (tip.id, tip.height);
    let mut child: Option<HeaderEntry> = None;
    while report.headers < limit {
        let entry = check_header(store, id, height)?;
        if let Some(child) = child
            && !adds_own_work(&child, entry.cumulative_work)
        {
            return Err(corrupt(
                "headers",
                child.id().to_hex(),
                "cumulative work is not its parent's plus its own target's work",
            ));
        }
        report.headers += 1;
        if height == 0 {
            check_genesis(store, &entry)?;
            report.reached_genesis = true;
            break;
        }
        child = Some(entry);
        id = entry.header.prev_hash;
        height -= 1;
    }
    if depth == IntegrityDepth::Full {
        check_counts(store, &report)?;
    }
    Ok(report)
}

/// The tip record agrees with its header, and nothing is indexed above it.
fn check_tip<S: HeaderStore + ?Sized>(store: &S) -> Result<ChainTip> {
    let tip = store.tip()?;
    let above = match tip.height.checked_add(1) {
        Some(h) => store.best_id_at(h)?,
        None => None,
    };
    crate::integrity::check_tip_record(tip, store.header(&tip.id)?, above)
}

/// The best-chain header `id` at `height`: stored under its hash, at that height, and the
/// height index's entry there.
fn check_header<S: HeaderStore + ?Sized>(
    store: &S,
    id: Hash256,
    height: u64,
) -> Result<HeaderEntry> {
    let key = id.to_hex();
    let entry = store
        .header(&id)?
        .ok_or_else(|| corrupt("headers", key.clone(), "best-chain header is not stored"))?;
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
    match store.best_id_at(height)? {
        Some(indexed) if indexed == id => Ok(entry),
        other => Err(corrupt(
            "heights",
            height.to_string(),
            format!("entry is {other:?}, the walk from the tip reached {id}"),
        )),
    }
}

/// The best chain starts at the store's genesis, which has no parent and its own work.
fn check_genesis<S: HeaderStore + ?Sized>(store: &S, entry: &HeaderEntry) -> Result<()> {
    let id = entry.id();
    if id != store.genesis_id() || entry.header.prev_hash != Hash256::ZERO {
        return Err(corrupt(
            "heights",
            "0",
            format!("best chain starts at {id}, not at genesis"),
        ));
    }
    if header_work(&entry.header) != Some(entry.cumulative_work) {
        return Err(corrupt(
            "headers",
            id.to_hex(),
            "genesis cumulative work is not its own target's work",
        ));
    }
    Ok(())
}

/// A full walk accounts for every height index entry; side headers come on top.
fn check_counts<S: HeaderStore + ?Sized>(store: &S, report: &HeaderIntegrityReport) -> Result<()> {
    let stats = store.stats()?;
    if stats.heights != report.headers {
        return Err(corrupt(
            "heights",
            "*",
            format!(
                "{} entries, the best chain accounts for {}",
                stats.heights, report.headers
            ),
        ));
    }
    if stats.headers < stats.heights {
        return Err(corrupt(
            "headers",
            "*",
            format!(
                "{} headers, fewer than the {} best-chain ones",
                stats.headers, stats.heights
            ),
        ));
    }
    Ok(())
}
