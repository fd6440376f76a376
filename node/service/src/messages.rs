//! What flows in and out of the chain service: blocks to import and their verdicts, gossip
//! items, local commands, notices for the network task and events for subscribers. Generic
//! over the peer id `P` (the network uses libp2p's `PeerId`; the service only hands it back).

use std::fmt;
use std::sync::Arc;

use talos_chain::{Block, Hash256, SignedItem};
use talos_storage::ChainTip;
use tokio::sync::oneshot;

pub use crate::error::Rejection;
use crate::error::{MineError, SubmitError};

/// What a peer id must be for the service to carry it: copied into notices and logs.
pub trait PeerRef:
    Copy + Eq + std::hash::Hash + fmt::Debug + fmt::Display + Send + Sync + 'static
{
}

impl<T: Copy + Eq + std::hash::Hash + fmt::Debug + fmt::Display + Send + Sync + 'static> PeerRef
    for T
{
}

/// Capacity of the import queue (blocks waiting for validation). Full → gossip blocks are
/// ignored and sync slows down: backpressure, never unbounded memory.
pub const IMPORT_QUEUE: usize = 512;

/// Capacity of the gossip item queue.
pub const GOSSIP_ITEM_QUEUE: usize = 1024;

/// Capacity of the command queue.
pub const COMMAND_QUEUE: usize = 256;

/// Capacity of the notice channel from the chain service to the network task.
pub const NOTICE_QUEUE: usize = 1024;

/// Where a block came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockSource<P> {
    /// Gossip from this peer (propagation source).
    Gossip(P),
    /// A sync response from this peer.
    Sync(P),
    /// Mined here.
    Mined,
}

impl<P: Copy> BlockSource<P> {
    /// The remote peer, if any.
    pub fn peer(&self) -> Option<P> {
        match self {
            Self::Gossip(p) | Self::Sync(p) => Some(*p),
            Self::Mined => None,
        }
    }

    /// The kind of source, without the peer.
    pub fn kind(&self) -> ImportSource {
        match self {
            Self::Gossip(_) => ImportSource::Gossip,
            Self::Sync(_) => ImportSource::Sync,
            Self::Mined => ImportSource::Mined,
        }
    }
}

/// How a block reached the store (events, metrics labels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImportSource {
    /// Gossip.
    Gossip,
    /// A sync response.
    Sync,
    /// Mined here.
    Mined,
    /// Already stored (a side branch from before a restart, attached to fork choice).
    Stored,
}

impl ImportSource {
    /// Stable name: `gossip`, `sync`, `mined` or `stored`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Gossip => "gossip",
            Self::Sync => "sync",
            Self::Mined => "mined",
            Self::Stored => "stored",
        }
    }
}

impl fmt::Display for ImportSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of a block handed to the import pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Valid and stored; `new_tip` when it (or a reorg it caused) moved the best tip.
    Imported {
        /// Whether the best tip changed.
        new_tip: bool,
    },
    /// Already stored.
    AlreadyKnown,
    /// Parent unknown: kept aside while its parents are fetched.
    Orphan {
        /// The missing parent.
        parent: Hash256,
    },
    /// Invalid.
    Invalid(Rejection),
    /// Valid as far as it was checked, but off the best tip with too little work to ever
    /// become best ([`talos_chain::side_branch_floor`]): neither stored nor relayed, and
    /// not the sender's fault (it may have lost a race).
    Stale,
    /// Not processed now (queue full, a clock ahead of ours, a storage failure); no fault of
    /// the sender.
    Dropped,
}

/// A block to import.
#[derive(Debug)]
pub struct ImportRequest<P> {
    /// The block.
    pub block: Block,
    /// Where it came from.
    pub source: BlockSource<P>,
    /// Where to send the verdict (gossip validation waits for it).
    pub reply: Option<oneshot::Sender<ImportOutcome>>,
}

/// An item from gossip to check and pool; the verdict is the item id when pooled.
#[derive(Debug)]
pub struct GossipItem<P> {
    /// The item.
    pub item: SignedItem,
    /// Who sent it.
    pub from: P,
    /// The verdict, for gossipsub's validation report.
    pub reply: oneshot::Sender<Result<Hash256, SubmitError>>,
}

/// Commands from the node's handle (local API, tests, the simulator).
#[derive(Debug)]
pub enum ChainCommand {
    /// Validate and add an item to the mempool, then gossip it.
    SubmitItem {
        /// The item.
        item: Box<SignedItem>,
        /// The verdict.
        reply: oneshot::Sender<Result<Hash256, SubmitError>>,
    },
    /// Mine one block on the best tip now (also when the node does not mine continuously);
    /// the reply comes once the block is imported.
    MineBlock {
        /// The new block's id, or why none was mined.
        reply: oneshot::Sender<Result<Hash256, MineError>>,
    },
    /// Mempool size.
    MempoolLen {
        /// Count.
        reply: oneshot::Sender<usize>,
    },
    /// A mempool item by id.
    MempoolItem {
        /// Item id.
        id: Hash256,
        /// The item, if pending.
        reply: oneshot::Sender<Option<SignedItem>>,
    },
}

/// What the chain service tells the network task.
#[derive(Clone, Debug)]
pub enum ChainNotice<P> {
    /// The best tip moved. `announce` is the new tip block when it should be gossiped: only
    /// blocks mined here (gossipsub forwards validated gossip blocks itself, and synced blocks
    /// came from a peer that has them).
    NewTip {
        /// The new tip.
        tip: ChainTip,
        /// Blocks disconnected.
        reorg_depth: u64,
        /// Block to publish on the blocks topic.
        announce: Option<Arc<Block>>,
    },
    /// An item entered the mempool from the local API: publish it on the items topic.
    PublishItem(Box<SignedItem>),
    /// A block from `peer` was invalid (found later than its own verdict, e.g. an orphan
    /// judged when its parent arrived, or a block whose verdict was remembered).
    BadBlock {
        /// The sender.
        peer: P,
        /// Why it is invalid.
        rejection: Rejection,
    },
    /// A block's parent is unknown: sync should fetch the ancestors from `peer`.
    MissingParent {
        /// The peer that had the orphan.
        peer: P,
        /// The missing parent id.
        parent: Hash256,
        /// Its height (the orphan's minus one).
        parent_height: u64,
    },
}

/// Something that happened to the chain, for subscribers (SSE, tests, the simulator).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainEvent {
    /// The best tip changed.
    NewTip {
        /// New tip id.
        id: Hash256,
        /// New tip height.
        height: u64,
        /// Blocks disconnected by this change (0 for a plain extension).
        reorg_depth: u64,
    },
    /// A block was validated and stored (best chain or side branch).
    BlockImported {
        /// Block id.
        id: Hash256,
        /// Its height.
        height: u64,
        /// Where it came from.
        source: ImportSource,
    },
    /// An item entered the mempool.
    NewItem {
        /// Item id.
        id: Hash256,
    },
}
