use std::time::{Duration, Instant};

use libp2p::kad::{Record, RecordKey};
use talos_identity::{DidDocument, DidRecord, SignedPrekey, SigningKey, X25519PublicKey};

use super::*;

const NOW: u64 = 1_700_000_000_000;
const HOUR: u64 = 3_600_000;

fn agent(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The DID record of agent `seed` with `sequence`, as a Kademlia record.
fn did_record(seed: u8, sequence: u64, issued_ms: u64) -> Record {
    let key = agent(seed);
    let dh = X25519PublicKey::from_bytes([seed; 32]);
    let spk = SignedPrekey::sign(&key, &dh, 1, [seed ^ 0xff; 32].into(), issued_ms);
    let document = DidDocument::for_agent(&key, dh, spk, Vec::new()).expect("a document");
    let record = DidRecord::sign(&document, sequence, issued_ms, HOUR, &key).expect("signed");
    Record::new(RecordKey::new(&record.key()), record.encode())
}

fn valid(record: &Record) -> ValidRecord {
    match judge(record, NOW).expect("valid") {
        RecordKind::Did(v) => *v,
    }
}

#[test]
fn a_valid_did_record_is_stored_with_its_own_expiry() {
    let record = did_record(1, 5, NOW);
    let now = Instant::now();
    let Admission::Store(stored) = admit(None, &valid(&record), NOW, now).unwrap() else {
        panic!("a new record is stored");
    };
    assert_eq!(stored.value, record.value);
    assert_eq!(stored.expires, Some(now + Duration::from_millis(HOUR)));
}

#[test]
fn the_higher_sequence_wins_and_a_repeat_changes_nothing() {
    let (old, new) = (did_record(1, 5, NOW), did_record(1, 6, NOW));
    let now = Instant::now();
    assert!(matches!(
        admit(Some(&old), &valid(&new), NOW, now),
        Ok(Admission::Store(_))
    ));
    assert_eq!(
        admit(Some(&new), &valid(&new), NOW, now),
        Ok(Admission::Unchanged)
    );
    let stale = admit(Some(&new), &valid(&old), NOW, now).unwrap_err();
    assert!(matches!(stale, RecordError::Did(DidError::Stale { .. })));
    assert!(
        !stale.is_peer_fault(),
        "relaying an older record is no offence"
    );
    // An expired stored record loses to any valid one.
    let expired = did_record(1, 9, NOW - 2 * HOUR);
    assert!(matches!(
        admit(Some(&expired), &valid(&old), NOW, now),
        Ok(Admission::Store(_))
    ));
}

#[test]
fn forged_or_foreign_records_are_the_senders_fault_old_ones_are_not() {
    // Another DID's record under this DID's key.
    let mut moved = did_record(2, 1, NOW);
    moved.key = did_record(1, 1, NOW).key;
    let err = judge(&moved, NOW).unwrap_err();
    assert!(err.is_peer_fault(), "{err}");
    // A tampered byte.
    let mut tampered = did_record(1, 1, NOW);
    let last = tampered.value.len() - 1;
    tampered.value[last] ^= 1;
    assert!(judge(&tampered, NOW).unwrap_err().is_peer_fault());
    // Garbage, and a key of no kind.
    let junk = Record::new(RecordKey::new(&b"/talos/did/xyz".to_vec()), vec![0xff; 10]);
    assert!(judge(&junk, NOW).unwrap_err().is_peer_fault());
    let other = Record::new(RecordKey::new(&b"/talos/local/x".to_vec()), b"v".to_vec());
    assert_eq!(
        judge(&other, NOW),
        Err(RecordError::UnknownKind { len: 14 })
    );
    // Expired, and issued in the future beyond the skew: refused, but no offence.
    let expired = judge(&did_record(1, 1, NOW - 2 * HOUR), NOW).unwrap_err();
    assert!(!expired.is_peer_fault(), "{expired}");
    let early = judge(&did_record(1, 1, NOW + HOUR), NOW).unwrap_err();
    assert!(!early.is_peer_fault(), "{early}");
}
