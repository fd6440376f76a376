//! [`ItemLookup`]: what semantic validation asks about the chain a block extends.

use std::collections::HashSet;
use std::convert::Infallible;

use ed25519_dalek::VerifyingKey;

use crate::hash::Hash256;
use crate::state::{MemoryNodes, Node, NodeSource, SmtError};

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
    /// A node of the chain's state tree ([`crate::chain_state`]). Nodes are addressed by hash,
    /// so one store serves every branch: a side branch's state is reached from its own roots.
    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>, Self::Error>;
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

    fn state_node(&self, _hash: &Hash256) -> Result<Option<Node>, Infallible> {
        Ok(None)
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

    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>, T::Error> {
        (**self).state_node(hash)
    }
}

/// An in-memory item index and state tree of one chain: tests, the simulator, small tools.
/// Not bounded: a real node keeps these in storage.
#[derive(Clone, Debug, Default)]
pub struct MemoryItemIndex {
    items: HashSet<Hash256>,
    nonces: HashSet<([u8; 32], u64)>,
    nodes: MemoryNodes,
    state_root: Hash256,
}

impl MemoryItemIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records every item of a block and the state nodes it creates. Blocks are recorded in
    /// chain order: each one's items apply to the state the previous one left.
    pub fn add_block(&mut self, block: &crate::block::Block) {
        for item in &block.items {
            self.add_item(item);
        }
        match crate::chain_state::apply_block(
            &self.nodes,
            self.state_root,
            block.header.height,
            &block.items,
        ) {
            Ok(state) => {
                for node in state.nodes {
                    self.nodes.insert(node);
                }
                self.state_root = state.root;
            }
            Err(e) => match e {
                SmtError::Source(never) => match never {},
                SmtError::MissingNode(_) | SmtError::Corrupt(_) => {}
            },
        }
    }

    /// The state root after the last recorded block.
    pub fn state_root(&self) -> Hash256 {
        self.state_root
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

    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>, Infallible> {
        self.nodes.node(hash)
    }
}

/// The state nodes of an [`ItemLookup`]'s chain as a [`NodeSource`].
pub(crate) struct LookupNodes<'a, L: ?Sized>(pub(crate) &'a L);

impl<L: ItemLookup + ?Sized> NodeSource for LookupNodes<'_, L> {
    type Error = L::Error;

    fn node(&self, hash: &Hash256) -> Result<Option<Node>, L::Error> {
        self.0.state_node(hash)
    }
}
