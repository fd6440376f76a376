//! The messages between the network task and the chain service (import pipeline, mempool,
//! miner). The network task translates; the chain service decides.

use libp2p::PeerId;
use talos_chain::{Block, Hash256, SignedItem};
use talos_storage::ChainTip;
use tokio::sync::oneshot;

/// Capacity of the import queue (blocks waiting for validation). Full → gossip blocks are
/// ignored and sync slows down: backpressure, never unbounded memory.
pub const IMPORT_QUEUE: usize = 512;

/// Capacity of the notice channel from the chain service to the network task.
pub const NOTICE_QUEUE: usize = 1024;

/// Where a block came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockSource {
    /// Gossip from this peer (propagation source).
    Gossip(PeerId),
    /// A sync response from this peer.
    Sync(PeerId),
    /// Mined here.
    Mined,
}

impl BlockSource {
    /// The remote peer, if any.
    pub fn peer(&self) -> Option<PeerId> {
        match self {
            Self::Gossip(p) | Self::Sync(p) => Some(*p),
            Self::Mined => None,
        }
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
    /// Invalid, with the stable code of the rule it broke (`BlockError::code`, decode codes).
    Invalid {
        /// Error code.
        code: &'static str,
    },
    /// Not processed now (queue full, too far ahead); no fault of the sender.
    Dropped,
}

/// A block to import.
#[derive(Debug)]
pub struct ImportRequest {
    /// The block.
    pub block: Block,
    /// Where it came from.
    pub source: BlockSource,
    /// Where to send the verdict (gossip validation waits for it).
    pub reply: Option<oneshot::Sender<ImportOutcome>>,
}

/// What an item from gossip turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemVerdict {
    /// Added to the mempool: forward it.
    Accepted,
    /// Valid but not wanted (duplicate, already in chain, pool full): do not forward, no penalty.
    Ignored,
    /// Invalid (bad signature, too large): penalize the sender.
    Rejected {
        /// Error code.
        code: &'static str,
    },
}

/// An item from gossip to check and pool.
#[derive(Debug)]
pub struct GossipItem {
    /// The item.
    pub item: SignedItem,
    /// Who sent it.
    pub from: PeerId,
    /// The verdict, for gossipsub's validation report.
    pub reply: oneshot::Sender<ItemVerdict>,
}

/// What the chain service tells the network task.
// Notices are moved through a channel once; boxing the block would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum ChainNotice {
    /// The best tip moved. `announce` is the new tip block when it should be gossiped: only
    /// blocks mined here (gossipsub forwards validated gossip blocks itself, and synced blocks
    /// came from a peer that has them).
    NewTip {
        /// The new tip.
        tip: ChainTip,
        /// Blocks disconnected.
        reorg_depth: u64,
        /// Block to publish on the blocks topic.
        announce: Option<Block>,
    },
    /// An item entered the mempool from the local API: publish it on the items topic.
    PublishItem(SignedItem),
    /// A block from `source` was invalid: penalize the peer.
    BadBlock {
        /// The sender.
        peer: PeerId,
        /// Error code.
        code: &'static str,
    },
    /// A block's parent is unknown: sync should fetch the ancestors from `peer`.
    MissingParent {
        /// The peer that had the orphan.
        peer: PeerId,
        /// The missing parent id.
        parent: Hash256,
    },
}
