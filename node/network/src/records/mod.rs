//! Which Kademlia records a node stores for others.
//!
//! Kademlia runs with record filtering on ([`libp2p::kad::StoreInserts::FilterBoth`]): a
//! `PUT_VALUE` from a peer is stored only if [`judge`] accepts it and [`admit`] says it beats
//! what is stored under its key. The one kind Talos defines is an agent's DID record
//! (`talos_identity::DidRecord`, key `"/talos/did/" ‖ SHA-256(did)`): signed by the DID's key,
//! at most 4 KiB, expiring within 48 h, the higher sequence winning; the record keeps its own
//! expiry in the store. A record of no known kind, or one that is malformed or forged, costs
//! its sender ([`crate::policy::Offence::UnwantedRecord`]); one that is merely old (expired,
//! stale, or an equivocation of its owner, which an honest peer may relay) is refused for free.
//! Provider records carry no sender and are dropped unstored.

use std::time::{Duration, Instant};

use libp2p::kad::{Record, RecordKey};
use talos_identity::{Choice, RecordError as DidError, ValidRecord, choose, validate_record};

/// Why a record is not stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Its key names no record kind this node knows.
    #[error("no record kind is defined for key of {len} bytes")]
    UnknownKind {
        /// The key's length.
        len: usize,
    },
    /// A DID record that does not validate, or loses against the stored one.
    #[error("DID record: {0}")]
    Did(#[from] DidError),
}

impl RecordError {
    /// Whether the peer that put it is to blame: bytes no honest node produces (malformed,
    /// oversized, forged, the wrong key). An expired, premature, stale or equivocating record
    /// is signed by its owner and may be relayed in good faith.
    pub fn is_peer_fault(&self) -> bool {
        match self {
            Self::UnknownKind { .. } => true,
            Self::Did(e) => !matches!(
                e,
                DidError::Expired { .. }
                    | DidError::NotYetValid { .. }
                    | DidError::Stale { .. }
                    | DidError::Equivocation { .. }
            ),
        }
    }

    /// Stable code (logs, metrics).
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownKind { .. } => "unknown_record_kind",
            Self::Did(e) => e.code(),
        }
    }
}

/// The kinds of record Talos stores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// An agent's DID record.
    Did(Box<ValidRecord>),
}

/// Whether `record` may be stored, and as what (at `now_ms`, ms since the Unix epoch).
pub fn judge(record: &Record, now_ms: u64) -> Result<RecordKind, RecordError> {
    let key = record.key.as_ref();
    if key.starts_with(talos_identity::RECORD_KEY_PREFIX) {
        let valid = validate_record(key, &record.value, now_ms)?;
        return Ok(RecordKind::Did(Box::new(valid)));
    }
    Err(RecordError::UnknownKind { len: key.len() })
}

/// What to do with a judged record given the one stored under its key (if any, and valid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Store it (replacing what is there), expiring as the record says.
    Store(Record),
    /// It is what is stored already.
    Unchanged,
}

/// Decides between `incoming` and the record stored under its key. A stored record that no
/// longer validates (expired) loses to any valid one.
pub fn admit(
    stored: Option<&Record>,
    incoming: &ValidRecord,
    now_ms: u64,
    now: Instant,
) -> Result<Admission, RecordError> {
    let key = incoming.record().key();
    let existing = stored.and_then(|r| validate_record(&key, &r.value, now_ms).ok());
    if let Some(existing) = existing
        && choose(existing.record(), incoming.record())? == Choice::Unchanged
    {
        return Ok(Admission::Unchanged);
    }
    let left = incoming.record().expires_at_ms().saturating_sub(now_ms);
    let mut record = Record::new(RecordKey::new(&key), incoming.bytes().to_vec());
    record.expires = Some(now + Duration::from_millis(left));
    Ok(Admission::Store(record))
}

pub mod quota;

#[cfg(test)]
mod tests;
