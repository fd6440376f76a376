//! The mempool: signed items waiting to be included in a block.
//!
//! # Admission
//!
//! [`Mempool::insert`] runs the cheap checks before the expensive one: the size limit, then
//! duplicates by id and by (author, nonce) in the pool, then the best chain through an
//! [`ItemLookup`], then the per-author cap and room in the pool, and only then the network's
//! item check ([`validate_item`]: weak author key, ZIP 215 Ed25519 signature). Nothing is
//! changed until every check has passed.
//!
//! # Bounds and eviction
//!
//! The pool never holds more than `limits.mempool_max_items` items nor more than
//! `limits.mempool_max_bytes` canonical bytes, and no author holds more than
//! `limits.mempool_max_per_author` items (the first line against one author flooding the pool).
//!
//! When a new item does not fit, the pool evicts, one at a time, the **oldest item of the
//! author using the largest share of the pool** until it fits. An author's *share* is the larger
//! of its fraction of the count bound and its fraction of the byte bound, so an author cannot
//! hide a flood of large items behind a small count, nor of small items behind few bytes. The
//! incoming item's author is ranked with the item counted in, so a heavy author pushes out its
//! own oldest items before anyone else's; ties go against the incoming author, then against the
//! author whose oldest item is oldest.
//!
//! An item whose author has no item in the pool is refused with [`MempoolError::Full`] when,
//! with the new item alone, it would already use at least the share of the heaviest author in
//! the pool: a newcomer may only push out authors that use more of the pool than it would, so
//! a pool spread evenly over many authors keeps its items (first come, first kept) until blocks
//! drain it. The decision to evict or refuse is taken before anything is removed, so a refused
//! item never costs the pool an item.
//!
//! With no fees to rank by, a flood from many fresh keys (Sybils) can only be slowed, not
//! stopped: each key is treated as one light author and the pool stays bounded.
//!
//! # Order
//!
//! Items keep their arrival order; [`Mempool::select`] takes them first-in first-out. Items of
//! blocks disconnected by a reorg ([`Mempool::return_disconnected`]) go back *ahead* of every
//! other item, in their chain order, since they had already been mined once.
//!
//! Every operation is O(log n) in the pool size (plus the evictions it causes), except
//! [`Mempool::select`] and iteration, which are linear in what they visit.

mod authors;
mod error;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};

use ed25519_dalek::VerifyingKey;

use crate::block::Block;
use crate::hash::Hash256;
use crate::item::SignedItem;
use crate::spec::{Limits, NetworkSpec};
use crate::validate::{ItemError, ItemLookup, validate_item};

use authors::{AuthorIndex, AuthorKey};
pub use error::{AdmitError, MempoolError};

/// The result of a successful [`Mempool::insert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    /// Id of the inserted item.
    pub id: Hash256,
    /// Ids of the items evicted to make room, in eviction order.
    pub evicted: Vec<Hash256>,
}

/// The result of [`Mempool::return_disconnected`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Returned {
    /// Ids of the disconnected items now back in the pool, in chain order.
    pub readded: Vec<Hash256>,
    /// Ids of items that were in the pool before the call and were evicted to make room.
    pub evicted: Vec<Hash256>,
    /// Number of disconnected items left out: already in the new chain or in the pool, or
    /// refused by the pool's bounds.
    pub skipped: usize,
}

/// One pool item with its arrival sequence number.
#[derive(Debug, Clone)]
struct Entry {
    item: SignedItem,
    seq: u64,
}

/// Sequence numbers: new items count up from the middle, returned items count down from it,
/// so returned items sort before every other item.
const SEQ_MIDDLE: u64 = 1 << 63;

/// A bounded pool of verified items (see the [module documentation](self) for the policy).
#[derive(Debug, Clone)]
pub struct Mempool {
    limits: Limits,
    entries: HashMap<Hash256, Entry>,
    by_seq: BTreeMap<u64, Hash256>,
    by_nonce: HashMap<(AuthorKey, u64), Hash256>,
    authors: AuthorIndex,
    bytes: usize,
    next_back: u64,
    next_front: u64,
}

impl Mempool {
    /// An empty pool with the network's limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            entries: HashMap::new(),
            by_seq: BTreeMap::new(),
            by_nonce: HashMap::new(),
            authors: AuthorIndex::new(limits.mempool_max_items, limits.mempool_max_bytes),
            bytes: 0,
            next_back: SEQ_MIDDLE,
            next_front: SEQ_MIDDLE - 1,
        }
    }

    /// The limits the pool enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sum of the canonical sizes of the items.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Number of distinct authors with items in the pool.
    pub fn author_count(&self) -> usize {
        self.authors.len()
    }

    /// Number of items `author` has in the pool.
    pub fn items_of(&self, author: &VerifyingKey) -> usize {
        self.authors.usage(author.as_bytes()).0
    }

    /// Whether an item with this id is in the pool.
    pub fn contains(&self, id: &Hash256) -> bool {
        self.entries.contains_key(id)
    }

    /// The item with this id.
    pub fn get(&self, id: &Hash256) -> Option<&SignedItem> {
        self.entries.get(id).map(|e| &e.item)
    }

    /// Whether a pool item uses this (author, nonce).
    pub fn nonce_pending(&self, author: &VerifyingKey, nonce: u64) -> bool {
        self.by_nonce.contains_key(&(author.to_bytes(), nonce))
    }

    /// The items in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &SignedItem> + '_ {
        self.by_seq
            .values()
            .filter_map(|id| self.entries.get(id).map(|e| &e.item))
    }

    /// Verifies and admits `item`, evicting other items if the pool is full.
    ///
    /// `chain` answers for the best chain (items and (author, nonce) pairs already included);
    /// `spec` gives the network id the signature must be made for. See the
    /// [module documentation](self) for the order of checks and the eviction policy. A failed
    /// `chain` lookup leaves the pool as it was ([`AdmitError::Lookup`]).
    pub fn insert<L: ItemLookup + ?Sized>(
        &mut self,
        item: SignedItem,
        chain: &L,
        spec: &NetworkSpec,
    ) -> Result<Inserted, AdmitError<L::Error>> {
        self.insert_with(item, chain, |item| verify_item(item, spec))
    }

    /// [`Self::insert`] with the signature check given by the caller (tests skip it).
    fn insert_with<L: ItemLookup + ?Sized>(
        &mut self,
        item: SignedItem,
        chain: &L,
        verify: impl FnOnce(&SignedItem) -> Result<(), MempoolError>,
    ) -> Result<Inserted, AdmitError<L::Error>> {
        self.check_cheap(&item, chain)?;
        verify(&item)?;
        let id = item.id();
        let seq = self.next_back;
        self.next_back = self.next_back.saturating_add(1);
        let evicted = self.admit(item, seq)?;
        Ok(Inserted { id, evicted })
    }

    /// Every check but the signature, without changing anything.
    fn check_cheap<L: ItemLookup + ?Sized>(
        &self,
        item: &SignedItem,
        chain: &L,
    ) -> Result<(), AdmitError<L::Error>> {
        let size = item.encoded_len();
        if size > self.limits.max_item_bytes {
            return Err(MempoolError::TooLarge {
                size,
                max: self.limits.max_item_bytes,
            }
            .into());
        }
        if self.entries.contains_key(&item.id()) {
            return Err(MempoolError::Duplicate.into());
        }
        let author = item.author().to_bytes();
        if self.by_nonce.contains_key(&(author, item.nonce())) {
            return Err(MempoolError::NonceReused.into());
        }
        let in_chain = chain
            .contains_item(&item.id())
            .map_err(AdmitError::Lookup)?
            || chain
                .nonce_used(item.author(), item.nonce())
                .map_err(AdmitError::Lookup)?;
        if in_chain {
            return Err(MempoolError::AlreadyInChain.into());
        }
        if self.authors.usage(&author).0 >= self.limits.mempool_max_per_author {
            return Err(MempoolError::AuthorCap {
                max: self.limits.mempool_max_per_author,
            }
            .into());
        }
        Ok(self.check_room(&author, size)?)
    }

    /// Whether an item of `size` bytes by `author` may enter, evicting if needed.
    fn check_room(&self, author: &AuthorKey, size: usize) -> Result<(), MempoolError> {
        if size > self.limits.mempool_max_bytes || self.limits.mempool_max_items == 0 {
            return Err(MempoolError::Full);
        }
        if self.fits(size) {
            return Ok(());
        }
        let (count, bytes) = self.authors.usage(author);
        let incoming = self
            .authors
            .share(count.saturating_add(1), bytes.saturating_add(size));
        match self.authors.heaviest() {
            Some((heaviest, _)) if count == 0 && incoming >= heaviest => Err(MempoolError::Full),
            Some(_) => Ok(()),
            None => Err(MempoolError::Full),
        }
    }

    /// Whether an item of `size` bytes fits without eviction.
    fn fits(&self, size: usize) -> bool {
        self.entries.len() < self.limits.mempool_max_items
            && self.bytes.saturating_add(size) <= self.limits.mempool_max_bytes
    }

    /// Adds an item that passed [`Self::check_room`], evicting as needed; returns the evicted ids.
    fn admit(&mut self, item: SignedItem, seq: u64) -> Result<Vec<Hash256>, MempoolError> {
        let author = item.author().to_bytes();
        let size = item.encoded_len();
        let mut evicted = Vec::new();
        while !self.fits(size) {
            // `check_room` made sure the item fits an empty pool, so while it does not fit
            // there is a victim; the error only guards the bounds against a broken index.
            let victim = self
                .pick_victim(&author, size)
                .and_then(|a| self.authors.oldest(&a))
                .and_then(|s| self.by_seq.get(&s).copied())
                .ok_or(MempoolError::Full)?;
            self.remove(&victim).ok_or(MempoolError::Full)?;
            evicted.push(victim);
        }
        let id = item.id();
        self.by_seq.insert(seq, id);
        self.by_nonce.insert((author, item.nonce()), id);
        self.authors.add(author, seq, size);
        self.bytes = self.bytes.saturating_add(size);
        self.entries.insert(id, Entry { item, seq });
        Ok(evicted)
    }

    /// The author to evict from: the incoming author if it has items and would be at least as
    /// heavy as everyone else, otherwise the heaviest author in the pool.
    fn pick_victim(&self, author: &AuthorKey, size: usize) -> Option<AuthorKey> {
        let (heaviest_share, heaviest) = self.authors.heaviest()?;
        let (count, bytes) = self.authors.usage(author);
        if count == 0 {
            return Some(heaviest);
        }
        let incoming = self
            .authors
            .share(count.saturating_add(1), bytes.saturating_add(size));
        if heaviest == *author || incoming >= heaviest_share {
            Some(*author)
        } else {
            Some(heaviest)
        }
    }

    /// Removes the item with this id.
    pub fn remove(&mut self, id: &Hash256) -> Option<SignedItem> {
        let entry = self.entries.remove(id)?;
        let author = entry.item.author().to_bytes();
        let size = entry.item.encoded_len();
        self.by_seq.remove(&entry.seq);
        self.by_nonce.remove(&(author, entry.item.nonce()));
        self.authors.remove(&author, entry.seq, size);
        self.bytes = self.bytes.saturating_sub(size);
        Some(entry.item)
    }

    /// Removes the items `block` includes and every pool item whose (author, nonce) the block
    /// used. Returns the removed ids.
    pub fn remove_included(&mut self, block: &Block) -> Vec<Hash256> {
        let mut removed = Vec::new();
        for item in &block.items {
            let id = if self.entries.contains_key(&item.id()) {
                Some(item.id())
            } else {
                self.by_nonce
                    .get(&(item.author().to_bytes(), item.nonce()))
                    .copied()
            };
            if let Some(id) = id.filter(|id| self.remove(id).is_some()) {
                removed.push(id);
            }
        }
        removed
    }

    /// Puts back the items of `blocks`, disconnected from the best chain by a reorg, ahead of
    /// every other pool item and in chain order. `blocks` may come in any order (e.g. old tip
    /// first, as [`crate::forkchoice::Reorg::disconnect`] lists them): they are put back by
    /// height, each block's items in block order.
    ///
    /// Items that `chain` (the new best chain, with the connected blocks already applied) has,
    /// by id or by (author, nonce), or that the pool already has, are skipped. Signatures are
    /// not checked again (the items passed block validation); sizes, the per-author cap and the
    /// pool bounds are, with the usual eviction policy. Call [`Self::remove_included`] for each
    /// newly connected block as well, to drop pool items the new chain made stale. A failed
    /// `chain` lookup stops the walk: the items put back so far stay, the error is returned.
    pub fn return_disconnected<L: ItemLookup + ?Sized>(
        &mut self,
        blocks: &[Block],
        chain: &L,
    ) -> Result<Returned, L::Error> {
        let mut out = Returned::default();
        let mut readded = Vec::new();
        let mut ordered: Vec<&Block> = blocks.iter().collect();
        ordered.sort_by_key(|b| b.header.height);
        // Walk backwards so that counting sequence numbers down keeps chain order.
        for item in ordered.iter().rev().flat_map(|b| b.items.iter().rev()) {
            match self.check_cheap(item, chain) {
                Ok(()) => {}
                Err(AdmitError::Refused(_)) => {
                    out.skipped += 1;
                    continue;
                }
                Err(AdmitError::Lookup(e)) => return Err(e),
            }
            let seq = self.next_front;
            self.next_front = self.next_front.saturating_sub(1);
            match self.admit(item.clone(), seq) {
                Ok(evicted) => {
                    readded.push(item.id());
                    out.evicted.extend(evicted);
                }
                Err(_) => out.skipped += 1,
            }
        }
        // An item put back by this call and evicted again by a later one was never in the
        // pool as far as the caller is concerned.
        let returned: HashSet<Hash256> = readded.iter().copied().collect();
        out.evicted.retain(|id| !returned.contains(id));
        readded.reverse();
        let before = readded.len();
        readded.retain(|id| self.entries.contains_key(id));
        out.skipped += before - readded.len();
        out.readded = readded;
        Ok(out)
    }

    /// Items for a block template, first in first out: each item in arrival order is taken if
    /// it still fits in `max_bytes` (canonical item bytes), until `max_count` items are taken.
    pub fn select(&self, max_bytes: usize, max_count: usize) -> Vec<SignedItem> {
        let mut out = Vec::new();
        let mut room = max_bytes;
        for item in self.iter() {
            if out.len() >= max_count || room == 0 {
                break;
            }
            if item.encoded_len() <= room {
                room -= item.encoded_len();
                out.push(item.clone());
            }
        }
        out
    }
}

/// The network's single-item admission check (size, weak key, ZIP 215 signature).
fn verify_item(item: &SignedItem, spec: &NetworkSpec) -> Result<(), MempoolError> {
    validate_item(item, spec).map_err(|e| match e {
        ItemError::TooLarge { size, max } => MempoolError::TooLarge { size, max },
        ItemError::WeakAuthorKey => MempoolError::WeakAuthorKey,
        ItemError::BadSignature => MempoolError::BadSignature,
    })
}
