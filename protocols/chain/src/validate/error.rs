//! Typed rejection reasons for blocks and single items.
//!
//! Every variant has a stable snake_case [`BlockError::code`] (metrics labels, API error codes)
//! and the [`ErrorLayer`] that produced it. Codes never change once published; add variants
//! instead.

use crate::hash::Hash256;
use crate::pow::{CompactTarget, TargetError};

/// Which validation layer rejected a block or item, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorLayer {
    /// Shape and limits, checked before any hashing or signature work.
    Structural,
    /// Proof of work, duplicate ids, Merkle root, signatures.
    Cryptographic,
    /// Agreement with the parent: link, height, target, timestamps.
    Consensus,
    /// Agreement with the chain's history: replayed items and nonces.
    Semantic,
}

impl ErrorLayer {
    /// Stable snake_case name (metrics label).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Structural => "structural",
            Self::Cryptographic => "cryptographic",
            Self::Consensus => "consensus",
            Self::Semantic => "semantic",
        }
    }
}

/// What a block rejection condemns ([`BlockError::blame`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Blame {
    /// The block itself: its id is invalid, and so is every block built on it. The verdict
    /// follows from the header, its ancestors, or a body the header commits to.
    Block,
    /// Only the body it came with, which does not match its header (item count or Merkle
    /// root): the sender's fault; the real body may still arrive from anyone.
    Body,
    /// Nothing for good: the block time is ahead of the validator's clock.
    Clock,
}

/// Why a block was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    // ---- structural ----
    /// The header version is not [`crate::header::HEADER_VERSION`].
    #[error("unsupported header version {found}")]
    UnsupportedVersion {
        /// The header's version.
        found: u32,
    },
    /// The header belongs to another network.
    #[error("block is for network {found:#x}, expected {expected:#x}")]
    WrongNetwork {
        /// This network's id.
        expected: u32,
        /// The header's network id.
        found: u32,
    },
    /// Height 0: genesis is never validated, it comes from the spec.
    #[error("block claims height 0; genesis comes from the network spec")]
    GenesisHeight,
    /// The header commits to more items than the network allows in one block.
    #[error("block has {count} items, at most {max} are allowed")]
    TooManyItems {
        /// Number of items carried.
        count: usize,
        /// The limit.
        max: u32,
    },
    /// The header's item count differs from the number of items carried.
    #[error("header commits to {header} items but the block carries {actual}")]
    ItemCountMismatch {
        /// The header's `item_count`.
        header: u32,
        /// Number of items carried.
        actual: usize,
    },
    /// One item exceeds the item size limit.
    #[error("item {index} is {size} bytes, at most {max} are allowed")]
    ItemTooLarge {
        /// Index of the item.
        index: usize,
        /// Its canonical size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The whole block exceeds the block size limit.
    #[error("block is at least {size} bytes, at most {max} are allowed")]
    BlockTooLarge {
        /// Canonical size counted so far (counting stops once over the limit).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The header's compact target is not a valid target.
    #[error("invalid compact target {target}: {reason}")]
    InvalidTarget {
        /// The header's target.
        target: CompactTarget,
        /// Why it is invalid.
        reason: TargetError,
    },
    /// The header's target is easier than the network's proof-of-work limit.
    #[error("target {target} is easier than the network limit {limit}")]
    TargetAboveLimit {
        /// The header's target.
        target: CompactTarget,
        /// The network's `pow_limit`.
        limit: CompactTarget,
    },

    // ---- cryptographic ----
    /// The block id does not meet the header's own target.
    #[error("block hash {id} does not meet its target {target}")]
    InsufficientWork {
        /// The block id.
        id: Hash256,
        /// The header's target.
        target: CompactTarget,
    },
    /// The same item appears twice in the block.
    #[error("item {index} ({id}) appears earlier in the block")]
    DuplicateItem {
        /// Index of the second occurrence.
        index: usize,
        /// The item id.
        id: Hash256,
    },
    /// The header's Merkle root is not the root over the items.
    #[error("merkle root mismatch: header has {header}, items give {computed}")]
    MerkleRootMismatch {
        /// The header's root.
        header: Hash256,
        /// The root computed over the items.
        computed: Hash256,
    },
    /// An item's author key has small order (a key that "signs" almost anything).
    #[error("item {index} has a weak (small-order) author key")]
    WeakAuthorKey {
        /// Index of the item.
        index: usize,
    },
    /// Item signatures do not verify.
    #[error("item signatures do not verify (first bad item: {index:?})")]
    BadSignature {
        /// Index of the first item that fails on its own, if one does.
        index: Option<usize>,
    },

    // ---- consensus ----
    /// The block does not build on the given parent.
    #[error("block builds on {found}, expected parent {expected}")]
    PrevHashMismatch {
        /// The parent's id.
        expected: Hash256,
        /// The header's `prev_hash`.
        found: Hash256,
    },
    /// The height is not the parent's height plus one.
    #[error("block height {found}, expected {expected}")]
    WrongHeight {
        /// Parent height + 1.
        expected: u64,
        /// The header's height.
        found: u64,
    },
    /// The target is not the retarget of the parent's.
    #[error("block target {found}, expected {expected}")]
    WrongTarget {
        /// What the retarget rule gives.
        expected: CompactTarget,
        /// The header's target.
        found: CompactTarget,
    },
    /// The timestamp is not after the parent's: block times strictly increase.
    #[error("block time {timestamp_ms} is not after its parent's {parent_ms}")]
    TimestampNotAfterParent {
        /// The header's timestamp.
        timestamp_ms: u64,
        /// The parent's timestamp.
        parent_ms: u64,
    },
    /// The timestamp is too far ahead of the validator's clock.
    #[error("block time {timestamp_ms} is after the latest acceptable time {max_ms}")]
    TimestampTooFarInFuture {
        /// The header's timestamp.
        timestamp_ms: u64,
        /// Validator's clock plus the allowed drift.
        max_ms: u64,
    },

    // ---- semantic ----
    /// An item is already in the chain the block extends.
    #[error("item {index} ({id}) is already in the chain")]
    ItemAlreadyInChain {
        /// Index of the item.
        index: usize,
        /// The item id.
        id: Hash256,
    },
    /// An item reuses an (author, nonce) pair already used in the chain.
    #[error("item {index} reuses nonce {nonce} of its author already used in the chain")]
    NonceAlreadyUsed {
        /// Index of the item.
        index: usize,
        /// The nonce.
        nonce: u64,
    },
    /// Two items of the block share an (author, nonce) pair.
    #[error("item {index} reuses nonce {nonce} of its author earlier in the block")]
    DuplicateNonce {
        /// Index of the second occurrence.
        index: usize,
        /// The nonce.
        nonce: u64,
    },
    /// The header's state root is not the parent's state with the block applied.
    #[error("state root mismatch: header has {header}, the block's items give {computed}")]
    StateRootMismatch {
        /// The header's `state_root`.
        header: Hash256,
        /// The root computed from the parent's state and the items.
        computed: Hash256,
    },
}

impl BlockError {
    /// Stable snake_case code (metrics label, API error code).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::WrongNetwork { .. } => "wrong_network",
            Self::GenesisHeight => "genesis_height",
            Self::TooManyItems { .. } => "too_many_items",
            Self::ItemCountMismatch { .. } => "item_count_mismatch",
            Self::ItemTooLarge { .. } => "item_too_large",
            Self::BlockTooLarge { .. } => "block_too_large",
            Self::InvalidTarget { .. } => "invalid_target",
            Self::TargetAboveLimit { .. } => "target_above_limit",
            Self::InsufficientWork { .. } => "insufficient_work",
            Self::DuplicateItem { .. } => "duplicate_item",
            Self::MerkleRootMismatch { .. } => "merkle_root_mismatch",
            Self::WeakAuthorKey { .. } => "weak_author_key",
            Self::BadSignature { .. } => "bad_signature",
            Self::PrevHashMismatch { .. } => "prev_hash_mismatch",
            Self::WrongHeight { .. } => "wrong_height",
            Self::WrongTarget { .. } => "wrong_target",
            Self::TimestampNotAfterParent { .. } => "timestamp_not_after_parent",
            Self::TimestampTooFarInFuture { .. } => "timestamp_too_far_in_future",
            Self::ItemAlreadyInChain { .. } => "item_already_in_chain",
            Self::NonceAlreadyUsed { .. } => "nonce_already_used",
            Self::DuplicateNonce { .. } => "duplicate_nonce",
            Self::StateRootMismatch { .. } => "state_root_mismatch",
        }
    }

    /// What the rejection condemns: the block (its id, and so every descendant), only the
    /// copy of the body it arrived with, or nothing for good (our clock). Only
    /// [`Blame::Block`] verdicts may be remembered under the block id. Every variant is listed:
    /// a new rule cannot compile without this decision.
    pub fn blame(&self) -> Blame {
        match self {
            // The body does not match the header: another copy of the block may be fine.
            Self::ItemCountMismatch { .. } | Self::MerkleRootMismatch { .. } => Blame::Body,
            // Our clock may be behind: the block may become acceptable.
            Self::TimestampTooFarInFuture { .. } => Blame::Clock,
            // The header, its ancestors, or a body the header commits to.
            Self::UnsupportedVersion { .. }
            | Self::WrongNetwork { .. }
            | Self::GenesisHeight
            | Self::TooManyItems { .. }
            | Self::ItemTooLarge { .. }
            | Self::BlockTooLarge { .. }
            | Self::InvalidTarget { .. }
            | Self::TargetAboveLimit { .. }
            | Self::InsufficientWork { .. }
            | Self::DuplicateItem { .. }
            | Self::WeakAuthorKey { .. }
            | Self::BadSignature { .. }
            | Self::PrevHashMismatch { .. }
            | Self::WrongHeight { .. }
            | Self::WrongTarget { .. }
            | Self::TimestampNotAfterParent { .. }
            | Self::ItemAlreadyInChain { .. }
            | Self::NonceAlreadyUsed { .. }
            | Self::DuplicateNonce { .. }
            // The items are the ones the header commits to, so the state they give is too.
            | Self::StateRootMismatch { .. } => Blame::Block,
        }
    }

    /// The layer that rejected the block.
    pub fn layer(&self) -> ErrorLayer {
        match self {
            Self::UnsupportedVersion { .. }
            | Self::WrongNetwork { .. }
            | Self::GenesisHeight
            | Self::TooManyItems { .. }
            | Self::ItemCountMismatch { .. }
            | Self::ItemTooLarge { .. }
            | Self::BlockTooLarge { .. }
            | Self::InvalidTarget { .. }
            | Self::TargetAboveLimit { .. } => ErrorLayer::Structural,
            Self::InsufficientWork { .. }
            | Self::DuplicateItem { .. }
            | Self::MerkleRootMismatch { .. }
            | Self::WeakAuthorKey { .. }
            | Self::BadSignature { .. } => ErrorLayer::Cryptographic,
            Self::PrevHashMismatch { .. }
            | Self::WrongHeight { .. }
            | Self::WrongTarget { .. }
            | Self::TimestampNotAfterParent { .. }
            | Self::TimestampTooFarInFuture { .. } => ErrorLayer::Consensus,
            Self::ItemAlreadyInChain { .. }
            | Self::NonceAlreadyUsed { .. }
            | Self::DuplicateNonce { .. }
            | Self::StateRootMismatch { .. } => ErrorLayer::Semantic,
        }
    }
}

/// Why a single item is not admissible (mempool, API).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// The item exceeds the item size limit.
    #[error("item is {size} bytes, at most {max} are allowed")]
    TooLarge {
        /// Its canonical size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The author key has small order.
    #[error("item has a weak (small-order) author key")]
    WeakAuthorKey,
    /// The signature does not verify (ZIP 215 verification) on this network.
    #[error("item signature does not verify")]
    BadSignature,
}

impl ItemError {
    /// Stable snake_case code (metrics label, API error code). Shares the block codes of the
    /// same reason.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "item_too_large",
            Self::WeakAuthorKey => "weak_author_key",
            Self::BadSignature => "bad_signature",
        }
    }

    /// The layer that rejected the item.
    pub fn layer(&self) -> ErrorLayer {
        match self {
            Self::TooLarge { .. } => ErrorLayer::Structural,
            Self::WeakAuthorKey | Self::BadSignature => ErrorLayer::Cryptographic,
        }
    }
}

/// Why [`crate::CheckedBlock::validate`] gave no valid block: the block broke a rule, or the
/// chain lookup it needed failed (then there is no verdict on the block at all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidateError<E> {
    /// The block is invalid.
    #[error(transparent)]
    Invalid(#[from] BlockError),
    /// The chain could not be read; nothing is known about the block.
    #[error("chain lookup failed: {0}")]
    Lookup(E),
    /// A node of the parent's state tree is not in the chain's store: nothing is known about
    /// the block (the parent was validated, so its state was stored with it).
    #[error("state node {0} is missing")]
    MissingState(Hash256),
}

impl ValidateError<std::convert::Infallible> {
    /// The rule broken, for lookups that cannot fail.
    ///
    /// # Panics
    ///
    /// On [`ValidateError::MissingState`]: an in-memory index that lost state nodes (every
    /// in-memory index keeps the nodes of the blocks it records).
    pub fn into_invalid(self) -> BlockError {
        match self {
            Self::Invalid(e) => e,
            Self::Lookup(never) => match never {},
            Self::MissingState(node) => panic!("in-memory chain lacks state node {node}"),
        }
    }
}
