//! Validating DID records from the DHT, and choosing between two records of one DID.
//!
//! Checks run cheapest first, so junk costs no signature verification and a forged record at
//! most one: size, protobuf shape, canonical encoding, version, validity window, then the
//! document's `id` alone (a shallow JSON read) for the Kademlia key and the DID's key, the
//! record signature (the one signature nobody can copy from a genuine document), and last the
//! whole document with its two signatures.

use talos_chain::{Signature, VerifyingKey};

use crate::document::DidDocument;
use crate::error::{DocumentError, RecordError};
use crate::record::{
    DidRecord, MAX_CLOCK_SKEW_MS, MAX_RECORD_BYTES, MAX_RECORD_TTL_MS, RECORD_VERSION, RecordWire,
    record_key, record_signed_message,
};

/// A DID record that was valid under its key at the time it was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRecord {
    record: DidRecord,
    bytes: Vec<u8>,
}

impl ValidRecord {
    /// The record.
    pub fn record(&self) -> &DidRecord {
        &self.record
    }

    /// The record, by value.
    pub fn into_record(self) -> DidRecord {
        self.record
    }

    /// Its bytes as validated (its canonical encoding).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether it should replace `other`: same DID, higher sequence.
    pub fn supersedes(&self, other: &ValidRecord) -> bool {
        self.record.did() == other.record.did() && self.record.sequence > other.record.sequence
    }
}

/// Validates a record fetched from or put into the DHT under `key`, at time `now_ms` (Unix
/// epoch milliseconds): everything [`DidRecord::decode`] checks, plus that `key` is
/// [`record_key`] of the document's DID, that it is not expired, not issued more than
/// [`MAX_CLOCK_SKEW_MS`] in the future, and valid for at most [`MAX_RECORD_TTL_MS`].
///
/// Pure: no clock, no I/O.
pub fn validate_record(key: &[u8], bytes: &[u8], now_ms: u64) -> Result<ValidRecord, RecordError> {
    let wire = decode_wire(bytes)?;
    check_window(wire.issued_at_ms, wire.expires_at_ms)?;
    if wire.expires_at_ms <= now_ms {
        return Err(RecordError::Expired {
            expires_at_ms: wire.expires_at_ms,
            now_ms,
        });
    }
    if wire.issued_at_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(RecordError::NotYetValid {
            issued_at_ms: wire.issued_at_ms,
            now_ms,
        });
    }
    let did = document_id(&wire.document)?;
    if key != record_key(&did) {
        return Err(RecordError::WrongKey);
    }
    let identity = crate::parse_did_key(&did).map_err(DocumentError::Did)?;
    check_signature(&wire, &identity)?;
    // The document's `id` names `identity`, and `from_json` checks its keys are that DID's.
    let document = decode_document(&wire)?;
    let record = assemble(wire, document)?;
    Ok(ValidRecord {
        record,
        bytes: bytes.to_vec(),
    })
}

impl DidRecord {
    /// Decodes a record and checks all of it that needs neither a clock nor a key: size
    /// ([`MAX_RECORD_BYTES`]), canonical protobuf, version, the document (canonical JSON,
    /// [`DidDocument::from_json`]), the validity window's shape and the signature by the DID's
    /// key. DHT records go through [`validate_record`] instead.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let wire = decode_wire(bytes)?;
        check_window(wire.issued_at_ms, wire.expires_at_ms)?;
        let document = decode_document(&wire)?;
        verify(wire, document)
    }
}

/// What [`choose`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The incoming record replaces the existing one (higher sequence).
    Replace,
    /// They are the same record: nothing to do.
    Unchanged,
}

/// Whether `incoming` replaces `existing`, two records of one DID: a higher sequence wins; the
/// same record again changes nothing; a lower sequence is [`RecordError::Stale`]; a different
/// record with the same sequence is [`RecordError::Equivocation`]. An expired `existing` should
/// have been dropped by the store before comparing.
pub fn choose(existing: &DidRecord, incoming: &DidRecord) -> Result<Choice, RecordError> {
    if existing.did() != incoming.did() {
        return Err(RecordError::DidMismatch);
    }
    match incoming.sequence.cmp(&existing.sequence) {
        std::cmp::Ordering::Greater => Ok(Choice::Replace),
        std::cmp::Ordering::Less => Err(RecordError::Stale {
            existing: existing.sequence,
            incoming: incoming.sequence,
        }),
        // Both are canonical, so equal values are equal bytes.
        std::cmp::Ordering::Equal if existing == incoming => Ok(Choice::Unchanged),
        std::cmp::Ordering::Equal => Err(RecordError::Equivocation {
            sequence: incoming.sequence,
        }),
    }
}

/// The protobuf message of `bytes`, if it is bounded, canonical and of a known version.
pub(crate) fn decode_wire(bytes: &[u8]) -> Result<RecordWire, RecordError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge {
            len: bytes.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    let wire = <RecordWire as prost::Message>::decode(bytes)
        .map_err(|e| RecordError::Malformed(e.to_string()))?;
    if prost::Message::encode_to_vec(&wire) != bytes {
        return Err(RecordError::NotCanonical);
    }
    if wire.version != RECORD_VERSION {
        return Err(RecordError::UnsupportedVersion {
            version: wire.version,
        });
    }
    if wire.signature.len() != 64 {
        return Err(RecordError::BadSignatureLength {
            len: wire.signature.len(),
        });
    }
    Ok(wire)
}

fn check_window(issued_at_ms: u64, expires_at_ms: u64) -> Result<(), RecordError> {
    let Some(ttl_ms) = expires_at_ms.checked_sub(issued_at_ms).filter(|t| *t > 0) else {
        return Err(RecordError::ExpiresBeforeIssued);
    };
    if ttl_ms > MAX_RECORD_TTL_MS {
        return Err(RecordError::TtlTooLong {
            ttl_ms,
            max_ms: MAX_RECORD_TTL_MS,
        });
    }
    Ok(())
}

/// The `id` of a document's JSON, read without checking anything else of it.
fn document_id(json: &[u8]) -> Result<String, RecordError> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: String,
    }
    serde_json::from_slice::<IdOnly>(json)
        .map(|d| d.id)
        .map_err(|e| DocumentError::Json(e.to_string()).into())
}

fn decode_document(wire: &RecordWire) -> Result<DidDocument, RecordError> {
    let document = DidDocument::from_json(&wire.document)?;
    if document.to_json() != wire.document {
        return Err(RecordError::DocumentNotCanonical);
    }
    Ok(document)
}

/// Whether the record's signature is `identity`'s.
fn check_signature(wire: &RecordWire, identity: &VerifyingKey) -> Result<(), RecordError> {
    let signature = record_signature(wire)?;
    let message = record_signed_message(
        &wire.document,
        wire.sequence,
        wire.issued_at_ms,
        wire.expires_at_ms,
    );
    identity
        .verify_strict(&message, &signature)
        .map_err(|_| RecordError::BadSignature)
}

fn record_signature(wire: &RecordWire) -> Result<Signature, RecordError> {
    let signature: [u8; 64] =
        wire.signature
            .as_slice()
            .try_into()
            .map_err(|_| RecordError::BadSignatureLength {
                len: wire.signature.len(),
            })?;
    Ok(Signature::from_bytes(&signature))
}

/// The record, if its signature is the document key's.
fn verify(wire: RecordWire, document: DidDocument) -> Result<DidRecord, RecordError> {
    check_signature(&wire, document.identity_key())?;
    assemble(wire, document)
}

/// The record of a checked wire message and document.
fn assemble(wire: RecordWire, document: DidDocument) -> Result<DidRecord, RecordError> {
    let signature = record_signature(&wire)?;
    Ok(DidRecord {
        document,
        document_bytes: wire.document,
        sequence: wire.sequence,
        issued_at_ms: wire.issued_at_ms,
        expires_at_ms: wire.expires_at_ms,
        signature,
    })
}
