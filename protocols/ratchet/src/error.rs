//! Typed errors, one enum per operation area, each with a stable `code()` for metrics.

use thiserror::Error;

/// Decoding a wire message failed: the bytes are not a well-formed Talos ratchet message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// Fewer bytes than the smallest valid encoding.
    #[error("message too short: {len} bytes, at least {min} required")]
    TooShort {
        /// Bytes received.
        len: usize,
        /// Smallest valid length.
        min: usize,
    },
    /// More bytes than the size cap.
    #[error("message too long: {len} bytes, at most {max} allowed")]
    TooLong {
        /// Bytes received.
        len: usize,
        /// Size cap.
        max: usize,
    },
    /// The version byte names a format this build does not speak.
    #[error("unknown wire version {0}")]
    UnknownVersion(u8),
    /// Reserved flag bits are set in an initial message.
    #[error("unknown initial-message flags {0:#04x}")]
    UnknownFlags(u8),
}

impl WireError {
    /// A stable identifier for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "wire_too_short",
            Self::TooLong { .. } => "wire_too_long",
            Self::UnknownVersion(_) => "wire_unknown_version",
            Self::UnknownFlags(_) => "wire_unknown_flags",
        }
    }
}

/// Encrypting a message failed; the session state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncryptError {
    /// The plaintext exceeds [`crate::MAX_PLAINTEXT_LEN`].
    #[error("plaintext too long: {len} bytes, at most {max} allowed")]
    PlaintextTooLong {
        /// Plaintext length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The sending chain has used every counter value (2^32 messages without a reply).
    #[error("sending chain exhausted: a reply is needed before sending more")]
    ChainExhausted,
    /// The session has no sending chain (only a state restored from foreign bytes can lack
    /// one: sessions from [`crate::Session::initiate`] and [`crate::Session::respond`] have it).
    #[error("session has no sending chain")]
    NoSendingChain,
}

impl EncryptError {
    /// A stable identifier for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PlaintextTooLong { .. } => "encrypt_plaintext_too_long",
            Self::ChainExhausted => "encrypt_chain_exhausted",
            Self::NoSendingChain => "encrypt_no_sending_chain",
        }
    }
}

/// Decrypting a message failed; the session state is exactly as before the call.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecryptError {
    /// The bytes are not a well-formed message.
    #[error("malformed message: {0}")]
    Wire(#[from] WireError),
    /// No header key of this session opens the header: not for this session, tampered, or
    /// from a chain whose keys are gone (an old replay).
    #[error("header does not decrypt under any header key of this session")]
    BadHeader,
    /// The header is authentic but its message key was already used or evicted (a replay).
    #[error("message {n} of its chain was already received or its key evicted")]
    DuplicateOrExpired {
        /// The message number from the header.
        n: u32,
    },
    /// Accepting the message would skip more message keys than [`crate::MAX_SKIP`].
    #[error("gap of {gap} messages exceeds the bound of {max}")]
    TooManySkipped {
        /// Keys that would be skipped.
        gap: u64,
        /// The bound.
        max: u32,
    },
    /// The header decrypted but the body did not authenticate (tampered ciphertext or AD).
    #[error("message body does not authenticate")]
    BadCiphertext,
    /// The peer's new ratchet key gives an all-zero DH output (a low-order point).
    #[error("peer ratchet key is not contributory")]
    InvalidRatchetKey,
    /// The receiving counter would overflow.
    #[error("receiving chain counter overflow")]
    CounterOverflow,
}

impl DecryptError {
    /// A stable identifier for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Wire(e) => e.code(),
            Self::BadHeader => "decrypt_bad_header",
            Self::DuplicateOrExpired { .. } => "decrypt_duplicate_or_expired",
            Self::TooManySkipped { .. } => "decrypt_too_many_skipped",
            Self::BadCiphertext => "decrypt_bad_ciphertext",
            Self::InvalidRatchetKey => "decrypt_invalid_ratchet_key",
            Self::CounterOverflow => "decrypt_counter_overflow",
        }
    }
}

/// Owner-side prekey management failed; the store is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrekeyError {
    /// The 32-bit id space of signed or one-time prekeys is used up.
    #[error("prekey ids exhausted")]
    IdsExhausted,
    /// Generating would exceed the cap on stored one-time prekeys.
    #[error("{requested} more one-time prekeys would exceed the cap of {max} (have {have})")]
    TooManyOneTimePrekeys {
        /// Requested count.
        requested: usize,
        /// Currently stored.
        have: usize,
        /// The cap.
        max: usize,
    },
    /// No stored one-time prekey has this id.
    #[error("no one-time prekey with id {0}")]
    UnknownOneTimePrekey(u32),
}

impl PrekeyError {
    /// A stable identifier for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::IdsExhausted => "prekey_ids_exhausted",
            Self::TooManyOneTimePrekeys { .. } => "prekey_too_many_one_time",
            Self::UnknownOneTimePrekey(_) => "prekey_unknown_one_time",
        }
    }
}

/// The X3DH handshake was aborted; nothing was consumed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum X3dhError {
    /// An Ed25519 identity key does not parse as a curve point.
    #[error("invalid Ed25519 identity key")]
    InvalidIdentityKey,
    /// The identity's X25519 DH key is not signed by its Ed25519 key.
    #[error("identity DH key signature does not verify")]
    BadIdentitySignature,
    /// The signed prekey's signature does not verify under the bundle's identity key.
    #[error("signed prekey signature does not verify")]
    BadPrekeySignature,
    /// A DH output is all zero (a low-order public key in the bundle or initial message).
    #[error("a key agreement input is not contributory")]
    NonContributory,
    /// The initial message names a signed prekey the responder does not hold (rotated out).
    #[error("unknown signed prekey id {0}")]
    UnknownSignedPrekey(u32),
    /// The initial message names a one-time prekey that is unknown or already consumed.
    #[error("unknown or consumed one-time prekey id {0}")]
    UnknownOneTimePrekey(u32),
    /// The first message could not be encrypted.
    #[error("initial message encryption: {0}")]
    Encrypt(#[from] EncryptError),
    /// The initial message's ciphertext did not decrypt: the handshake is rejected.
    #[error("initial message decryption: {0}")]
    Decrypt(#[from] DecryptError),
}

impl X3dhError {
    /// A stable identifier for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidIdentityKey => "x3dh_invalid_identity_key",
            Self::BadIdentitySignature => "x3dh_bad_identity_signature",
            Self::BadPrekeySignature => "x3dh_bad_prekey_signature",
            Self::NonContributory => "x3dh_non_contributory",
            Self::UnknownSignedPrekey(_) => "x3dh_unknown_signed_prekey",
            Self::UnknownOneTimePrekey(_) => "x3dh_unknown_one_time_prekey",
            Self::Encrypt(_) => "x3dh_encrypt",
            Self::Decrypt(_) => "x3dh_decrypt",
        }
    }
}
