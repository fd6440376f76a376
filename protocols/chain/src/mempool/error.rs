//! Why the mempool refuses an item.

/// Why an item was not admitted to the mempool. [`MempoolError::code`] gives a stable label
/// for metrics and API errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// An item with the same id is already in the pool.
    #[error("item is already in the mempool")]
    Duplicate,
    /// Another pool item already uses this (author, nonce).
    #[error("another mempool item already uses this author and nonce")]
    NonceReused,
    /// The item id or its (author, nonce) is already in the best chain.
    #[error("item or its author nonce is already in the chain")]
    AlreadyInChain,
    /// The canonical encoding is larger than the network's item limit.
    #[error("item is {size} bytes, the limit is {max}")]
    TooLarge {
        /// Canonical signed size of the item.
        size: usize,
        /// The network's `max_item_bytes`.
        max: usize,
    },
    /// The author key has small order (it would "sign" almost anything).
    #[error("item has a weak (small-order) author key")]
    WeakAuthorKey,
    /// The signature does not verify (ZIP 215) for this network.
    #[error("item signature does not verify")]
    BadSignature,
    /// The author already has the most items one author may keep in the pool.
    #[error("author already has {max} items in the mempool")]
    AuthorCap {
        /// The per-author limit.
        max: usize,
    },
    /// The pool is full and the eviction policy keeps the items it has.
    #[error("mempool is full")]
    Full,
}

impl MempoolError {
    /// Stable snake_case code: `duplicate`, `nonce_reused`, `already_in_chain`, `too_large`,
    /// `weak_author_key`, `bad_signature`, `author_cap` or `full`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Duplicate => "duplicate",
            Self::NonceReused => "nonce_reused",
            Self::AlreadyInChain => "already_in_chain",
            Self::TooLarge { .. } => "too_large",
            Self::WeakAuthorKey => "weak_author_key",
            Self::BadSignature => "bad_signature",
            Self::AuthorCap { .. } => "author_cap",
            Self::Full => "full",
        }
    }

    /// Whether the item itself is invalid (a peer relaying it misbehaves), as opposed to
    /// merely redundant or refused for lack of room.
    pub fn is_invalid_item(&self) -> bool {
        matches!(
            self,
            Self::TooLarge { .. } | Self::WeakAuthorKey | Self::BadSignature
        )
    }
}

/// Why [`crate::Mempool::insert`] did not admit an item: the pool refused it, or the chain
/// lookup it needed failed (then nothing is known about the item and nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmitError<E> {
    /// The pool refused the item.
    #[error(transparent)]
    Refused(#[from] MempoolError),
    /// The chain could not be read.
    #[error("chain lookup failed: {0}")]
    Lookup(E),
}

impl AdmitError<std::convert::Infallible> {
    /// The refusal, for lookups that cannot fail.
    pub fn into_refusal(self) -> MempoolError {
        match self {
            Self::Refused(e) => e,
            Self::Lookup(never) => match never {},
        }
    }
}
