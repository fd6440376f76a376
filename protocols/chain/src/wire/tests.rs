use ed25519_dalek::SigningKey;

use super::*;
use crate::hash::Hash256;
use crate::item::{Anchor, AuditEvent, DidAnchor, ItemKind, Revocation, UnsignedItem};
use crate::pow::Work;
use crate::spec::NetworkSpec;

fn items(n: u64) -> Vec<SignedItem> {
    let key = SigningKey::from_bytes(&[7; 32]);
    (0..n)
        .map(|nonce| {
            let kind = match nonce % 4 {
                0 => ItemKind::Anchor(Anchor {
                    content_hash: Hash256::sha256(b"c"),
                    label: "l".into(),
                }),
                1 => ItemKind::AuditEvent(AuditEvent {
                    subject: "did:key:z6Mk".into(),
                    action: "tool.call".into(),
                    outcome: "ok".into(),
                    details_hash: Hash256::sha256(b"d"),
                }),
                2 => ItemKind::DidAnchor(DidAnchor {
                    did: "did:key:z".into(),
                    document_hash: Hash256::ZERO,
                }),
                _ => ItemKind::Revocation(Revocation {
                    capability_id: Hash256::ZERO,
                    reason: "r".into(),
                }),
            };
            UnsignedItem {
                author: key.verifying_key(),
                nonce,
                timestamp_ms: 5,
                kind,
            }
            .sign(&key, NetworkSpec::local().network_id)
        })
        .collect()
}

fn block(n: u64) -> Block {
    let mut b = NetworkSpec::local().genesis();
    b.items = items(n);
    b.header.item_count = n as u32;
    b.header.merkle_root = b.compute_merkle_root();
    b
}

#[test]
fn block_round_trips_with_every_item_kind() {
    let limits = NetworkSpec::local().limits;
    let b = block(9);
    let decoded = decode_block(&encode_block(&b), &limits).unwrap();
    assert_eq!(decoded, b);
    assert_eq!(decoded.id(), b.id());
    for (a, d) in b.items.iter().zip(&decoded.items) {
        assert_eq!(a.id(), d.id());
    }
}

#[test]
fn header_item_proof_and_status_round_trip() {
    let limits = NetworkSpec::local().limits;
    let b = block(5);
    assert_eq!(decode_header(&encode_header(&b.header)).unwrap(), b.header);
    let proof = ItemProof {
        item: b.items[3].clone(),
        header: b.header,
        proof: b.item_proof(3).unwrap(),
    };
    let decoded = decode_item_proof(&encode_item_proof(&proof), &limits).unwrap();
    assert_eq!(decoded, proof);
    assert_eq!(decoded.verify(), Ok(()));
    let status = ChainStatus {
        network_id: 1,
        genesis_hash: Hash256::ZERO,
        tip_hash: b.id(),
        tip_height: 9,
        cumulative_work: Work::from_value(ruint::aliases::U256::from(123_456u64)),
    };
    assert_eq!(decode_status(&encode_status(&status)).unwrap(), status);
}

#[test]
fn hostile_inputs_get_typed_errors() {
    let limits = NetworkSpec::local().limits;
    let big = vec![0u8; max_block_wire_bytes(&limits) + 1];
    assert!(matches!(
        decode_block(&big, &limits),
        Err(DecodeError::TooLarge { .. })
    ));
    // Many empty items: rejected by the pre-scan before prost allocates them.
    let many: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], 10_000)
        .flatten()
        .collect();
    assert!(matches!(
        decode_block(&many, &limits),
        Err(DecodeError::TooMany { .. })
    ));
    assert!(matches!(
        decode_block(&[0x12, 0x00], &limits),
        Err(DecodeError::Missing(_))
    ));
    assert!(matches!(
        decode_header(&[0x22, 0x01, 0x00]),
        Err(DecodeError::BadLength { .. })
    ));
    assert!(decode_item(&[0xff, 0xff], &limits).is_err());

    // An item without a kind, and one with a weak key.
    let mut wire = items(1)[0].to_wire();
    if let Some(i) = wire.item.as_mut() {
        i.kind = None;
    }
    assert_eq!(
        decode_item(&wire.encode_to_vec(), &limits),
        Err(DecodeError::UnknownItemKind)
    );
    let mut wire = items(1)[0].to_wire();
    if let Some(i) = wire.item.as_mut() {
        i.author = vec![0; 32];
        i.author[0] = 1; // the identity point: small order
    }
    assert_eq!(
        decode_item(&wire.encode_to_vec(), &limits),
        Err(DecodeError::WeakAuthorKey)
    );
}

#[test]
fn oversized_item_is_rejected() {
    let mut limits = NetworkSpec::local().limits;
    let item = &items(1)[0];
    limits.max_item_bytes = item.encoded_len() - 1;
    assert!(matches!(
        decode_item(&encode_item(item), &limits),
        Err(DecodeError::ItemTooLarge { .. })
    ));
}
