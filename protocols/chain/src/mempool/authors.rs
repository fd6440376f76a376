//! Per-author bookkeeping for the mempool: each author's items in arrival order, their bytes,
//! and an ordered index of authors by the share of the pool they use (for eviction).

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

/// An author's key bytes (the compressed Ed25519 point).
pub(super) type AuthorKey = [u8; 32];

/// One author's items in the pool.
#[derive(Debug, Clone, Default)]
struct AuthorState {
    /// Arrival sequence numbers of the author's items, oldest first.
    seqs: BTreeSet<u64>,
    /// Sum of the canonical sizes of the author's items.
    bytes: usize,
}

/// Index key ordering authors so that the *last* element is the eviction victim: the largest
/// share of the pool, then the oldest item first, then the key (for determinism).
type ShareKey = (u128, Reverse<u64>, AuthorKey);

/// Authors of the pool's items. Every operation is O(log n).
#[derive(Debug, Clone)]
pub(super) struct AuthorIndex {
    authors: HashMap<AuthorKey, AuthorState>,
    by_share: BTreeSet<ShareKey>,
    max_items: u128,
    max_bytes: u128,
}

impl AuthorIndex {
    /// An empty index for a pool bounded by `max_items` and `max_bytes`.
    pub(super) fn new(max_items: usize, max_bytes: usize) -> Self {
        Self {
            authors: HashMap::new(),
            by_share: BTreeSet::new(),
            max_items: max_items as u128,
            max_bytes: max_bytes as u128,
        }
    }

    /// The share of the pool an author with `count` items of `bytes` total uses, scaled by
    /// `max_items × max_bytes`: the larger of its fraction of the count bound and of the byte
    /// bound.
    pub(super) fn share(&self, count: usize, bytes: usize) -> u128 {
        let by_count = (count as u128).saturating_mul(self.max_bytes);
        let by_bytes = (bytes as u128).saturating_mul(self.max_items);
        by_count.max(by_bytes)
    }

    /// Number of items and bytes `author` has in the pool.
    pub(super) fn usage(&self, author: &AuthorKey) -> (usize, usize) {
        self.authors
            .get(author)
            .map_or((0, 0), |s| (s.seqs.len(), s.bytes))
    }

    /// The arrival sequence of `author`'s oldest item.
    pub(super) fn oldest(&self, author: &AuthorKey) -> Option<u64> {
        self.authors
            .get(author)
            .and_then(|s| s.seqs.first().copied())
    }

    /// The author using the largest share (ties: the one with the oldest item), with its share.
    pub(super) fn heaviest(&self) -> Option<(u128, AuthorKey)> {
        self.by_share
            .last()
            .map(|(share, _, author)| (*share, *author))
    }

    fn key_of(&self, author: &AuthorKey, state: &AuthorState) -> Option<ShareKey> {
        let oldest = state.seqs.first()?;
        Some((
            self.share(state.seqs.len(), state.bytes),
            Reverse(*oldest),
            *author,
        ))
    }

    /// Records that `author` added an item with arrival `seq` and size `bytes`.
    pub(super) fn add(&mut self, author: AuthorKey, seq: u64, bytes: usize) {
        let mut state = self.authors.remove(&author).unwrap_or_default();
        if let Some(old) = self.key_of(&author, &state) {
            self.by_share.remove(&old);
        }
        state.seqs.insert(seq);
        state.bytes = state.bytes.saturating_add(bytes);
        if let Some(new) = self.key_of(&author, &state) {
            self.by_share.insert(new);
        }
        self.authors.insert(author, state);
    }

    /// Records that `author`'s item with arrival `seq` and size `bytes` left the pool.
    pub(super) fn remove(&mut self, author: &AuthorKey, seq: u64, bytes: usize) {
        let Some(mut state) = self.authors.remove(author) else {
            return;
        };
        if let Some(old) = self.key_of(author, &state) {
            self.by_share.remove(&old);
        }
        state.seqs.remove(&seq);
        state.bytes = state.bytes.saturating_sub(bytes);
        if let Some(new) = self.key_of(author, &state) {
            self.by_share.insert(new);
            self.authors.insert(*author, state);
        }
    }

    /// Number of distinct authors.
    pub(super) fn len(&self) -> usize {
        self.authors.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heaviest_by_share_then_oldest() {
        let mut idx = AuthorIndex::new(10, 1000);
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        idx.add(a, 5, 10);
        idx.add(b, 3, 10);
        assert_eq!(
            idx.heaviest().map(|h| h.1),
            Some(b),
            "tie: oldest item wins"
        );
        idx.add(a, 7, 10);
        assert_eq!(idx.heaviest().map(|h| h.1), Some(a), "more items");
        idx.add(c, 9, 500);
        assert_eq!(idx.heaviest().map(|h| h.1), Some(c), "half the byte bound");
        idx.remove(&c, 9, 500);
        assert_eq!(idx.usage(&c), (0, 0));
        assert_eq!(idx.len(), 2);
        idx.remove(&a, 5, 10);
        assert_eq!(idx.oldest(&a), Some(7));
        idx.remove(&a, 7, 10);
        idx.remove(&b, 3, 10);
        assert_eq!(idx.heaviest(), None);
        assert_eq!(idx.len(), 0);
    }
}
