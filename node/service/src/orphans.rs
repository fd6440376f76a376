//! Blocks waiting for their parent: bounded by count and bytes and per peer, expiring, keyed
//! by parent.
//!
//! Only blocks that passed the cheap context-free checks ([`PrecheckedBlock`]: header, proof
//! of work, body commitment, sizes) enter, so every one cost its sender real proof of work at
//! the header's own target; their signatures are checked only once the parent arrives. One
//! peer holds at most [`OrphanPool::per_peer`] of them (an eighth of the pool, at least 8), so
//! no peer can crowd the others out. When the pool is full the oldest block leaves first.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use talos_chain::{Hash256, PrecheckedBlock};

use crate::messages::BlockSource;

/// A block waiting for its parent.
#[derive(Debug)]
pub(crate) struct Orphan<P> {
    /// The prechecked block.
    pub(crate) block: PrecheckedBlock,
    /// Where it came from.
    pub(crate) source: BlockSource<P>,
    /// When it arrived.
    pub(crate) arrived: Instant,
}

/// The orphan pool.
#[derive(Debug)]
pub(crate) struct OrphanPool<P> {
    by_parent: HashMap<Hash256, Vec<Orphan<P>>>,
    /// (block id, parent id) in arrival order, for eviction and expiry; may hold stale
    /// entries of blocks already taken out (skipped when met).
    order: VecDeque<(Hash256, Hash256)>,
    len: usize,
    bytes: usize,
    max_len: usize,
    max_bytes: usize,
    ttl: Duration,
    /// Blocks held per sending peer.
    per_source: HashMap<P, usize>,
}

impl<P: Copy + Eq + std::hash::Hash> OrphanPool<P> {
    /// An empty pool.
    pub(crate) fn new(max_len: usize, max_bytes: usize, ttl: Duration) -> Self {
        Self {
            by_parent: HashMap::new(),
            order: VecDeque::new(),
            len: 0,
            bytes: 0,
            max_len: max_len.max(1),
            max_bytes,
            ttl,
            per_source: HashMap::new(),
        }
    }

    /// Most blocks one peer may have waiting.
    pub(crate) fn per_peer(&self) -> usize {
        (self.max_len / 8).max(8)
    }

    /// Number of blocks held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the block is held.
    pub(crate) fn contains(&self, id: &Hash256, parent: &Hash256) -> bool {
        self.by_parent
            .get(parent)
            .is_some_and(|v| v.iter().any(|o| o.block.id() == *id))
    }

    /// Adds a block; returns false when it is too large to keep at all, or its peer already
    /// has its share waiting.
    pub(crate) fn insert(
        &mut self,
        block: PrecheckedBlock,
        source: BlockSource<P>,
        now: Instant,
    ) -> bool {
        let size = block.block().encoded_len();
        if size > self.max_bytes {
            return false;
        }
        self.expire(now);
        if let Some(peer) = source.peer()
            && self.per_source.get(&peer).copied().unwrap_or(0) >= self.per_peer()
        {
            return false;
        }
        while self.len >= self.max_len || self.bytes.saturating_add(size) > self.max_bytes {
            if !self.evict_oldest() {
                break;
            }
        }
        let (id, parent) = (block.id(), block.header().prev_hash);
        if self.order.len() >= self.max_len.saturating_mul(4) {
            let by_parent = &self.by_parent;
            self.order.retain(|(id, parent)| {
                by_parent
                    .get(parent)
                    .is_some_and(|v| v.iter().any(|o| o.block.id() == *id))
            });
        }
        self.order.push_back((id, parent));
        self.by_parent.entry(parent).or_default().push(Orphan {
            block,
            source,
            arrived: now,
        });
        self.len += 1;
        self.bytes = self.bytes.saturating_add(size);
        if let Some(peer) = source.peer() {
            *self.per_source.entry(peer).or_default() += 1;
        }
        true
    }

    /// Takes every block waiting for `parent`.
    pub(crate) fn take_children(&mut self, parent: &Hash256) -> Vec<Orphan<P>> {
        let children = self.by_parent.remove(parent).unwrap_or_default();
        for child in &children {
            self.forget(child);
        }
        children
    }

    /// Drops blocks older than the time-to-live.
    pub(crate) fn expire(&mut self, now: Instant) {
        while let Some((id, parent)) = self.order.front().copied() {
            let Some(arrived) = self.arrival(&id, &parent) else {
                self.order.pop_front();
                continue;
            };
            if now.saturating_duration_since(arrived) < self.ttl {
                break;
            }
            self.order.pop_front();
            self.remove(&id, &parent);
        }
    }

    fn arrival(&self, id: &Hash256, parent: &Hash256) -> Option<Instant> {
        self.by_parent
            .get(parent)?
            .iter()
            .find(|o| o.block.id() == *id)
            .map(|o| o.arrived)
    }

    /// Removes the oldest block still held; false when the pool is empty.
    fn evict_oldest(&mut self) -> bool {
        while let Some((id, parent)) = self.order.pop_front() {
            if self.remove(&id, &parent) {
                return true;
            }
        }
        false
    }

    fn remove(&mut self, id: &Hash256, parent: &Hash256) -> bool {
        let Some(siblings) = self.by_parent.get_mut(parent) else {
            return false;
        };
        let Some(index) = siblings.iter().position(|o| o.block.id() == *id) else {
            return false;
        };
        let orphan = siblings.swap_remove(index);
        if siblings.is_empty() {
            self.by_parent.remove(parent);
        }
        self.forget(&orphan);
        true
    }

    fn forget(&mut self, orphan: &Orphan<P>) {
        if let Some(peer) = orphan.source.peer()
            && let Some(n) = self.per_source.get_mut(&peer)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_source.remove(&peer);
            }
        }
        self.len = self.len.saturating_sub(1);
        self.bytes = self
            .bytes
            .saturating_sub(orphan.block.block().encoded_len());
        if self.len == 0 {
            self.order.clear();
        }
    }
}
