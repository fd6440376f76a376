//! The DID record: a DID document, signed by the DID's key, with a sequence number and a
//! validity window, published in the Kademlia DHT under [`record_key`] of the DID.
//!
//! Wire format: protobuf (prost derive, no `.proto` file), field numbers fixed here:
//!
//! ```text
//! message DidRecord {
//!   uint32 version = 1;        // RECORD_VERSION
//!   bytes document = 2;        // the document's canonical JSON (DidDocument::to_json)
//!   uint64 sequence = 3;       // higher wins
//!   uint64 issued_at_ms = 4;   // Unix epoch milliseconds
//!   uint64 expires_at_ms = 5;
//!   bytes signature = 6;       // Ed25519, 64 bytes, over signed_message(...)
//! }
//! ```
//!
//! Only the canonical encoding (what prost writes for the decoded value) is accepted, so a
//! record has exactly one byte string.

use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use talos_chain::{Signature, SigningKey};

use crate::document::DidDocument;
use crate::error::RecordError;

/// Prefix of every DID record's Kademlia key.
pub const RECORD_KEY_PREFIX: &[u8] = b"/talos/did/";

/// Domain tag of the record signature.
pub const RECORD_DOMAIN: &[u8] = b"talos/did-record/v1";

/// The record format version written and accepted.
pub const RECORD_VERSION: u32 = 1;

/// Longest encoded record accepted, well under libp2p Kademlia's 16 KiB default packet limit.
pub const MAX_RECORD_BYTES: usize = 4096;

/// Longest validity window (`expires_at_ms - issued_at_ms`): 48 hours. Owners republish well
/// before it ends.
pub const MAX_RECORD_TTL_MS: u64 = 48 * 60 * 60 * 1000;

/// How far in the future `issued_at_ms` may be before a record is "not yet valid": 5 minutes
/// of clock skew between publisher and validator.
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// The Kademlia key of `did`'s record: [`RECORD_KEY_PREFIX`] ‖ SHA-256(`did` as UTF-8), 43
/// bytes.
///
/// The prefix keeps DID records apart from any other record type in the same DHT (and lets a
/// record store route puts to [`crate::validate_record`] by prefix); hashing gives every key the
/// same length whatever the DID method. The DID is hashed as given, so callers pass the
/// canonical `did:key` ([`crate::did_key`]); [`crate::validate_record`] checks the key against
/// the DID in the document.
pub fn record_key(did: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(RECORD_KEY_PREFIX.len() + 32);
    key.extend_from_slice(RECORD_KEY_PREFIX);
    key.extend_from_slice(&Sha256::digest(did.as_bytes()));
    key
}

/// The record on the wire.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RecordWire {
    #[prost(uint32, tag = "1")]
    pub(crate) version: u32,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) document: Vec<u8>,
    #[prost(uint64, tag = "3")]
    pub(crate) sequence: u64,
    #[prost(uint64, tag = "4")]
    pub(crate) issued_at_ms: u64,
    #[prost(uint64, tag = "5")]
    pub(crate) expires_at_ms: u64,
    #[prost(bytes = "vec", tag = "6")]
    pub(crate) signature: Vec<u8>,
}

/// What the DID key signs: [`RECORD_DOMAIN`] ‖ version (u32) ‖ document length (u32) ‖
/// document ‖ sequence (u64) ‖ issued_at_ms (u64) ‖ expires_at_ms (u64), integers big-endian.
pub fn record_signed_message(
    document: &[u8],
    sequence: u64,
    issued_at_ms: u64,
    expires_at_ms: u64,
) -> Vec<u8> {
    let mut message = Vec::with_capacity(RECORD_DOMAIN.len() + 32 + document.len());
    message.extend_from_slice(RECORD_DOMAIN);
    message.extend_from_slice(&RECORD_VERSION.to_be_bytes());
    // Documents are at most MAX_DOCUMENT_BYTES long wherever this is called.
    let len = u32::try_from(document.len()).unwrap_or(u32::MAX);
    message.extend_from_slice(&len.to_be_bytes());
    message.extend_from_slice(document);
    message.extend_from_slice(&sequence.to_be_bytes());
    message.extend_from_slice(&issued_at_ms.to_be_bytes());
    message.extend_from_slice(&expires_at_ms.to_be_bytes());
    message
}

/// A signed DID record whose document and signature are valid (its validity window is checked
/// against a clock by [`crate::validate_record`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidRecord {
    pub(crate) document: DidDocument,
    pub(crate) document_bytes: Vec<u8>,
    pub(crate) sequence: u64,
    pub(crate) issued_at_ms: u64,
    pub(crate) expires_at_ms: u64,
    pub(crate) signature: Signature,
}

impl DidRecord {
    /// Signs `document` with `identity` (its own key), valid from `now_ms` for `ttl_ms` (at
    /// most [`MAX_RECORD_TTL_MS`]).
    ///
    /// `sequence` must grow with every record the agent publishes: two different records with
    /// one sequence are equivocation, and a lower one never replaces a higher. Using the
    /// publishing time in milliseconds (`now_ms`) keeps it growing across restarts without
    /// stored state.
    pub fn sign(
        document: &DidDocument,
        sequence: u64,
        now_ms: u64,
        ttl_ms: u64,
        identity: &SigningKey,
    ) -> Result<Self, RecordError> {
        if identity.verifying_key() != *document.identity_key() {
            return Err(RecordError::WrongSigner);
        }
        if ttl_ms == 0 {
            return Err(RecordError::ExpiresBeforeIssued);
        }
        let too_long = RecordError::TtlTooLong {
            ttl_ms,
            max_ms: MAX_RECORD_TTL_MS,
        };
        if ttl_ms > MAX_RECORD_TTL_MS {
            return Err(too_long);
        }
        let expires_at_ms = now_ms.checked_add(ttl_ms).ok_or(too_long)?;
        let document_bytes = document.to_json();
        let message = record_signed_message(&document_bytes, sequence, now_ms, expires_at_ms);
        let record = Self {
            document: document.clone(),
            signature: identity.sign(&message),
            document_bytes,
            sequence,
            issued_at_ms: now_ms,
            expires_at_ms,
        };
        let len = record.encode().len();
        if len > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge {
                len,
                max: MAX_RECORD_BYTES,
            });
        }
        Ok(record)
    }

    /// The record's canonical protobuf bytes (what goes into the DHT).
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&RecordWire {
            version: RECORD_VERSION,
            document: self.document_bytes.clone(),
            sequence: self.sequence,
            issued_at_ms: self.issued_at_ms,
            expires_at_ms: self.expires_at_ms,
            signature: self.signature.to_bytes().to_vec(),
        })
    }

    /// The Kademlia key it is published under: [`record_key`] of its DID.
    pub fn key(&self) -> Vec<u8> {
        record_key(self.did())
    }

    /// The document.
    pub fn document(&self) -> &DidDocument {
        &self.document
    }

    /// The document's canonical JSON, as signed.
    pub fn document_bytes(&self) -> &[u8] {
        &self.document_bytes
    }

    /// The DID it is the record of.
    pub fn did(&self) -> &str {
        self.document.did()
    }

    /// Its sequence number (higher wins).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// When it was issued, Unix epoch milliseconds.
    pub fn issued_at_ms(&self) -> u64 {
        self.issued_at_ms
    }

    /// When it expires, Unix epoch milliseconds (a DHT store drops it then).
    pub fn expires_at_ms(&self) -> u64 {
        self.expires_at_ms
    }

    /// The DID key's signature over [`record_signed_message`].
    pub fn signature(&self) -> &Signature {
        &self.signature
    }
}
