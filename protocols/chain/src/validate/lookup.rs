//! [`ItemLookup`]: what semantic validation asks about the chain a block extends.

use std::collections::HashSet;
use std::convert::Infallible;

use ed25519_dalek::VerifyingKey;

use crate::hash::Hash256;

/// Read access to the items of the chain a block extends (its parent and every ancestor).
///
/// Storage and the node implement it. When the block extends a side branch, the answers must
/// be about that branch, not about the current best chain. A lookup that cannot answer (a
/// storage failure) returns its error: the caller then has no verdict, which is never the
/// block's or the item's fault.
pub trait ItemLookup {
    /// Why a lookup could not answer ([`Infallible`] for in-memory indexes).
    type Error;
    /// Whether an item with this id is already in the chain.
    fn contains_item(&self, id: &Hash256) -> Result<bool, Self::Error>;
    /// Whether `author` already used `nonce` in the chain.
    fn nonce_used(&self, author: &VerifyingKey, nonce: u64) -> Result<bool, Self::Error>;
}

/// The empty chain (genesis carries no items).
impl ItemLookup for () {
    type Error = Infallible;

    fn contains_item(&self, _id: &Hash256) -> Result<bool, Infallible> {
        Ok(false)
    }

    fn nonce_used(&self, _author: &VerifyingKey, _nonce: u64) -> Result<bool, Infallible> {
        Ok(false)
    }
}

impl<T: ItemLookup + ?Sized> ItemLookup for &T {
    type Error = T::Error;

    fn contains_item(&self, id: &Hash256) -> Result<bool, T::Error> {
        (**self).contains_item(id)
    }

    fn nonce_used(&self, author: &VerifyingKey, nonce: u64) -> Result<bool, T::Error> {
        (**self).nonce_used(author, nonce)
    }
}

/// An in-memory item index: tests, the simulator, small tools. Not bounded: a real node keeps
/// this index in storage.
#[derive(Clone, Debug, Default)]
pub struct MemoryItemIndex {
    items: HashSet<Hash256>,
    nonces: HashSet<([u8; 32], u64)>,
}

impl MemoryItemIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records every item of a block.
    pub fn add_block(&mut self, block: &crate::block::Block) {
        for item in &block.items {
            self.add_item(item);
        }
    }

    /// Records one item.
    pub fn add_item(&mut self, item: &crate::item::SignedItem) {
        self.items.insert(item.id());
        self.nonces.insert((item.author().to_bytes(), item.nonce()));
    }

    /// Number of items recorded.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether an item with this id is recorded.
    pub fn has_item(&self, id: &Hash256) -> bool {
        self.items.contains(id)
    }

    /// Whether `author` used `nonce` in a recorded item.
    pub fn has_nonce(&self, author: &VerifyingKey, nonce: u64) -> bool {
        self.nonces.contains(&(author.to_bytes(), nonce))
    }
}

impl ItemLookup for MemoryItemIndex {
    type Error = Infallible;

    fn contains_item(&self, id: &Hash256) -> Result<bool, Infallible> {
        Ok(self.has_item(id))
    }

    fn nonce_used(&self, author: &VerifyingKey, nonce: u64) -> Result<bool, Infallible> {
        Ok(self.has_nonce(author, nonce))
    }
}
