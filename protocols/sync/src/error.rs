//! Why bytes are not a valid sync message.

use talos_chain::chain_state::RecordDecodeError;
use talos_chain::wire::DecodeError;

/// Why bytes from a peer are not a valid sync request or response.
///
/// Generic encoding failures (a message over its byte cap, too many repeated elements, broken
/// framing, a prost failure, a missing field, a wrong-length hash, and everything the chain's
/// own conversions reject) are carried as [`SyncDecodeError::Wire`] with the chain crate's
/// [`DecodeError`]; the other variants are specific to the sync protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncDecodeError {
    /// A generic encoding failure, or a chain type inside the message is invalid.
    #[error(transparent)]
    Wire(#[from] DecodeError),
    /// A message whose `oneof kind` must be set has none (or one this version does not know).
    #[error("{0} has no kind")]
    MissingKind(&'static str),
    /// A count that must be at least one is zero.
    #[error("{0} is zero")]
    ZeroCount(&'static str),
    /// A requested count is above the protocol's cap.
    #[error("{what} is {count}, over the cap of {max}")]
    CountOverCap {
        /// Which count.
        what: &'static str,
        /// The count asked for.
        count: u64,
        /// The cap.
        max: u64,
    },
    /// `start_height + count` does not fit in a `u64`.
    #[error("range from height {start_height} with {count} elements overflows")]
    RangeOverflow {
        /// First height asked for.
        start_height: u64,
        /// Number of elements asked for.
        count: u32,
    },
    /// A state proof's record is not a [`talos_chain::chain_state::StateRecord`] encoding.
    #[error("state record: {0}")]
    BadStateRecord(#[from] RecordDecodeError),
}

impl SyncDecodeError {
    /// Stable error code (metrics label, API error code). Wrapped chain errors keep the chain
    /// crate's code, which names the same failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Wire(e) => e.code(),
            Self::MissingKind(_) => "missing_kind",
            Self::ZeroCount(_) => "zero_count",
            Self::CountOverCap { .. } => "count_over_cap",
            Self::RangeOverflow { .. } => "range_overflow",
            Self::BadStateRecord(_) => "bad_state_record",
        }
    }
}

impl From<prost::DecodeError> for SyncDecodeError {
    fn from(e: prost::DecodeError) -> Self {
        Self::Wire(DecodeError::Protobuf(e))
    }
}
