//! [`ChainIndex`]: an in-memory view of the local chain for readers that must never wait on
//! the store, such as the network task's sync machine: the best chain's block ids by height,
//! the tip, the stored side-branch blocks the service has seen since it started, and the
//! headers (with cumulative work) of the blocks within `depth` of the tip, so a downloader can
//! check a peer's headers against the block they build on ([`ChainIndex::context`]).
//!
//! The chain service writes it after every commit (under a short write lock); readers take a
//! read lock for one lookup. It costs 32 bytes per best-chain block (32 MiB per million
//! blocks), read from the store's height index once at start-up, plus about 200 bytes per
//! recent header (under 2 MiB at the default depth of 4,096).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use talos_chain::{BlockHeader, ChainStatus, Hash256, ParentContext, Work};
use talos_storage::{ChainTip, Store};

use crate::clock::{Clock, SystemClock};
use crate::error::ChainServiceError;

#[derive(Debug)]
struct Inner {
    network_id: u32,
    tip: ChainTip,
    /// Best-chain ids; index = height.
    best: Vec<Hash256>,
    /// Stored blocks off the best chain, with their heights.
    side: HashMap<Hash256, u64>,
    /// Headers of the blocks (any chain) within `depth` of the tip, with cumulative work.
    recent: HashMap<Hash256, (BlockHeader, Work)>,
    depth: u64,
}

impl Inner {
    /// Forgets recent headers more than `depth` below the tip, once they are twice as many
    /// as needed (amortized).
    fn prune_recent(&mut self) {
        let bound = usize::try_from(self.depth)
            .unwrap_or(usize::MAX)
            .saturating_mul(4)
            .max(64);
        if self.recent.len() > bound {
            let floor = self.tip.height.saturating_sub(self.depth);
            self.recent.retain(|_, (header, _)| header.height >= floor);
        }
    }
}

/// A cloneable, shared, read-mostly index of the local chain. See the [module
/// documentation](self).
#[derive(Clone, Debug)]
pub struct ChainIndex {
    inner: Arc<RwLock<Inner>>,
    clock: Arc<dyn Clock>,
}

impl ChainIndex {
    /// Reads the best chain's ids from the store, and the headers of its last `depth` blocks.
    pub(crate) fn load(
        store: &dyn Store,
        network_id: u32,
        depth: u64,
    ) -> Result<Self, ChainServiceError> {
        let tip = store.tip()?;
        let len = usize::try_from(tip.height).map_or(usize::MAX, |h| h.saturating_add(1));
        let mut best = Vec::with_capacity(len);
        for height in 0..=tip.height {
            let id = store
                .best_id_at(height)?
                .ok_or(ChainServiceError::MissingHeader { height })?;
            best.push(id);
        }
        let recent = load_recent(store, tip.height, depth)?;
        Ok(Self {
            inner: Arc::new(RwLock::new(Inner {
                network_id,
                tip,
                best,
                side: HashMap::new(),
                recent,
                depth,
            })),
            clock: Arc::new(SystemClock),
        })
    }

    /// The same index reading time from `clock` (the service's).
    pub(crate) fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the chain service validates block times with, in milliseconds since the
    /// Unix epoch: what a downloader checks a header's time against.
    pub fn unix_ms(&self) -> u64 {
        self.clock.unix_ms()
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The best tip.
    pub fn tip(&self) -> ChainTip {
        self.read().tip
    }

    /// The best tip as a status (what a peer is told).
    pub fn status(&self) -> ChainStatus {
        let inner = self.read();
        ChainStatus {
            network_id: inner.network_id,
            genesis_hash: inner.best.first().copied().unwrap_or(Hash256::ZERO),
            tip_hash: inner.tip.id,
            tip_height: inner.tip.height,
            cumulative_work: inner.tip.cumulative_work,
        }
    }

    /// The best chain's block id at `height`.
    pub fn best_id_at(&self, height: u64) -> Option<Hash256> {
        let inner = self.read();
        inner.best.get(usize::try_from(height).ok()?).copied()
    }

    /// Whether the block `id` at `height` is stored: on the best chain, or a side-branch block
    /// the service stored or met since it started.
    pub fn has_block(&self, id: &Hash256, height: u64) -> bool {
        let inner = self.read();
        let on_best = usize::try_from(height)
            .ok()
            .and_then(|h| inner.best.get(h))
            .is_some_and(|best| best == id);
        on_best || inner.side.get(id) == Some(&height)
    }

    /// What a child of block `id` is checked against: its header, cumulative work and its
    /// parent's time. `None` unless the block and its parent are among the recent headers
    /// (within `depth` of the tip; genesis needs no parent).
    pub fn context(&self, id: &Hash256) -> Option<ParentContext> {
        let inner = self.read();
        let (header, cumulative_work) = *inner.recent.get(id)?;
        let grandparent_timestamp = if header.height == 0 {
            None
        } else {
            Some(inner.recent.get(&header.prev_hash)?.0.timestamp_ms)
        };
        Some(ParentContext {
            id: *id,
            header,
            cumulative_work,
            grandparent_timestamp,
        })
    }

    /// A block was adopted (best chain or side branch): its header joins the recent ones.
    pub(crate) fn add_header(&self, header: BlockHeader, cumulative_work: Work) {
        let mut inner = self.write();
        inner.recent.insert(header.id(), (header, cumulative_work));
        inner.prune_recent();
    }

    /// The best chain changed: `disconnect` (tip first) left it, `connect` (oldest first, with
    /// heights) joined it, `tip` is the new tip.
    pub(crate) fn reorganise(
        &self,
        disconnect: &[Hash256],
        connect: &[(Hash256, u64)],
        tip: ChainTip,
    ) {
        let mut inner = self.write();
        for id in disconnect {
            if let Some(height) = inner.best.iter().rposition(|b| b == id) {
                inner.side.insert(*id, height as u64);
            }
        }
        for (id, height) in connect {
            let Ok(h) = usize::try_from(*height) else {
                continue;
            };
            inner.best.truncate(h);
            inner.best.push(*id);
            inner.side.remove(id);
        }
        let keep = usize::try_from(tip.height).map_or(usize::MAX, |h| h.saturating_add(1));
        inner.best.truncate(keep);
        inner.tip = tip;
    }

    /// A block was stored off the best chain (or found already stored).
    pub(crate) fn add_side(&self, id: Hash256, height: u64) {
        let mut inner = self.write();
        let on_best = usize::try_from(height)
            .ok()
            .and_then(|h| inner.best.get(h))
            .is_some_and(|best| *best == id);
        if !on_best {
            inner.side.insert(id, height);
        }
    }

    /// How many side-branch blocks are recorded.
    pub(crate) fn side_count(&self) -> usize {
        self.read().side.len()
    }

    /// Side-branch blocks at or below `height`, at most `limit` of them.
    pub(crate) fn side_at_or_below(&self, height: u64, limit: usize) -> Vec<Hash256> {
        self.read()
            .side
            .iter()
            .filter(|(_, h)| **h <= height)
            .map(|(id, _)| *id)
            .take(limit)
            .collect()
    }

    /// Side-branch blocks deleted from the store.
    pub(crate) fn forget_side(&self, ids: &[Hash256]) {
        let mut inner = self.write();
        for id in ids {
            inner.side.remove(id);
            inner.recent.remove(id);
        }
    }

    /// Rebuilds the index from the store (after fork choice was reloaded).
    pub(crate) fn reload(&self, store: &dyn Store) -> Result<(), ChainServiceError> {
        let (network_id, depth) = {
            let inner = self.read();
            (inner.network_id, inner.depth)
        };
        let fresh = Self::load(store, network_id, depth)?;
        let fresh = fresh.read();
        let mut inner = self.write();
        inner.tip = fresh.tip;
        inner.best.clone_from(&fresh.best);
        inner
            .recent
            .extend(fresh.recent.iter().map(|(id, entry)| (*id, *entry)));
        Ok(())
    }
}

/// The best chain's headers from `depth` below `tip_height` up to it.
fn load_recent(
    store: &dyn Store,
    tip_height: u64,
    depth: u64,
) -> Result<HashMap<Hash256, (BlockHeader, Work)>, ChainServiceError> {
    let mut recent = HashMap::new();
    let mut next = tip_height.saturating_sub(depth);
    while next <= tip_height {
        let page = store.best_headers(next, talos_storage::MAX_HEADERS_PER_QUERY)?;
        if page.is_empty() {
            return Err(ChainServiceError::MissingHeader { height: next });
        }
        for entry in page {
            next = entry.height().saturating_add(1);
            recent.insert(entry.id(), (entry.header, entry.cumulative_work));
        }
    }
    Ok(recent)
}

#[cfg(test)]
mod tests {
    use talos_chain::Work;
    use talos_chain::testkit::easy_spec;
    use talos_storage::MemoryStore;

    use super::*;

    fn id(n: u8) -> Hash256 {
        Hash256([n; 32])
    }

    fn tip(n: u8, height: u64) -> ChainTip {
        ChainTip {
            id: id(n),
            height,
            cumulative_work: Work::from_be_slice(&height.to_be_bytes()).unwrap_or_default(),
        }
    }

    #[test]
    fn recent_headers_give_contexts_for_their_children() {
        let spec = easy_spec();
        let store = MemoryStore::new(&spec.genesis()).unwrap();
        let index = ChainIndex::load(&store, spec.network_id, 16).unwrap();
        let genesis = talos_chain::ParentContext::for_genesis(&spec);
        assert_eq!(index.context(&genesis.id), Some(genesis.clone()));
        let mut chain = talos_chain::testkit::ChainBuilder::new(&spec);
        let block = chain.next_block();
        let work = genesis
            .cumulative_work
            .saturating_add(Work::from_be_slice(&[1]).unwrap());
        index.add_header(block.header, work);
        let ctx = index.context(&block.id()).expect("recorded");
        assert_eq!(ctx.grandparent_timestamp, Some(genesis.header.timestamp_ms));
        assert_eq!((ctx.header, ctx.cumulative_work), (block.header, work));
        assert_eq!(index.context(&id(7)), None);
    }

    #[test]
    fn follows_extensions_reorgs_and_side_blocks() {
        let spec = easy_spec();
        let store = MemoryStore::new(&spec.genesis()).unwrap();
        let index = ChainIndex::load(&store, spec.network_id, 16).unwrap();
        let genesis = spec.genesis_hash();
        assert!(index.has_block(&genesis, 0));
        assert!(!index.has_block(&genesis, 1), "the height must match");
        assert_eq!(index.status().genesis_hash, genesis);

        index.reorganise(&[], &[(id(1), 1), (id(2), 2)], tip(2, 2));
        assert_eq!(index.best_id_at(2), Some(id(2)));
        assert_eq!(index.tip(), tip(2, 2));
        index.add_side(id(9), 2);
        assert!(index.has_block(&id(9), 2));

        // A reorg from 2 onto 9 and 10: 2 becomes a side block.
        index.reorganise(&[id(2)], &[(id(9), 2), (id(10), 3)], tip(10, 3));
        assert_eq!(index.best_id_at(2), Some(id(9)));
        assert_eq!(index.best_id_at(3), Some(id(10)));
        assert!(
            index.has_block(&id(2), 2),
            "disconnected blocks stay stored"
        );
        assert!(index.has_block(&id(9), 2));
        assert_eq!(index.status().tip_height, 3);

        // A best-chain block is never recorded as a side block.
        index.add_side(id(10), 3);
        index.reorganise(&[id(10)], &[], tip(9, 2));
        assert_eq!(index.best_id_at(3), None);
        assert!(index.has_block(&id(10), 3));
    }
}
