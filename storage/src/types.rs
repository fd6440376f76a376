//! Values the store keeps and the update it applies.

use std::sync::Arc;

use talos_chain::chain_state::StateRecord;
use talos_chain::state::Node;
use talos_chain::{Block, BlockHeader, Hash256, Work};

/// Most blocks one [`ChainUpdate`] may touch (stored + disconnected + connected). Bounds the
/// size of one atomic write; a deeper reorg or a bigger batch is split by the caller.
pub const MAX_UPDATE_BLOCKS: usize = 1024;

/// Most headers one range query returns.
pub const MAX_HEADERS_PER_QUERY: usize = 2_000;

/// Most blocks one range query returns.
pub const MAX_BLOCKS_PER_QUERY: usize = 512;

/// Most entries in a block locator.
pub const MAX_LOCATOR_LEN: usize = 64;

/// The best chain's tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainTip {
    /// Tip block id.
    pub id: Hash256,
    /// Tip height.
    pub height: u64,
    /// Cumulative work of the chain ending at the tip.
    pub cumulative_work: Work,
}

/// A stored header with what fork choice needs beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderEntry {
    /// The header.
    pub header: BlockHeader,
    /// Cumulative work of the chain ending at this block.
    pub cumulative_work: Work,
}

impl HeaderEntry {
    /// The block id.
    pub fn id(&self) -> Hash256 {
        self.header.id()
    }

    /// The block height.
    pub fn height(&self) -> u64 {
        self.header.height
    }

    /// This block as a tip.
    pub fn as_tip(&self) -> ChainTip {
        ChainTip {
            id: self.id(),
            height: self.height(),
            cumulative_work: self.cumulative_work,
        }
    }
}

/// Where a best-chain item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemLocation {
    /// The block holding the item.
    pub block: Hash256,
    /// That block's height.
    pub height: u64,
    /// Index of the item in the block (its Merkle leaf index).
    pub position: u32,
}

/// A block to store, with the cumulative work of the chain it ends (the caller's fork choice
/// computed it) and the state tree nodes its validation created (written in the same atomic
/// commit, so a stored block's state root is always readable). Its height is
/// `block.header.height`. The block is shared, not copied: the import pipeline hands the same
/// block to the store, the mempool and the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBlock {
    /// The block.
    pub block: Arc<Block>,
    /// Cumulative work up to and including this block.
    pub cumulative_work: Work,
    /// State tree nodes created by this block ([`talos_chain::ValidBlock::state`]).
    pub state_nodes: Vec<Node>,
    /// Records of the state entries this block set, stored by value hash.
    pub state_records: Vec<StateRecord>,
}

impl NewBlock {
    /// A block that changes no state (or whose state nodes are stored already).
    pub fn new(block: impl Into<Arc<Block>>, cumulative_work: Work) -> Self {
        Self {
            block: block.into(),
            cumulative_work,
            state_nodes: Vec::new(),
            state_records: Vec::new(),
        }
    }
}

/// One atomic change to the store: a plain import, a side-chain block, a reorg, or a batch of
/// any of these are all the same operation.
///
/// Applied in this order: `store` (blocks whose parent is stored or earlier in `store`; side
/// blocks touch no index), then `disconnect` (best-chain blocks, tip first; they stay stored),
/// then `connect` (stored or new blocks, oldest first). The result must be `new_tip`. Either
/// everything is written, or nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainUpdate {
    /// Blocks to store. Blocks already stored are skipped.
    pub store: Vec<NewBlock>,
    /// Best-chain blocks to take off the best chain, tip first.
    pub disconnect: Vec<Hash256>,
    /// Blocks to put on the best chain, oldest first.
    pub connect: Vec<Hash256>,
    /// The best chain's tip afterwards.
    pub new_tip: ChainTip,
}

impl ChainUpdate {
    /// Stores `block` and makes it the new tip (its parent must be the current tip).
    pub fn extend(block: impl Into<Arc<Block>>, cumulative_work: Work) -> Self {
        let block = block.into();
        let new_tip = ChainTip {
            id: block.id(),
            height: block.header.height,
            cumulative_work,
        };
        Self {
            store: vec![NewBlock::new(block, cumulative_work)],
            disconnect: Vec::new(),
            connect: vec![new_tip.id],
            new_tip,
        }
    }

    /// Stores blocks that do not change the best chain (side branches), keeping `tip`.
    pub fn side_blocks(blocks: Vec<NewBlock>, tip: ChainTip) -> Self {
        Self {
            store: blocks,
            disconnect: Vec::new(),
            connect: Vec::new(),
            new_tip: tip,
        }
    }

    /// Number of blocks this update touches (what [`MAX_UPDATE_BLOCKS`] bounds).
    pub fn len(&self) -> usize {
        self.store.len() + self.disconnect.len() + self.connect.len()
    }

    /// Whether the update touches no block.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a commit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitSummary {
    /// The best chain's tip after the commit.
    pub tip: ChainTip,
    /// Blocks newly written (blocks already stored are skipped).
    pub blocks_written: usize,
    /// Blocks taken off the best chain.
    pub disconnected: usize,
    /// Blocks put on the best chain.
    pub connected: usize,
}

/// The blocks that switch the best chain to another tip; see
/// [`crate::ChainStore::reorg_path`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReorgPath {
    /// The last block both chains share.
    pub fork_point: Hash256,
    /// Best-chain blocks to disconnect, tip first.
    pub disconnect: Vec<Hash256>,
    /// Blocks to connect, oldest first, ending with the new tip.
    pub connect: Vec<Hash256>,
}

/// Entry counts, for diagnostics and full integrity checks. May scan whole trees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Stored blocks (best chain and side branches).
    pub blocks: u64,
    /// Stored headers.
    pub headers: u64,
    /// Entries of the height index (best-chain length).
    pub heights: u64,
    /// Entries of the item index.
    pub items: u64,
    /// Entries of the (author, nonce) index.
    pub nonces: u64,
    /// Key-value entries, all namespaces.
    pub kv_entries: u64,
}
