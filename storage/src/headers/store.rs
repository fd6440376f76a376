//! The trait every header store implements.

use talos_chain::Hash256;

use super::update::{HeaderStoreStats, HeaderUpdate};
use crate::error::Result;
use crate::types::{ChainTip, HeaderEntry, MAX_HEADERS_PER_QUERY};

/// The headers of a light client: its best chain by height, the side headers it keeps, and
/// the tip.
///
/// Reads return `Ok(None)` for unknown ids; every value read is checked (checksum, id,
/// lengths) and damaged data yields [`StorageError::Corrupt`], never wrong data. All writes go
/// through [`HeaderStore::commit`], which is atomic and durable when it returns.
pub trait HeaderStore: Send + Sync {
    /// The genesis header id this store was opened with.
    fn genesis_id(&self) -> Hash256;

    /// The best chain's tip.
    fn tip(&self) -> Result<ChainTip>;

    /// The best-chain header at `height`.
    fn best_header_at(&self, height: u64) -> Result<Option<HeaderEntry>>;

    /// The stored header `id` of height `height`, on the best chain or off it. Headers are
    /// stored by height (a light client's store keeps no index by id), so a lookup names both;
    /// a stored header asked for at another height is not found.
    fn header(&self, id: &Hash256, height: u64) -> Result<Option<HeaderEntry>>;

    /// Applies one update atomically; when this returns `Ok` the update is durable. Returns
    /// the new tip.
    fn commit(&self, update: HeaderUpdate) -> Result<ChainTip>;

    /// Entry counts (may scan the whole store: diagnostics and full integrity checks only).
    fn stats(&self) -> Result<HeaderStoreStats>;

    /// The id of the best-chain header at `height`.
    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>> {
        Ok(self.best_header_at(height)?.map(|e| e.id()))
    }

    /// Whether header `id` of height `height` is stored.
    fn contains(&self, id: &Hash256, height: u64) -> Result<bool> {
        Ok(self.header(id, height)?.is_some())
    }

    /// Whether header `id` of height `height` is on the best chain.
    fn is_best_chain(&self, id: &Hash256, height: u64) -> Result<bool> {
        Ok(self.best_id_at(height)? == Some(*id))
    }

    /// Best-chain headers from height `from` upwards: at most `max` and at most
    /// [`MAX_HEADERS_PER_QUERY`]; fewer at the tip.
    fn best_headers(&self, from: u64, max: usize) -> Result<Vec<HeaderEntry>> {
        let max = max.min(MAX_HEADERS_PER_QUERY);
        let mut out = Vec::with_capacity(max.min(64));
        for height in (from..=u64::MAX).take(max) {
            match self.best_header_at(height)? {
                Some(entry) => out.push(entry),
                None => break,
            }
        }
        Ok(out)
    }
}
