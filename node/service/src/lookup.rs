//! [`ItemLookup`] adapters over the store: the best chain ([`StoreLookup`]) and a side branch
//! ([`BranchLookup`]). A failed store read is the lookup's error: the caller then has no
//! verdict, which is never the block's or the item's fault.

use std::collections::HashSet;

use talos_chain::state::Node;
use talos_chain::{Block, Hash256, HeaderTree, ItemLookup, VerifyingKey};
use talos_storage::{StorageError, Store};

/// The best chain's item and (author, nonce) indexes in the store, optionally cut at a height
/// (the fork point of a side branch).
pub(crate) struct StoreLookup<'a> {
    store: &'a dyn Store,
    /// Only items at or below this height count (`u64::MAX`: the whole best chain).
    max_height: u64,
}

impl<'a> StoreLookup<'a> {
    /// The whole best chain.
    pub(crate) fn best(store: &'a dyn Store) -> Self {
        Self::up_to(store, u64::MAX)
    }

    /// The best chain up to and including `height`.
    pub(crate) fn up_to(store: &'a dyn Store, height: u64) -> Self {
        Self {
            store,
            max_height: height,
        }
    }

    fn item_at_or_below(&self, id: &Hash256) -> Result<bool, StorageError> {
        Ok(self
            .store
            .item_location(id)?
            .is_some_and(|location| location.height <= self.max_height))
    }
}

impl ItemLookup for StoreLookup<'_> {
    type Error = StorageError;

    fn contains_item(&self, id: &Hash256) -> Result<bool, StorageError> {
        self.item_at_or_below(id)
    }

    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>, StorageError> {
        self.store.state_node(hash)
    }

    fn nonce_used(&self, author: &VerifyingKey, nonce: u64) -> Result<bool, StorageError> {
        match self.store.item_by_nonce(author, nonce)? {
            Some(_) if self.max_height == u64::MAX => Ok(true),
            Some(item) => self.item_at_or_below(&item),
            None => Ok(false),
        }
    }
}

/// Why the items of a side branch could not be gathered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BranchError {
    /// The branch is deeper than the configured limit.
    #[error("side branch deeper than {limit} blocks")]
    TooDeep {
        /// The limit.
        limit: u64,
    },
    /// The tree does not reach the best chain from this block (it was pruned).
    #[error("header {0} is not linked to the best chain")]
    Unlinked(Hash256),
    /// A branch block is in the tree but not in the store.
    #[error("branch block {0} is not stored")]
    NotStored(Hash256),
    /// The store failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

/// The items of a side branch: its blocks from just above the fork point up to `tip`.
#[derive(Debug, Clone)]
pub(crate) struct BranchItems {
    /// The newest branch block covered.
    pub(crate) tip: Hash256,
    /// Height of the best-chain block the branch forks from.
    pub(crate) fork_height: u64,
    items: HashSet<Hash256>,
    nonces: HashSet<([u8; 32], u64)>,
}

impl BranchItems {
    /// Walks from `tip` (a tree header off the best chain) down to the best chain, reading
    /// every branch block from the store.
    pub(crate) fn gather(
        store: &dyn Store,
        tree: &HeaderTree,
        tip: Hash256,
        max_depth: u64,
    ) -> Result<Self, BranchError> {
        let mut branch = Vec::new();
        let mut current = tip;
        while !tree.is_on_best_chain(&current) {
            if branch.len() as u64 >= max_depth {
                return Err(BranchError::TooDeep { limit: max_depth });
            }
            let header = tree
                .header(&current)
                .ok_or(BranchError::Unlinked(current))?;
            branch.push(current);
            current = header.prev_hash;
        }
        let fork_height = tree
            .header(&current)
            .map(|h| h.height)
            .ok_or(BranchError::Unlinked(current))?;
        let mut out = Self {
            tip,
            fork_height,
            items: HashSet::new(),
            nonces: HashSet::new(),
        };
        for id in branch.iter().rev() {
            let block = store.block(id)?.ok_or(BranchError::NotStored(*id))?;
            out.add_block(&block);
        }
        Ok(out)
    }

    /// Records `block` (a child of the current tip) and makes it the tip.
    pub(crate) fn add_block(&mut self, block: &Block) {
        for item in &block.items {
            self.items.insert(item.id());
            self.nonces.insert((item.author().to_bytes(), item.nonce()));
        }
        self.tip = block.id();
    }
}

/// The chain a side-branch block extends: the best chain up to the fork point plus the
/// branch's own blocks (best-chain items above the fork point do not count).
pub(crate) struct BranchLookup<'a> {
    /// The best chain cut at the fork point.
    base: StoreLookup<'a>,
    /// The branch blocks.
    branch: &'a BranchItems,
}

impl<'a> BranchLookup<'a> {
    /// The lookup for a child of `branch.tip`.
    pub(crate) fn new(store: &'a dyn Store, branch: &'a BranchItems) -> Self {
        Self {
            base: StoreLookup::up_to(store, branch.fork_height),
            branch,
        }
    }
}

impl ItemLookup for BranchLookup<'_> {
    type Error = StorageError;

    fn contains_item(&self, id: &Hash256) -> Result<bool, StorageError> {
        if self.branch.items.contains(id) {
            return Ok(true);
        }
        self.base.contains_item(id)
    }

    fn nonce_used(&self, author: &VerifyingKey, nonce: u64) -> Result<bool, StorageError> {
        if self.branch.nonces.contains(&(author.to_bytes(), nonce)) {
            return Ok(true);
        }
        self.base.nonce_used(author, nonce)
    }

    /// State nodes are addressed by hash: the store holds every branch's.
    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>, StorageError> {
        self.base.state_node(hash)
    }
}
