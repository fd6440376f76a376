//! Talos chain rules.
//!
//! Pure domain logic: no I/O, no async, no networking. Hashes, headers, blocks and signed
//! items; RFC 9162 Merkle trees and inclusion proofs; proof of work and retargeting; network
//! specs and genesis; layered validation as typestate; fork choice; the mempool, block templates
//! and a cancellable miner. The only threads are the miner's.

pub mod block;
mod canonical;
pub mod chain_state;
pub mod forkchoice;
pub mod hash;
pub mod header;
pub mod item;
pub mod mempool;
pub mod merkle;
pub mod miner;
pub mod pow;
pub mod spec;
pub mod spv;
pub mod state;
pub mod status;
pub mod template;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod validate;
pub mod wire;

pub use block::Block;
pub use hash::Hash256;
pub use header::BlockHeader;
pub use item::{ItemKind, SignedItem, UnsignedItem};
pub use pow::{CompactTarget, Target, Work};
pub use spec::{Limits, NetworkSpec};
pub use spv::ItemProof;
pub use status::ChainStatus;

/// Re-exported so callers sign and name keys with the same types.
pub use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

pub use forkchoice::{
    ForkChoiceConfig, ForkChoiceError, HeaderTree, InsertOutcome, Reorg, SIDE_BRANCH_MARGIN_BLOCKS,
    Tip, side_branch_floor,
};
pub use mempool::{AdmitError, Inserted, Mempool, MempoolError, Returned};
pub use miner::{Miner, MinerError, MiningCanceller, MiningJob, mine_nonce};
pub use template::{BlockTemplate, TemplateError};
pub use validate::{
    Blame, BlockError, CheckedBlock, ErrorLayer, ItemError, ItemLookup, MemoryItemIndex,
    ParentContext, PrecheckedBlock, ValidBlock, ValidateError, check_header_context, validate_item,
};
