//! The work a header store credits a header with, and the genesis entry.

use talos_chain::{BlockHeader, Hash256, Work};

use crate::error::{Result, StorageError};
use crate::types::HeaderEntry;

/// The work the header store credits `header` with: the work of its own compact target
/// (`target.to_target()?.work()`), `None` when the target is not a valid compact target. A
/// stored header's cumulative work is its parent's plus this (genesis: this alone).
pub fn header_work(header: &BlockHeader) -> Option<Work> {
    header.target.to_target().ok().map(|t| t.work())
}

/// The entry of a genesis header, refusing a header that cannot start a chain.
pub(crate) fn genesis_entry(genesis: &BlockHeader) -> Result<HeaderEntry> {
    if genesis.height != 0 {
        return Err(StorageError::InvalidGenesis("height is not 0"));
    }
    if genesis.prev_hash != Hash256::ZERO {
        return Err(StorageError::InvalidGenesis("parent is not the zero hash"));
    }
    let cumulative_work = header_work(genesis).ok_or(StorageError::InvalidGenesis(
        "target is not a valid compact target",
    ))?;
    Ok(HeaderEntry {
        header: *genesis,
        cumulative_work,
    })
}

/// Whether `entry`'s cumulative work is exactly `parent_work` plus its own header's work, and
/// so strictly more than `parent_work`.
pub(crate) fn adds_own_work(entry: &HeaderEntry, parent_work: Work) -> bool {
    header_work(&entry.header).is_some_and(|own| {
        entry.cumulative_work > parent_work
            && entry.cumulative_work == parent_work.saturating_add(own)
    })
}
