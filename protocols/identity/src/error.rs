//! Why a DID document, a DID record or a prekey bundle is rejected. Every variant has a stable
//! snake_case `code()` (API errors, logs, metrics labels), unique across the three enums.

use crate::DidError;
use crate::multikey::KeyError;

/// Why a DID document is rejected (parsing, or building one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Its JSON is longer than [`crate::MAX_DOCUMENT_BYTES`].
    #[error("document of {len} bytes, at most {max} are accepted")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON of the document's shape (missing, unknown or mistyped fields).
    #[error("document JSON: {0}")]
    Json(String),
    /// Its `id` is not the `did:key` of an Ed25519 key.
    #[error("document id: {0}")]
    Did(DidError),
    /// The Ed25519 verification method's `publicKeyMultibase` is not an Ed25519 Multikey.
    #[error("verification key: {0}")]
    VerificationKey(KeyError),
    /// The verification key is not the key the DID names.
    #[error("the verification key is not the DID's key")]
    KeyMismatch,
    /// The key agreement method's `publicKeyMultibase` is not an X25519 Multikey.
    #[error("key agreement key: {0}")]
    KeyAgreement(KeyError),
    /// The signed prekey's `publicKeyMultibase` is not an X25519 Multikey.
    #[error("signed prekey: {0}")]
    SignedPrekeyKey(KeyError),
    /// A signature is not multibase base58btc of 64 bytes.
    #[error("{field}: {error}")]
    SignatureEncoding {
        /// The JSON field.
        field: &'static str,
        /// What is wrong with it.
        error: KeyError,
    },
    /// The identity-DH key's signature is not the identity key's.
    #[error("the key agreement key's signature does not verify")]
    IdentityDhSignature,
    /// The signed prekey's signature is not the identity key's.
    #[error("the signed prekey's signature does not verify")]
    SignedPrekeySignature,
    /// More than [`crate::MAX_MULTIADDRS`] addresses.
    #[error("{count} multiaddrs, at most {max} are accepted")]
    TooManyMultiaddrs {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An address longer than [`crate::MAX_MULTIADDR_LEN`] characters.
    #[error("multiaddr {index} has {len} characters")]
    MultiaddrTooLong {
        /// Its position in `serviceEndpoint`.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// An address that is not a multiaddr.
    #[error("serviceEndpoint {index} is not a multiaddr")]
    BadMultiaddr {
        /// Its position in `serviceEndpoint`.
        index: usize,
    },
    /// An address listed twice.
    #[error("multiaddr {index} is listed twice")]
    DuplicateMultiaddr {
        /// Position of the second occurrence.
        index: usize,
    },
    /// An address with a `/p2p/` part naming another peer than the DID's.
    #[error("multiaddr {index} names another peer")]
    ForeignPeer {
        /// Its position in `serviceEndpoint`.
        index: usize,
    },
    /// A field is not what the document's keys and addresses imply (wrong ids, controllers,
    /// types, contexts, references or services, or a non-canonical spelling).
    #[error("document field {field} is not the expected one")]
    Shape {
        /// The JSON field.
        field: &'static str,
    },
}

impl DocumentError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "document_too_large",
            Self::Json(_) => "document_json",
            Self::Did(_) => "document_bad_did",
            Self::VerificationKey(_) => "document_bad_verification_key",
            Self::KeyMismatch => "document_key_mismatch",
            Self::KeyAgreement(_) => "document_bad_key_agreement_key",
            Self::SignedPrekeyKey(_) => "document_bad_signed_prekey_key",
            Self::SignatureEncoding { .. } => "document_bad_signature_encoding",
            Self::IdentityDhSignature => "document_identity_dh_signature",
            Self::SignedPrekeySignature => "document_signed_prekey_signature",
            Self::TooManyMultiaddrs { .. } => "document_too_many_multiaddrs",
            Self::MultiaddrTooLong { .. } => "document_multiaddr_too_long",
            Self::BadMultiaddr { .. } => "document_bad_multiaddr",
            Self::DuplicateMultiaddr { .. } => "document_duplicate_multiaddr",
            Self::ForeignPeer { .. } => "document_foreign_peer",
            Self::Shape { .. } => "document_shape",
        }
    }
}

/// Why a DID record is rejected (decoding, validating, signing, or choosing between two).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Encoded record longer than [`crate::MAX_RECORD_BYTES`].
    #[error("record of {len} bytes, at most {max} are accepted")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not protobuf of the record's shape.
    #[error("malformed record: {0}")]
    Malformed(String),
    /// Decodes, but is not the canonical encoding of what it decodes to (unknown or repeated
    /// fields, fields out of order, default values spelled out).
    #[error("record is not canonically encoded")]
    NotCanonical,
    /// A record format version this code does not know.
    #[error("record version {version}, only {} is known", crate::RECORD_VERSION)]
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// The signature is not 64 bytes.
    #[error("signature of {len} bytes")]
    BadSignatureLength {
        /// Its length.
        len: usize,
    },
    /// The document is invalid.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// The document bytes are not the document's canonical JSON.
    #[error("the document is not in canonical form")]
    DocumentNotCanonical,
    /// The record is stored under another key than [`crate::record_key`] of its DID.
    #[error("record stored under another key than its DID's")]
    WrongKey,
    /// The signature is not the DID key's over the record.
    #[error("the record signature does not verify")]
    BadSignature,
    /// Signing with another key than the document's.
    #[error("the signing key is not the document's key")]
    WrongSigner,
    /// `expires_at_ms` has passed.
    #[error("record expired at {expires_at_ms} ms, now is {now_ms} ms")]
    Expired {
        /// Its expiry.
        expires_at_ms: u64,
        /// The time it was checked at.
        now_ms: u64,
    },
    /// Issued further in the future than [`crate::MAX_CLOCK_SKEW_MS`].
    #[error("record issued at {issued_at_ms} ms, now is {now_ms} ms")]
    NotYetValid {
        /// Its issue time.
        issued_at_ms: u64,
        /// The time it was checked at.
        now_ms: u64,
    },
    /// `expires_at_ms` is not after `issued_at_ms`.
    #[error("record expires before it is issued")]
    ExpiresBeforeIssued,
    /// Valid for longer than [`crate::MAX_RECORD_TTL_MS`].
    #[error("record valid for {ttl_ms} ms, at most {max_ms} are accepted")]
    TtlTooLong {
        /// Its lifetime.
        ttl_ms: u64,
        /// The limit.
        max_ms: u64,
    },
    /// A lower sequence number than the record it would replace.
    #[error("record sequence {incoming} is older than {existing}")]
    Stale {
        /// The existing record's sequence.
        existing: u64,
        /// The incoming record's sequence.
        incoming: u64,
    },
    /// Two different records with the same sequence number: the key's owner equivocates.
    #[error("two different records with sequence {sequence}")]
    Equivocation {
        /// The sequence both carry.
        sequence: u64,
    },
    /// The two records compared are for different DIDs.
    #[error("the records are for different DIDs")]
    DidMismatch,
}

impl RecordError {
    /// Stable snake_case code; a document error keeps its own code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "record_too_large",
            Self::Malformed(_) => "record_malformed",
            Self::NotCanonical => "record_not_canonical",
            Self::UnsupportedVersion { .. } => "record_unsupported_version",
            Self::BadSignatureLength { .. } => "record_bad_signature_length",
            Self::Document(error) => error.code(),
            Self::DocumentNotCanonical => "record_document_not_canonical",
            Self::WrongKey => "record_wrong_key",
            Self::BadSignature => "record_bad_signature",
            Self::WrongSigner => "record_wrong_signer",
            Self::Expired { .. } => "record_expired",
            Self::NotYetValid { .. } => "record_not_yet_valid",
            Self::ExpiresBeforeIssued => "record_expires_before_issued",
            Self::TtlTooLong { .. } => "record_ttl_too_long",
            Self::Stale { .. } => "record_stale",
            Self::Equivocation { .. } => "record_equivocation",
            Self::DidMismatch => "record_did_mismatch",
        }
    }
}

/// Why a prekey bundle is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Encoded bundle longer than [`crate::MAX_BUNDLE_BYTES`].
    #[error("bundle of {len} bytes, at most {max} are accepted")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not protobuf of the bundle's shape.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// Decodes, but is not the canonical encoding of what it decodes to.
    #[error("bundle is not canonically encoded")]
    NotCanonical,
    /// A bundle format version this code does not know.
    #[error("bundle version {version}, only {} is known", crate::BUNDLE_VERSION)]
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// A key or signature field has the wrong length.
    #[error("{field} has {len} bytes, expected {expected}")]
    BadLength {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The length it must have.
        expected: usize,
    },
    /// The identity key is not a valid Ed25519 point.
    #[error("the identity key is not a valid Ed25519 public key")]
    BadIdentityKey,
    /// The identity-DH key's signature is not the identity key's.
    #[error("the identity-DH key's signature does not verify")]
    IdentityDhSignature,
    /// The signed prekey's signature is not the identity key's.
    #[error("the signed prekey's signature does not verify")]
    SignedPrekeySignature,
    /// The bundle is another identity's than the one asked for.
    #[error("the bundle is for another identity")]
    WrongIdentity,
}

impl BundleError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "bundle_too_large",
            Self::Malformed(_) => "bundle_malformed",
            Self::NotCanonical => "bundle_not_canonical",
            Self::UnsupportedVersion { .. } => "bundle_unsupported_version",
            Self::BadLength { .. } => "bundle_bad_length",
            Self::BadIdentityKey => "bundle_bad_identity_key",
            Self::IdentityDhSignature => "bundle_identity_dh_signature",
            Self::SignedPrekeySignature => "bundle_signed_prekey_signature",
            Self::WrongIdentity => "bundle_wrong_identity",
        }
    }
}
