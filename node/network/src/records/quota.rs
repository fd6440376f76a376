//! How many DHT records one peer may have put here: a record key counts against the peer
//! that first stored it until the record expires. Identities are free, so without this one
//! peer could fill the whole record store (8,192 records) with valid records of DIDs it made
//! up; with it, filling the store takes [`crate::records::quota::SourceQuota::new`]'s share
//! of the connection slots, each behind the gate's per-address limits.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use libp2p::PeerId;
use libp2p::kad::RecordKey;

/// Records stored here that one peer put and that have not expired.
pub const MAX_RECORDS_PER_SOURCE: usize = 256;

/// Which peer put which stored record, until its expiry.
#[derive(Debug, Default)]
pub struct SourceQuota {
    /// Per peer: key → expiry.
    by_source: HashMap<PeerId, BTreeMap<Vec<u8>, Instant>>,
}

impl SourceQuota {
    /// Whether `source` may store a record under `key` now (a key it already holds always
    /// may: that is an update).
    pub fn allows(&mut self, source: &PeerId, key: &RecordKey, now: Instant) -> bool {
        let Some(held) = self.by_source.get_mut(source) else {
            return true;
        };
        held.retain(|_, expiry| *expiry > now);
        let allowed = held.contains_key(key.as_ref()) || held.len() < MAX_RECORDS_PER_SOURCE;
        if held.is_empty() {
            self.by_source.remove(source);
        }
        allowed
    }

    /// Records that `source` stored `key`, until `expiry`.
    pub fn stored(&mut self, source: PeerId, key: &RecordKey, expiry: Instant) {
        self.by_source
            .entry(source)
            .or_default()
            .insert(key.as_ref().to_vec(), expiry);
    }

    /// Peers holding records now (for tests and metrics).
    pub fn sources(&self) -> usize {
        self.by_source.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_peer_holds_at_most_its_share_until_its_records_expire() {
        let mut quota = SourceQuota::default();
        let (greedy, other) = (PeerId::random(), PeerId::random());
        let now = Instant::now();
        let soon = now + Duration::from_secs(10);
        for i in 0..MAX_RECORDS_PER_SOURCE {
            let key = RecordKey::new(&i.to_be_bytes());
            assert!(quota.allows(&greedy, &key, now));
            quota.stored(greedy, &key, soon);
        }
        let more = RecordKey::new(b"one more");
        assert!(!quota.allows(&greedy, &more, now));
        // An update of a record it holds is not a new one; another peer is not charged.
        assert!(quota.allows(&greedy, &RecordKey::new(&0usize.to_be_bytes()), now));
        assert!(quota.allows(&other, &more, now));
        // Once its records expire, its share is free again.
        assert!(quota.allows(&greedy, &more, soon + Duration::from_secs(1)));
        assert_eq!(quota.sources(), 0);
    }
}
