//! The update a header store applies, and its entry counts.

use talos_chain::Hash256;

use crate::types::{ChainTip, HeaderEntry};

/// Most entries one [`HeaderUpdate`] may touch (stored + disconnected + connected): a batch of
/// 2,000 headers joining the best chain with a reorg of up to 1,000 behind it, with room to
/// spare. Headers are small (≈ 200 bytes each with their key), so this bounds one batch to a
/// couple of MiB.
pub const MAX_HEADER_UPDATE: usize = 8_192;

/// One atomic change to a header store: an extension, side headers, a reorg, or a batch of
/// any of these.
///
/// Applied in this order: `store` (new headers, parents first: each header's parent is stored
/// one height down or earlier in `store`; headers already stored are skipped; side headers
/// leave the best chain as it is), then `disconnect` (best-chain headers, tip first; they stay stored), then `connect` (stored
/// or new headers, oldest first). The result must be `new_tip`. Everything is written, or
/// nothing. At most [`MAX_HEADER_UPDATE`] entries in all three lists together.
///
/// A new header's `cumulative_work` must be its parent's plus [`super::header_work`] of the
/// header ([`crate::UpdateError::WorkNotIncreasing`] otherwise), so the store's integrity walk
/// can recompute every sum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderUpdate {
    /// Headers to store, parents first.
    pub store: Vec<HeaderEntry>,
    /// Best-chain headers to take off the best chain, tip first.
    pub disconnect: Vec<Hash256>,
    /// Headers to put on the best chain, oldest first.
    pub connect: Vec<Hash256>,
    /// The best chain's tip afterwards.
    pub new_tip: ChainTip,
}

impl HeaderUpdate {
    /// Stores `entry` and makes it the new tip (its parent must be the current tip).
    pub fn extend(entry: HeaderEntry) -> Self {
        Self::extend_many(vec![entry], entry.as_tip())
    }

    /// Stores `entries` (a run of headers on the current tip, oldest first) and connects them
    /// all; the new tip is the last one, or `tip` (the current one) when there are none.
    pub fn extend_many(entries: Vec<HeaderEntry>, tip: ChainTip) -> Self {
        let new_tip = entries.last().map_or(tip, HeaderEntry::as_tip);
        Self {
            connect: entries.iter().map(HeaderEntry::id).collect(),
            store: entries,
            disconnect: Vec::new(),
            new_tip,
        }
    }

    /// Stores headers that do not change the best chain (side branches), keeping `tip`.
    pub fn side_headers(entries: Vec<HeaderEntry>, tip: ChainTip) -> Self {
        Self {
            store: entries,
            disconnect: Vec::new(),
            connect: Vec::new(),
            new_tip: tip,
        }
    }

    /// Entries this update touches (what [`MAX_HEADER_UPDATE`] bounds).
    pub fn len(&self) -> usize {
        self.store.len() + self.disconnect.len() + self.connect.len()
    }

    /// Whether the update touches nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Entry counts of a header store (diagnostics and full integrity checks; may scan).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeaderStoreStats {
    /// Stored headers (best chain and side headers).
    pub headers: u64,
    /// Best-chain headers (the best chain's length, genesis included).
    pub heights: u64,
}
