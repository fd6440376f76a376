//! DID records: signing, the wire format, validation's every rejection, and choosing.

use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};

use std::str::FromStr;

use super::{NOW, document, identity_dh, key, signed_prekey};
use crate::record::RecordWire;
use crate::{
    Choice, DidDocument, DidRecord, DocumentError, MAX_CLOCK_SKEW_MS, MAX_DOCUMENT_BYTES,
    MAX_MULTIADDRS, MAX_RECORD_BYTES, MAX_RECORD_TTL_MS, Multiaddr, RECORD_KEY_PREFIX, RecordError,
    SigningKey, choose, record_key, record_signed_message, validate_record,
};

const HOUR: u64 = 60 * 60 * 1000;

/// Agent `n`'s record, sequence `sequence`, issued at `NOW` for an hour.
fn record(n: u8, sequence: u64) -> DidRecord {
    DidRecord::sign(&document(n), sequence, NOW, HOUR, &key(n)).expect("a valid record")
}

/// A record of arbitrary fields, signed by `signer`.
fn forge(document: &[u8], times: (u64, u64), signer: &SigningKey) -> Vec<u8> {
    let (issued_at_ms, expires_at_ms) = times;
    let message = record_signed_message(document, 5, issued_at_ms, expires_at_ms);
    prost::Message::encode_to_vec(&RecordWire {
        version: 1,
        document: document.to_vec(),
        sequence: 5,
        issued_at_ms,
        expires_at_ms,
        signature: signer.sign(&message).to_bytes().to_vec(),
    })
}

fn validate(bytes: &[u8]) -> Result<DidRecord, RecordError> {
    validate_record(&record_key(document(1).did()), bytes, NOW).map(|v| v.into_record())
}

#[test]
fn records_round_trip_through_the_wire() {
    let signed = record(1, 3);
    let bytes = signed.encode();
    assert!(bytes.len() <= MAX_RECORD_BYTES, "{} bytes", bytes.len());
    let valid = validate_record(&signed.key(), &bytes, NOW).unwrap();
    assert_eq!(valid.record(), &signed);
    assert_eq!(valid.bytes(), bytes.as_slice());
    assert_eq!(DidRecord::decode(&bytes), Ok(signed.clone()));
    assert_eq!(signed.document(), &document(1));
    assert_eq!(signed.document_bytes(), document(1).to_json().as_slice());
    assert_eq!(signed.did(), document(1).did());
    assert_eq!(signed.sequence(), 3);
    assert_eq!(signed.issued_at_ms(), NOW);
    assert_eq!(signed.expires_at_ms(), NOW + HOUR);
    // Signing is deterministic: one record, one byte string.
    assert_eq!(record(1, 3).encode(), bytes);
}

#[test]
fn the_largest_documents_fit_a_record() {
    // Framing: version (2), document tag and length (3), three u64 varints (3 × 11),
    // signature (66).
    const _: () = assert!(MAX_DOCUMENT_BYTES + 104 <= MAX_RECORD_BYTES);
    let me = crate::peer_id(&key(1).verifying_key());
    let relay = crate::peer_id(&key(250).verifying_key());
    // Eight relayed addresses of about 160 characters.
    let addrs = (0..MAX_MULTIADDRS)
        .map(|i| {
            let text =
                format!("/dns4/relay-{i}.example.invalid/tcp/443/p2p/{relay}/p2p-circuit/p2p/{me}");
            Multiaddr::from_str(&text).unwrap()
        })
        .collect();
    let big = DidDocument::for_agent(&key(1), identity_dh(1), signed_prekey(1), addrs).unwrap();
    let signed = DidRecord::sign(&big, u64::MAX, u64::MAX - HOUR, HOUR, &key(1)).unwrap();
    assert!(signed.encode().len() <= MAX_RECORD_BYTES);
    assert_eq!(DidRecord::decode(&signed.encode()), Ok(signed));
}

#[test]
fn the_record_key_is_a_prefixed_hash_of_the_did() {
    let did = document(1).did().to_owned();
    let key = record_key(&did);
    assert_eq!(key.len(), RECORD_KEY_PREFIX.len() + 32);
    assert!(key.starts_with(b"/talos/did/"));
    assert_eq!(
        &key[RECORD_KEY_PREFIX.len()..],
        Sha256::digest(did.as_bytes()).as_slice()
    );
    assert_ne!(key, record_key(document(2).did()));
}

#[test]
fn malformed_truncated_and_oversized_bytes_are_rejected() {
    let bytes = record(1, 1).encode();
    for len in 0..bytes.len() {
        assert!(validate(&bytes[..len]).is_err(), "prefix of {len} bytes");
        assert!(
            DidRecord::decode(&bytes[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    let cut = validate(&bytes[..bytes.len() - 1]);
    assert_eq!(cut.map_err(|e| e.code()), Err("record_malformed"));
    assert_eq!(
        validate(&[0xff; 16]).map_err(|e| e.code()),
        Err("record_malformed")
    );
    let mut big = bytes.clone();
    big.resize(MAX_RECORD_BYTES + 1, 0);
    assert_eq!(
        validate(&big),
        Err(RecordError::TooLarge {
            len: MAX_RECORD_BYTES + 1,
            max: MAX_RECORD_BYTES
        })
    );
    // An unknown field (15, varint) decodes but is not the canonical encoding.
    let mut unknown = bytes.clone();
    unknown.extend_from_slice(&[0x78, 0x01]);
    assert_eq!(validate(&unknown), Err(RecordError::NotCanonical));
    // So is a field repeated.
    let mut repeated = bytes;
    repeated.extend_from_slice(&[0x18, 0x01]);
    assert_eq!(validate(&repeated), Err(RecordError::NotCanonical));
}

#[test]
fn versions_signature_lengths_and_documents_are_checked() {
    let mut wire: RecordWire = prost::Message::decode(&record(1, 1).encode()[..]).unwrap();
    wire.version = 2;
    let v2 = prost::Message::encode_to_vec(&wire);
    assert_eq!(
        validate(&v2),
        Err(RecordError::UnsupportedVersion { version: 2 })
    );
    wire.version = 1;
    wire.signature.pop();
    let short = prost::Message::encode_to_vec(&wire);
    assert_eq!(
        validate(&short),
        Err(RecordError::BadSignatureLength { len: 63 })
    );
    // A document that does not parse, signed properly.
    let junk = forge(b"{\"id\":1}", (NOW, NOW + HOUR), &key(1));
    assert_eq!(validate(&junk).map_err(|e| e.code()), Err("document_json"));
    assert!(matches!(
        DidRecord::decode(&junk),
        Err(RecordError::Document(DocumentError::Json(_)))
    ));
    // A valid document, but not in canonical form.
    let pretty = document(1).to_json_pretty();
    let pretty = forge(pretty.as_bytes(), (NOW, NOW + HOUR), &key(1));
    assert_eq!(validate(&pretty), Err(RecordError::DocumentNotCanonical));
}

#[test]
fn the_record_key_must_be_the_dids() {
    let bytes = record(1, 1).encode();
    let other = validate_record(&record_key(document(2).did()), &bytes, NOW);
    assert_eq!(other, Err(RecordError::WrongKey));
    assert_eq!(
        validate_record(b"", &bytes, NOW),
        Err(RecordError::WrongKey)
    );
    let raw_did = validate_record(document(1).did().as_bytes(), &bytes, NOW);
    assert_eq!(raw_did.map_err(|e| e.code()), Err("record_wrong_key"));
}

#[test]
fn signatures_by_other_keys_and_tampering_are_rejected() {
    let json = document(1).to_json();
    let by_other = forge(&json, (NOW, NOW + HOUR), &key(2));
    assert_eq!(validate(&by_other), Err(RecordError::BadSignature));
    assert_eq!(DidRecord::decode(&by_other), Err(RecordError::BadSignature));
    assert_eq!(
        DidRecord::sign(&document(1), 1, NOW, HOUR, &key(2)),
        Err(RecordError::WrongSigner)
    );
    // One document byte changed (still a valid document: another address).
    let text = String::from_utf8(json.clone()).unwrap();
    assert!(text.contains("/ip4/192.0.2.1/"));
    let tampered_json = text
        .replace("/ip4/192.0.2.1/", "/ip4/192.0.2.3/")
        .into_bytes();
    let mut wire: RecordWire =
        prost::Message::decode(&forge(&json, (NOW, NOW + HOUR), &key(1))[..]).unwrap();
    wire.document = tampered_json;
    let tampered = prost::Message::encode_to_vec(&wire);
    assert_eq!(validate(&tampered), Err(RecordError::BadSignature));
    // The sequence, or a signature byte, changed.
    let mut wire: RecordWire = prost::Message::decode(&record(1, 1).encode()[..]).unwrap();
    wire.sequence = 2;
    assert_eq!(
        validate(&prost::Message::encode_to_vec(&wire)),
        Err(RecordError::BadSignature)
    );
    wire.sequence = 1;
    wire.signature[10] ^= 1;
    assert_eq!(
        validate(&prost::Message::encode_to_vec(&wire)),
        Err(RecordError::BadSignature)
    );
}

#[test]
fn the_validity_window_is_enforced() {
    let bytes = record(1, 1).encode();
    let at = record_key(document(1).did());
    assert!(validate_record(&at, &bytes, NOW + HOUR - 1).is_ok());
    assert_eq!(
        validate_record(&at, &bytes, NOW + HOUR),
        Err(RecordError::Expired {
            expires_at_ms: NOW + HOUR,
            now_ms: NOW + HOUR
        })
    );
    // Issued in the future: fine within the clock skew, not beyond.
    assert!(validate_record(&at, &bytes, NOW - MAX_CLOCK_SKEW_MS).is_ok());
    assert_eq!(
        validate_record(&at, &bytes, NOW - MAX_CLOCK_SKEW_MS - 1),
        Err(RecordError::NotYetValid {
            issued_at_ms: NOW,
            now_ms: NOW - MAX_CLOCK_SKEW_MS - 1
        })
    );
    let json = document(1).to_json();
    let too_long = forge(&json, (NOW, NOW + MAX_RECORD_TTL_MS + 1), &key(1));
    assert_eq!(
        validate(&too_long),
        Err(RecordError::TtlTooLong {
            ttl_ms: MAX_RECORD_TTL_MS + 1,
            max_ms: MAX_RECORD_TTL_MS
        })
    );
    assert_eq!(
        DidRecord::decode(&too_long).map_err(|e| e.code()),
        Err("record_ttl_too_long")
    );
    let backwards = forge(&json, (NOW, NOW - 1), &key(1));
    assert_eq!(validate(&backwards), Err(RecordError::ExpiresBeforeIssued));
    let empty = forge(&json, (NOW, NOW), &key(1));
    assert_eq!(validate(&empty), Err(RecordError::ExpiresBeforeIssued));
}

#[test]
fn signing_bounds_the_ttl() {
    let sign = |now: u64, ttl: u64| DidRecord::sign(&document(1), 1, now, ttl, &key(1));
    assert!(sign(NOW, MAX_RECORD_TTL_MS).is_ok());
    assert_eq!(
        sign(NOW, MAX_RECORD_TTL_MS + 1),
        Err(RecordError::TtlTooLong {
            ttl_ms: MAX_RECORD_TTL_MS + 1,
            max_ms: MAX_RECORD_TTL_MS
        })
    );
    assert_eq!(sign(NOW, 0), Err(RecordError::ExpiresBeforeIssued));
    assert_eq!(
        sign(u64::MAX, 1).map_err(|e| e.code()),
        Err("record_ttl_too_long")
    );
}

#[test]
fn higher_sequences_win_and_equivocation_is_rejected() {
    let (one, two) = (record(1, 1), record(1, 2));
    assert_eq!(choose(&one, &two), Ok(Choice::Replace));
    assert_eq!(choose(&two, &two.clone()), Ok(Choice::Unchanged));
    assert_eq!(
        choose(&two, &one),
        Err(RecordError::Stale {
            existing: 2,
            incoming: 1
        })
    );
    // Sequence 2 again, but another record (a longer validity).
    let other_two = DidRecord::sign(&document(1), 2, NOW, 2 * HOUR, &key(1)).unwrap();
    assert_eq!(
        choose(&two, &other_two),
        Err(RecordError::Equivocation { sequence: 2 })
    );
    assert_eq!(choose(&record(2, 1), &two), Err(RecordError::DidMismatch));

    let valid = |r: &DidRecord| validate_record(&r.key(), &r.encode(), NOW).unwrap();
    assert!(valid(&two).supersedes(&valid(&one)));
    assert!(!valid(&one).supersedes(&valid(&two)));
    assert!(!valid(&two).supersedes(&valid(&two)));
    assert!(!valid(&record(2, 9)).supersedes(&valid(&one)));
}
