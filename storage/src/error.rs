//! The storage error type.

use std::error::Error as StdError;

use talos_chain::Hash256;

/// Boxed error from a storage backend.
pub type BackendError = Box<dyn StdError + Send + Sync + 'static>;

/// Result alias for storage operations.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Everything a store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The backend failed (I/O, the database itself).
    #[error("storage backend failed during {context}: {source}")]
    Backend {
        /// What the store was doing.
        context: &'static str,
        /// The backend's error.
        #[source]
        source: BackendError,
    },
    /// Stored data is damaged or inconsistent. Never served: the read fails instead.
    #[error("corrupt storage: {what} at key {key}: {reason}")]
    Corrupt {
        /// What is damaged: a tree / index name such as `blocks` or `heights`.
        what: &'static str,
        /// The key, in hex (or a height in decimal).
        key: String,
        /// What exactly is wrong.
        reason: String,
    },
    /// The store holds a different network's chain.
    #[error("store was created for genesis {stored}, not {expected}")]
    WrongGenesis {
        /// Genesis id in the store.
        stored: Hash256,
        /// Genesis id the caller expects.
        expected: Hash256,
    },
    /// The genesis block given to `open` cannot be a genesis block.
    #[error("invalid genesis block: {0}")]
    InvalidGenesis(&'static str),
    /// The store was written by an incompatible version of this crate.
    #[error("unsupported storage format version {found} (this build reads {supported})")]
    UnsupportedFormat {
        /// Version found on disk.
        found: u32,
        /// Version this build reads and writes.
        supported: u32,
    },
    /// The same path is already open in this process (one database per path per process).
    #[error("store at {path} is already open in this process")]
    AlreadyOpen {
        /// The path.
        path: String,
    },
    /// A block the operation needs is not stored.
    #[error("{what} {id} not found")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id.
        id: Hash256,
    },
    /// A new block's parent is neither stored nor earlier in the same update.
    #[error("block {block} has unknown parent {parent}")]
    MissingParent {
        /// The orphan block.
        block: Hash256,
        /// Its parent id.
        parent: Hash256,
    },
    /// A chain update is inconsistent with the stored chain; nothing was written.
    #[error("rejected chain update: {0}")]
    InvalidUpdate(#[from] UpdateError),
    /// A key-value entry is over a size limit.
    #[error("key-value {what} is {actual} bytes, over the limit of {limit}")]
    KvTooLarge {
        /// `namespace`, `key` or `value`.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// The size given.
        actual: usize,
    },
    /// A key-value namespace is empty or has characters outside `[a-z0-9_.-]`.
    #[error("invalid key-value namespace {0:?}")]
    BadNamespace(String),
    /// Switching to a tip would disconnect or connect more blocks than allowed.
    #[error("reorg deeper than {limit} blocks")]
    ReorgTooDeep {
        /// The limit.
        limit: u64,
    },
    /// A lock was poisoned by a panic in another thread.
    #[error("store lock poisoned")]
    Poisoned,
}

impl StorageError {
    /// Stable error code (metrics label, API error code).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Backend { .. } => "backend",
            Self::Corrupt { .. } => "corrupt",
            Self::WrongGenesis { .. } => "wrong_genesis",
            Self::InvalidGenesis(_) => "invalid_genesis",
            Self::UnsupportedFormat { .. } => "unsupported_format",
            Self::AlreadyOpen { .. } => "already_open",
            Self::NotFound { .. } => "not_found",
            Self::MissingParent { .. } => "missing_parent",
            Self::InvalidUpdate(e) => e.code(),
            Self::KvTooLarge { .. } => "kv_too_large",
            Self::BadNamespace(_) => "bad_namespace",
            Self::ReorgTooDeep { .. } => "reorg_too_deep",
            Self::Poisoned => "poisoned",
        }
    }

    /// Whether this error means the stored data is damaged (as opposed to a bad request or a
    /// transient backend failure).
    pub fn is_corruption(&self) -> bool {
        matches!(self, Self::Corrupt { .. })
    }

    pub(crate) fn backend(
        context: &'static str,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self::Backend {
            context,
            source: Box::new(source),
        }
    }

    pub(crate) fn corrupt(
        what: &'static str,
        key: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::Corrupt {
            what,
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// Why a [`crate::ChainUpdate`] was refused. A refused update writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// More blocks in one update than [`crate::MAX_UPDATE_BLOCKS`].
    #[error("update touches {actual} blocks, over the limit of {limit}")]
    TooLarge {
        /// The limit.
        limit: usize,
        /// Blocks in the update (new + disconnected + connected).
        actual: usize,
    },
    /// A new block's height is not its parent's height plus one.
    #[error("block {block} has height {height}, its parent has height {parent_height}")]
    BadHeight {
        /// The block.
        block: Hash256,
        /// Its height.
        height: u64,
        /// The parent's height.
        parent_height: u64,
    },
    /// A new block's cumulative work does not exceed its parent's.
    #[error("block {block} does not add work to its parent")]
    WorkNotIncreasing {
        /// The block.
        block: Hash256,
    },
    /// The blocks to disconnect are not the best chain's tip and its ancestors, in order.
    #[error("disconnect #{index} is {got}, but the best chain has {expected} there")]
    NotBestChain {
        /// Position in the disconnect list.
        index: usize,
        /// The block on the best chain at that point.
        expected: Hash256,
        /// The block given.
        got: Hash256,
    },
    /// The genesis block cannot be disconnected.
    #[error("the genesis block cannot be disconnected")]
    DisconnectGenesis,
    /// A block to connect does not extend the chain built so far.
    #[error("connect #{index} ({block}) does not extend {expected_parent}")]
    NotLinked {
        /// Position in the connect list.
        index: usize,
        /// The block given.
        block: Hash256,
        /// The block it should have as parent.
        expected_parent: Hash256,
    },
    /// The declared new tip is not the tip the update produces.
    #[error(
        "declared tip {declared} (height {declared_height}) differs from the resulting tip {actual} (height {actual_height})"
    )]
    TipMismatch {
        /// Declared tip id.
        declared: Hash256,
        /// Declared height.
        declared_height: u64,
        /// Resulting tip id.
        actual: Hash256,
        /// Resulting height.
        actual_height: u64,
    },
    /// The declared new tip's cumulative work differs from the stored header's.
    #[error("declared tip {tip} has cumulative work other than the stored header's")]
    TipWorkMismatch {
        /// The tip.
        tip: Hash256,
    },
    /// Connecting would put an item id in the best chain twice.
    #[error("item {item} of block {block} is already in the best chain (block {existing})")]
    DuplicateItem {
        /// The item id.
        item: Hash256,
        /// The block being connected.
        block: Hash256,
        /// The best-chain block that already holds it.
        existing: Hash256,
    },
    /// Connecting would use an (author, nonce) pair twice in the best chain.
    #[error("item {item} of block {block} reuses nonce {nonce} of its author (item {existing})")]
    DuplicateNonce {
        /// The item id.
        item: Hash256,
        /// The block being connected.
        block: Hash256,
        /// The nonce.
        nonce: u64,
        /// The item that already used it.
        existing: Hash256,
    },
}

impl UpdateError {
    /// Stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "update_too_large",
            Self::BadHeight { .. } => "bad_height",
            Self::WorkNotIncreasing { .. } => "work_not_increasing",
            Self::NotBestChain { .. } => "not_best_chain",
            Self::DisconnectGenesis => "disconnect_genesis",
            Self::NotLinked { .. } => "not_linked",
            Self::TipMismatch { .. } => "tip_mismatch",
            Self::TipWorkMismatch { .. } => "tip_work_mismatch",
            Self::DuplicateItem { .. } => "duplicate_item",
            Self::DuplicateNonce { .. } => "duplicate_nonce",
        }
    }
}
