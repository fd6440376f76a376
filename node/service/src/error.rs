//! Why the chain service could not start or had to stop, and why a caller's request failed.

use talos_chain::{BlockError, ForkChoiceError, Hash256, MempoolError};
use talos_storage::StorageError;

/// A failure of the chain service itself (not of a block or item it judged).
#[derive(Debug, thiserror::Error)]
pub enum ChainServiceError {
    /// The store failed: reading the chain at start-up, or a commit.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// The store's best chain has a gap (a height without a header below the tip).
    #[error("the store has no best-chain header at height {height}")]
    MissingHeader {
        /// The height.
        height: u64,
    },
    /// The in-memory fork choice and the store disagree and could not be reconciled.
    #[error("fork choice is inconsistent with the store: {0}")]
    Inconsistent(#[from] Inconsistency),
    /// The service thread or its runtime could not be started.
    #[error("could not start the chain service: {0}")]
    Spawn(#[source] std::io::Error),
    /// The service thread ended abnormally (it panicked).
    #[error("the chain service thread ended abnormally")]
    Crashed,
}

impl ChainServiceError {
    /// Stable snake_case code (logs, metrics).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Storage(e) => e.code(),
            Self::MissingHeader { .. } => "missing_header",
            Self::Inconsistent(_) => "inconsistent",
            Self::Spawn(_) => "spawn",
            Self::Crashed => "crashed",
        }
    }
}

/// How fork choice and the store fell out of step.
#[derive(Debug, thiserror::Error)]
pub enum Inconsistency {
    /// Fork choice has no path between the tip and a heavier block's parent.
    #[error("no reorg path in the tree: {0}")]
    ReorgPath(#[source] ForkChoiceError),
    /// A block fork choice should hold is not in its tree.
    #[error("block {0} is not in the fork-choice tree")]
    NotInTree(Hash256),
    /// A stored best-chain header does not extend the tree built from the headers below it.
    #[error("the stored best-chain header at height {height} does not extend the tree")]
    BestChainBreak {
        /// Its height.
        height: u64,
    },
    /// The tree built from the store ends elsewhere than the store's tip.
    #[error(
        "tree tip {tree} (height {tree_height}) differs from the stored tip {store} (height {store_height})"
    )]
    TipMismatch {
        /// The tree's tip.
        tree: Hash256,
        /// Its height.
        tree_height: u64,
        /// The store's tip.
        store: Hash256,
        /// Its height.
        store_height: u64,
    },
}

/// Why an item was not pooled.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The mempool refused it (invalid, duplicate, already in the chain, no room).
    #[error(transparent)]
    Refused(#[from] MempoolError),
    /// The chain could not be read to judge it: nothing is known about the item.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

impl SubmitError {
    /// Stable code: the mempool's, or the storage error's.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(e) => e.code(),
            Self::Storage(e) => e.code(),
        }
    }
}

/// Why [`crate::ChainCommand::MineBlock`] produced no block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MineError {
    /// Too many blocks are already requested.
    #[error("too many mining requests pending")]
    Busy,
    /// The mined block was refused by the node's own import pipeline.
    #[error("the mined block was refused: {0}")]
    Refused(Rejection),
}

/// Why a block is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// It breaks a chain rule.
    #[error(transparent)]
    Rule(#[from] BlockError),
    /// Its parent (or an earlier ancestor) is invalid.
    #[error("descends from an invalid block")]
    InvalidAncestor,
}

impl Rejection {
    /// Stable snake_case code: the rule's ([`BlockError::code`]) or `invalid_parent`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rule(e) => e.code(),
            Self::InvalidAncestor => "invalid_parent",
        }
    }
}
