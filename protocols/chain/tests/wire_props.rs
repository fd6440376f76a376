//! Property tests of the chain wire codec: every encodable value round-trips with its ids, and
//! no byte string makes a decoder panic.

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use talos_chain::item::AuditEvent;
use talos_chain::testkit::strategies::{self as testkit, header, status};
use talos_chain::wire::{
    DecodeError, decode_block, decode_header, decode_item, decode_item_proof, decode_status,
    encode_block, encode_header, encode_item, encode_item_proof, encode_status,
};
use talos_chain::{
    Block, Hash256, ItemKind, ItemProof, Limits, NetworkSpec, SignedItem, UnsignedItem,
};

fn limits() -> Limits {
    NetworkSpec::local().limits
}

/// A valid SPV proof out of an arbitrary block.
/// Text up to 40 characters, blocks of up to 19 items.
const TEXT: usize = 40;

fn block() -> impl Strategy<Value = Block> {
    testkit::block(20, TEXT)
}

fn signed_item() -> impl Strategy<Value = (SignedItem, u32)> {
    testkit::signed_item(TEXT)
}

fn any_item_proof() -> impl Strategy<Value = ItemProof> {
    testkit::any_item_proof(TEXT)
}

fn valid_item_proof() -> impl Strategy<Value = ItemProof> {
    (block(), any::<prop::sample::Index>())
        .prop_filter("block has items", |(b, _)| !b.items.is_empty())
        .prop_filter_map("proof exists", |(b, i)| {
            let index = i.index(b.items.len());
            Some(ItemProof {
                item: b.items[index].clone(),
                header: b.header,
                proof: b.item_proof(index)?,
            })
        })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..1024)
}

/// Every decoder on the same bytes: each returns `Ok` or a typed error with a code.
fn decode_all(bytes: &[u8]) {
    let limits = limits();
    let codes = [
        decode_header(bytes).err(),
        decode_item(bytes, &limits).err(),
        decode_block(bytes, &limits).err(),
        decode_item_proof(bytes, &limits).err(),
        decode_status(bytes).err(),
    ];
    for error in codes.iter().flatten() {
        assert!(!error.code().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn headers_round_trip(header in header()) {
        let decoded = decode_header(&encode_header(&header));
        prop_assert_eq!(decoded.clone(), Ok(header));
        prop_assert_eq!(decoded.map(|h| h.id()), Ok(header.id()));
    }

    #[test]
    fn items_round_trip_with_their_ids((item, network_id) in signed_item()) {
        let decoded = decode_item(&encode_item(&item), &limits());
        prop_assert_eq!(decoded.as_ref(), Ok(&item));
        let decoded = decoded.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded.id(), item.id());
        prop_assert_eq!(decoded.encoded_len(), item.encoded_len());
        prop_assert_eq!(decoded.verify(network_id), Ok(()));
    }

    #[test]
    fn blocks_round_trip_with_their_ids(block in block()) {
        let decoded = decode_block(&encode_block(&block), &limits())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&decoded, &block);
        prop_assert_eq!(decoded.id(), block.id());
        prop_assert_eq!(decoded.compute_merkle_root(), block.header.merkle_root);
        let ids = |b: &Block| b.items.iter().map(SignedItem::id).collect::<Vec<_>>();
        prop_assert_eq!(ids(&decoded), ids(&block));
    }

    #[test]
    fn valid_item_proofs_round_trip_and_verify(proof in valid_item_proof()) {
        let decoded = decode_item_proof(&encode_item_proof(&proof), &limits())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&decoded, &proof);
        prop_assert_eq!(decoded.item.id(), proof.item.id());
        prop_assert_eq!(decoded.header.id(), proof.header.id());
        // Signed for an arbitrary network, so only the Merkle part is guaranteed to hold.
        prop_assert!(decoded.proof.verify(decoded.item.id().as_bytes(), &decoded.header.merkle_root).is_ok());
    }

    #[test]
    fn arbitrary_item_proofs_round_trip(proof in any_item_proof()) {
        let decoded = decode_item_proof(&encode_item_proof(&proof), &limits());
        prop_assert_eq!(decoded.as_ref(), Ok(&proof));
        // Verifying a garbage proof is an error, never a panic.
        let _ = proof.verify();
    }

    #[test]
    fn statuses_round_trip(status in status()) {
        prop_assert_eq!(decode_status(&encode_status(&status)), Ok(status));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in bytes()) {
        decode_all(&bytes);
    }

    #[test]
    fn mutated_encodings_never_panic(
        block in block(),
        proof in any_item_proof(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        for mut bytes in [encode_block(&block), encode_item_proof(&proof)] {
            for (at, byte) in &flips {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
            decode_all(&bytes);
            // A decoded block's derived values never panic either.
            if let Ok(b) = decode_block(&bytes, &limits()) {
                let _ = (b.id(), b.compute_merkle_root(), b.encoded_len());
            }
        }
    }

    #[test]
    fn truncated_encodings_are_rejected_or_decode(block in block(), cut in any::<prop::sample::Index>()) {
        let bytes = encode_block(&block);
        let cut = cut.index(bytes.len() + 1);
        match decode_block(&bytes[..cut], &limits()) {
            Ok(decoded) => prop_assert!(cut == bytes.len() || decoded != block),
            Err(e) => prop_assert!(matches!(
                e,
                DecodeError::Malformed(_) | DecodeError::Protobuf(_) | DecodeError::Missing(_)
                    | DecodeError::BadLength { .. } | DecodeError::UnknownItemKind
                    | DecodeError::BadAuthorKey | DecodeError::WeakAuthorKey
            ), "{e:?}"),
        }
    }
}

/// An unsigned audit event with every varint at its longest, carrying `text` bytes of text.
fn worst_case_item(text: usize, key: &SigningKey) -> SignedItem {
    let item = UnsignedItem {
        author: key.verifying_key(),
        nonce: u64::MAX,
        timestamp_ms: u64::MAX,
        kind: ItemKind::AuditEvent(AuditEvent {
            subject: "s".repeat(text),
            action: String::new(),
            outcome: String::new(),
            details_hash: Hash256([0xff; 32]),
        }),
    };
    // Decoding does not verify signatures, so one fixed signature serves every item.
    SignedItem::new(item, ed25519_dalek::Signature::from_bytes(&[0x11; 64]))
}

#[test]
fn the_largest_item_fits_the_item_wire_cap() {
    let limits = limits();
    let key = SigningKey::from_bytes(&[3; 32]);
    let base = worst_case_item(0, &key).encoded_len();
    // Grow the text until the canonical size is exactly the item limit.
    let mut item = worst_case_item(limits.max_item_bytes - base, &key);
    while item.encoded_len() > limits.max_item_bytes {
        let text = limits.max_item_bytes - base - (item.encoded_len() - limits.max_item_bytes);
        item = worst_case_item(text, &key);
    }
    assert!(item.encoded_len() <= limits.max_item_bytes);
    assert!(item.encoded_len() + 4 > limits.max_item_bytes);
    let bytes = encode_item(&item);
    assert!(bytes.len() <= talos_chain::wire::max_item_wire_bytes(&limits));
    assert_eq!(decode_item(&bytes, &limits).map(|i| i.id()), Ok(item.id()));
}

#[test]
fn the_fullest_block_fits_the_block_wire_cap() {
    let limits = limits();
    let key = SigningKey::from_bytes(&[4; 32]);
    let item = worst_case_item(0, &key);
    // As many of the smallest items as both the byte and the count limits allow.
    let by_bytes =
        (limits.max_block_bytes - talos_chain::header::HEADER_BYTES) / item.encoded_len();
    let count = by_bytes.min(limits.max_items_per_block as usize);
    let mut block = NetworkSpec::local().genesis();
    block.header.height = u64::MAX;
    block.header.nonce = u64::MAX;
    block.header.timestamp_ms = u64::MAX;
    block.items = vec![item; count];
    block.header.item_count = count as u32;
    assert!(block.encoded_len() <= limits.max_block_bytes);
    let bytes = encode_block(&block);
    assert!(
        bytes.len() <= talos_chain::wire::max_block_wire_bytes(&limits),
        "{} > {}",
        bytes.len(),
        talos_chain::wire::max_block_wire_bytes(&limits)
    );
    assert_eq!(
        decode_block(&bytes, &limits).map(|b| b.id()),
        Ok(block.id())
    );
}
