//! Domain types of the sync protocol (`proto/schemas/sync.proto`).
//!
//! One request, one response per stream. These are the types the rest of the node handles;
//! the prost wire types stay inside [`crate::codec`].

use talos_chain::chain_state::StateAnswer;
use talos_chain::{Block, BlockHeader, ChainStatus, Hash256, ItemProof};

/// A sync request: exactly one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncRequest {
    /// Our status; the peer answers with its own.
    Status(ChainStatus),
    /// Headers of the peer's best chain from `start_height`, at most `count` of them
    /// (`1..=`[`crate::limits::MAX_HEADERS_PER_RESPONSE`]).
    HeadersByRange {
        /// First height asked for.
        start_height: u64,
        /// Most headers wanted.
        count: u32,
    },
    /// Blocks of the peer's best chain from `start_height`, at most `count` of them
    /// (`1..=`[`crate::limits::MAX_BLOCKS_PER_RESPONSE`]).
    BlocksByRange {
        /// First height asked for.
        start_height: u64,
        /// Most blocks wanted.
        count: u32,
    },
    /// Blocks by id, on any chain the peer stores
    /// (`1..=`[`crate::limits::MAX_HASHES_PER_REQUEST`] ids).
    BlocksByHash(Vec<Hash256>),
    /// An SPV proof for this item id.
    Proof(Hash256),
    /// A proof of state key `key` under the state root of block `block` (any chain the peer
    /// stores), with the record of a present key.
    StateProof {
        /// The block whose header's `state_root` the proof is against.
        block: Hash256,
        /// The state tree key ([`talos_chain::chain_state::revocation_key`],
        /// [`talos_chain::chain_state::did_key`]).
        key: Hash256,
    },
}

impl SyncRequest {
    /// Stable name of the request kind (logs, metrics labels).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Status(_) => "status",
            Self::HeadersByRange { .. } => "headers_by_range",
            Self::BlocksByRange { .. } => "blocks_by_range",
            Self::BlocksByHash(_) => "blocks_by_hash",
            Self::Proof(_) => "proof",
            Self::StateProof { .. } => "state_proof",
        }
    }
}

/// A sync response: exactly one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncResponse {
    /// The responder's status.
    Status(ChainStatus),
    /// Headers in height order (possibly fewer than asked for, possibly none).
    Headers(Vec<BlockHeader>),
    /// Blocks in the order asked for (possibly fewer than asked for, possibly none).
    Blocks(Vec<Block>),
    /// The proof asked for; `None` when the responder does not know the item. Boxed: a proof
    /// is several times larger than every other variant.
    Proof(Option<Box<ItemProof>>),
    /// The state proof asked for; `None` when the responder does not know the block. Boxed as
    /// a proof is. The requester checks it with [`StateAnswer::verify`] against the state root
    /// of the block's header it trusts.
    StateProof(Option<Box<StateAnswer>>),
    /// The request was refused.
    Error {
        /// Why, as a stable code.
        code: ErrorCode,
        /// Human-readable detail (at most [`crate::limits::MAX_ERROR_MESSAGE_BYTES`]).
        message: String,
    },
}

impl SyncResponse {
    /// Stable name of the response kind (logs, metrics labels).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Status(_) => "status",
            Self::Headers(_) => "headers",
            Self::Blocks(_) => "blocks",
            Self::Proof(_) => "proof",
            Self::StateProof(_) => "state_proof",
            Self::Error { .. } => "error",
        }
    }
}

/// Why a responder refused a request. On the wire this is a string, so new codes can be added
/// without a new protocol version; codes this version does not know decode as
/// [`ErrorCode::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed or asks for more than the caps allow (`bad_request`).
    BadRequest,
    /// The responder is overloaded; retry later (`busy`).
    Busy,
    /// The requester is on another network or genesis (`wrong_network`).
    WrongNetwork,
    /// The responder does not have what was asked for (`not_found`).
    NotFound,
    /// The requester sends too many requests (`rate_limited`).
    RateLimited,
    /// The responder failed internally (`internal`).
    Internal,
    /// A code this version does not know: non-empty, at most
    /// [`crate::limits::MAX_ERROR_CODE_BYTES`] bytes, and none of the codes above.
    Other(String),
}

impl ErrorCode {
    /// The code as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Busy => "busy",
            Self::WrongNetwork => "wrong_network",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::Internal => "internal",
            Self::Other(code) => code,
        }
    }

    /// Parses a wire code; unknown codes become [`ErrorCode::Other`].
    pub fn from_wire(code: &str) -> Self {
        match code {
            "bad_request" => Self::BadRequest,
            "busy" => Self::Busy,
            "wrong_network" => Self::WrongNetwork,
            "not_found" => Self::NotFound,
            "rate_limited" => Self::RateLimited,
            "internal" => Self::Internal,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
