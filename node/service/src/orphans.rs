//! Blocks waiting for their parent: bounded by count and bytes, expiring, keyed by parent.
//!
//! Only blocks that passed the context-free checks ([`CheckedBlock`]) enter, so every one
//! cost its sender real proof of work at the header's own target. When the pool is full the
//! oldest block leaves first.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use talos_chain::{CheckedBlock, Hash256};

use crate::messages::BlockSource;

/// A block waiting for its parent.
#[derive(Debug)]
pub(crate) struct Orphan<P> {
    /// The checked block.
    pub(crate) block: CheckedBlock,
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
}

impl<P> OrphanPool<P> {
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
        }
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

    /// Adds a block; returns false when it is too large to keep at all.
    pub(crate) fn insert(
        &mut self,
        block: CheckedBlock,
        source: BlockSource<P>,
        now: Instant,
    ) -> bool {
        let size = block.block().encoded_len();
        if size > self.max_bytes {
            return false;
        }
        self.expire(now);
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
        self.len = self.len.saturating_sub(1);
        self.bytes = self
            .bytes
            .saturating_sub(orphan.block.block().encoded_len());
        if self.len == 0 {
            self.order.clear();
        }
    }
}
