//! Typed errors of the messaging crate.

/// Why an envelope is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// A version this build does not read.
    #[error("envelope version {0} is not supported")]
    UnsupportedVersion(u32),
    /// The sender or recipient is not an Ed25519 `did:key`.
    #[error("the {side} is not an Ed25519 did:key: {error}")]
    BadDid {
        /// `"sender"` or `"recipient"`.
        side: &'static str,
        /// Why.
        error: talos_identity::DidError,
    },
    /// The message id is not 16 bytes.
    #[error("the message id is {0} bytes, not 16")]
    BadMessageId(usize),
    /// A field is shorter than anything the ratchet produces (or an empty handshake).
    #[error("{field} of {len} bytes is shorter than {min}")]
    FieldTooSmall {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The least it may be.
        min: usize,
    },
    /// A field is over its cap.
    #[error("{field} of {len} bytes is over the cap of {max}")]
    FieldTooLarge {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The signature is not 64 bytes, or does not verify under the sender's key.
    #[error("the envelope signature does not verify under the sender's key")]
    BadSignature,
    /// The envelope is addressed by an agent to itself.
    #[error("the sender and the recipient are the same agent")]
    SelfAddressed,
}

impl EnvelopeError {
    /// Stable snake_case code (metrics labels, API errors).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::BadDid { .. } => "bad_did",
            Self::BadMessageId(_) => "bad_message_id",
            Self::FieldTooSmall { .. } => "field_too_small",
            Self::FieldTooLarge { .. } => "field_too_large",
            Self::BadSignature => "bad_signature",
            Self::SelfAddressed => "self_addressed",
        }
    }
}

/// Why bytes from the network are not a messaging message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// More bytes than the message may have; nothing was decoded.
    #[error("{what} of {len} bytes is over the cap of {max}")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Not valid protobuf for the message.
    #[error("{what} is not valid protobuf: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// prost's reason.
        reason: String,
    },
    /// A `oneof` with nothing set.
    #[error("{0} carries no variant")]
    Empty(&'static str),
    /// Valid protobuf, but an envelope inside is refused.
    #[error("envelope: {0}")]
    Envelope(#[from] EnvelopeError),
    /// A list over its cap (page envelopes, acknowledged ids).
    #[error("{what} lists {len} entries, at most {max}")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// A status code this build does not know.
    #[error("unknown {what} status {code}")]
    UnknownStatus {
        /// Which status.
        what: &'static str,
        /// The code.
        code: u32,
    },
}

impl DecodeError {
    /// Stable snake_case code (metrics labels, penalties).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Malformed { .. } => "malformed",
            Self::Empty(_) => "empty",
            Self::Envelope(e) => e.code(),
            Self::TooMany { .. } => "too_many",
            Self::UnknownStatus { .. } => "unknown_status",
        }
    }
}
