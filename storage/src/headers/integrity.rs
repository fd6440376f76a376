//! The header store's integrity walk: from the tip back towards genesis, checks that the
//! best-chain headers link up by height and their work sums add up. The sled store runs it at open; it
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
/// below it; `Full`: to genesis, then the entry counts). Each walked header must be the
/// best-chain header at the height the walk expects, with the id its child links to, and
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
                "best",
                child.height().to_string(),
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
    crate::integrity::check_tip_record(tip, store.header(&tip.id, tip.height)?, ("best", above))
}

/// The best-chain header at `height`: stored, of that height, and the header `id` the walk
/// from the tip expects there.
fn check_header<S: HeaderStore + ?Sized>(
    store: &S,
    id: Hash256,
    height: u64,
) -> Result<HeaderEntry> {
    let key = height.to_string();
    let entry = store
        .best_header_at(height)?
        .ok_or_else(|| corrupt("best", key.clone(), "best-chain header is not stored"))?;
    if entry.height() != height {
        return Err(corrupt(
            "best",
            key,
            format!("header of height {} stored at {height}", entry.height()),
        ));
    }
    if entry.id() != id {
        return Err(corrupt(
            "best",
            key,
            format!(
                "header is {}, the walk from the tip reached {id}",
                entry.id()
            ),
        ));
    }
    Ok(entry)
}

/// The best chain starts at the store's genesis, which has no parent and its own work.
fn check_genesis<S: HeaderStore + ?Sized>(store: &S, entry: &HeaderEntry) -> Result<()> {
    let id = entry.id();
    if id != store.genesis_id() || entry.header.prev_hash != Hash256::ZERO {
        return Err(corrupt(
            "best",
            "0",
            format!("best chain starts at {id}, not at genesis"),
        ));
    }
    if header_work(&entry.header) != Some(entry.cumulative_work) {
        return Err(corrupt(
            "best",
            "0",
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
            "best",
            "*",
            format!(
                "{} entries, the best chain accounts for {}",
                stats.heights, report.headers
            ),
        ));
    }
    if stats.headers < stats.heights {
        return Err(corrupt(
            "side",
            "*",
            format!(
                "{} headers, fewer than the {} best-chain ones",
                stats.headers, stats.heights
            ),
        ));
    }
    Ok(())
}
