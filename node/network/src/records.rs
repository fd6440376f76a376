//! Which Kademlia records a node stores for others.
//!
//! Kademlia runs with record filtering on ([`libp2p::kad::StoreInserts::FilterBoth`]): a
//! `PUT_VALUE` or `ADD_PROVIDER` from a peer is stored only if [`judge`] accepts it. Talos
//! defines no DHT record kind yet — the agent directory's DID records will be the first, keyed
//! `/talos/<network>/<kind>/…` and validated by the crate that defines them — so every record
//! is refused, and a peer putting one is penalized ([`crate::policy::Offence::UnwantedRecord`]).
//! Provider records carry no sender and are dropped unstored.

use libp2p::kad::Record;

/// Why a record is not stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Its key names no record kind this node knows.
    #[error("no record kind is defined for key of {len} bytes")]
    UnknownKind {
        /// The key's length.
        len: usize,
    },
}

/// The kinds of record Talos stores (none yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {}

/// Whether `record` may be stored, and as what.
pub fn judge(record: &Record) -> Result<RecordKind, RecordError> {
    Err(RecordError::UnknownKind {
        len: record.key.as_ref().len(),
    })
}

#[cfg(test)]
mod tests {
    use libp2p::kad::RecordKey;

    use super::*;

    #[test]
    fn no_record_kind_is_stored_yet() {
        let record = Record::new(RecordKey::new(&"/talos/local/did/x"), b"v".to_vec());
        assert_eq!(judge(&record), Err(RecordError::UnknownKind { len: 18 }));
    }
}
