use ed25519_dalek::SigningKey;
use talos_chain::item::{Anchor, AuditEvent, DidAnchor, Revocation};
use talos_chain::wire::{encode_block, encode_item_proof, encode_status};
use talos_chain::{
    Block, ChainStatus, ItemKind, ItemProof, NetworkSpec, SignedItem, UnsignedItem, Work,
};
use talos_proto::chain as chain_pb;

/// The prost form of an encoded chain message, to corrupt one field of it.
fn chain_message<M: Message + Default>(bytes: &[u8]) -> M {
    M::decode(bytes).expect("the chain codec's own encoding")
}

use super::*;
use crate::limits::{MIN_ITEM_WIRE_BYTES, MIN_RESPONSE_BYTES, RESPONSE_FRAMING_BYTES};

fn limits() -> Limits {
    NetworkSpec::local().limits
}

fn items(n: u64) -> Vec<SignedItem> {
    let key = SigningKey::from_bytes(&[9; 32]);
    (0..n)
        .map(|nonce| {
            let kind = match nonce % 4 {
                0 => ItemKind::Anchor(Anchor {
                    content_hash: Hash256::sha256(b"content"),
                    label: "label".into(),
                }),
                1 => ItemKind::AuditEvent(AuditEvent {
                    subject: "did:key:z6Mk".into(),
                    action: "tool.call".into(),
                    outcome: "ok".into(),
                    details_hash: Hash256::sha256(b"details"),
                }),
                2 => ItemKind::DidAnchor(DidAnchor {
                    did: "did:key:z6Mk".into(),
                    document_hash: Hash256::sha256(b"doc"),
                }),
                _ => ItemKind::Revocation(Revocation {
                    capability_id: Hash256::sha256(b"cap"),
                    reason: "leaked".into(),
                }),
            };
            UnsignedItem {
                author: key.verifying_key(),
                nonce,
                timestamp_ms: 1_767_225_600_000 + nonce,
                kind,
            }
            .sign(&key, NetworkSpec::local().network_id)
        })
        .collect()
}

fn block(height: u64, n: u64) -> Block {
    let mut b = NetworkSpec::local().genesis();
    b.header.height = height;
    b.items = items(n);
    b.header.item_count = n as u32;
    b.header.merkle_root = b.compute_merkle_root();
    b
}

fn status() -> ChainStatus {
    ChainStatus {
        network_id: NetworkSpec::local().network_id,
        genesis_hash: NetworkSpec::local().genesis_hash(),
        tip_hash: Hash256::sha256(b"tip"),
        tip_height: 42,
        cumulative_work: Work::from_be_slice(&[1, 2, 3]).unwrap_or_default(),
    }
}

fn proof() -> ItemProof {
    let b = block(3, 5);
    ItemProof {
        item: b.items[2].clone(),
        header: b.header,
        proof: b.item_proof(2).unwrap(),
    }
}

fn request_round_trip(request: SyncRequest) {
    let bytes = encode_request(&request);
    assert!(bytes.len() <= MAX_REQUEST_BYTES);
    assert_eq!(decode_request(&bytes), Ok(request));
}

fn response_round_trip(response: SyncResponse) {
    let bytes = encode_response(&response);
    assert_eq!(decode_response(&bytes, &limits()), Ok(response));
}

fn wire_request(kind: pb::sync_request::Kind) -> Vec<u8> {
    pb::SyncRequest { kind: Some(kind) }.encode_to_vec()
}

fn wire_response(kind: pb::sync_response::Kind) -> Vec<u8> {
    pb::SyncResponse { kind: Some(kind) }.encode_to_vec()
}

/// A length-delimited field: key, length varint, payload.
fn len_field(field: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut put = |mut v: u64| loop {
        if v < 0x80 {
            out.push(v as u8);
            break;
        }
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    };
    put(u64::from(field) << 3 | 2);
    put(payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

#[test]
fn every_request_kind_round_trips() {
    request_round_trip(SyncRequest::Status(status()));
    request_round_trip(SyncRequest::HeadersByRange {
        start_height: 0,
        count: 1,
    });
    request_round_trip(SyncRequest::HeadersByRange {
        start_height: u64::MAX - u64::from(MAX_HEADERS_PER_RESPONSE),
        count: MAX_HEADERS_PER_RESPONSE,
    });
    request_round_trip(SyncRequest::BlocksByRange {
        start_height: 17,
        count: MAX_BLOCKS_PER_RESPONSE,
    });
    request_round_trip(SyncRequest::BlocksByHash(vec![Hash256::sha256(b"a")]));
    request_round_trip(SyncRequest::BlocksByHash(
        (0..MAX_HASHES_PER_REQUEST as u32)
            .map(|i| Hash256::sha256(&i.to_be_bytes()))
            .collect(),
    ));
    request_round_trip(SyncRequest::Proof(Hash256::sha256(b"item")));
}

#[test]
fn every_response_kind_round_trips() {
    response_round_trip(SyncResponse::Status(status()));
    response_round_trip(SyncResponse::Headers(vec![]));
    response_round_trip(SyncResponse::Headers(
        (0..10).map(|h| block(h, 0).header).collect(),
    ));
    response_round_trip(SyncResponse::Blocks(vec![]));
    response_round_trip(SyncResponse::Blocks(vec![block(1, 0), block(2, 9)]));
    response_round_trip(SyncResponse::Proof(None));
    response_round_trip(SyncResponse::Proof(Some(Box::new(proof()))));
    for code in [
        ErrorCode::BadRequest,
        ErrorCode::Busy,
        ErrorCode::WrongNetwork,
        ErrorCode::NotFound,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Other("shiny_new_code".into()),
    ] {
        response_round_trip(SyncResponse::Error {
            code,
            message: "nope".into(),
        });
    }
}

#[test]
fn decoded_blocks_keep_their_ids() {
    let blocks = vec![block(1, 4), block(2, 7)];
    let bytes = encode_response(&SyncResponse::Blocks(blocks.clone()));
    let Ok(SyncResponse::Blocks(decoded)) = decode_response(&bytes, &limits()) else {
        panic!("blocks did not decode");
    };
    for (a, b) in blocks.iter().zip(&decoded) {
        assert_eq!(a.id(), b.id());
        assert_eq!(b.compute_merkle_root(), b.header.merkle_root);
        let ids = |b: &Block| b.items.iter().map(SignedItem::id).collect::<Vec<_>>();
        assert_eq!(ids(a), ids(b));
    }
}

#[test]
fn full_header_response_fits() {
    // Every varint at its longest.
    let mut header = block(u64::MAX, 0).header;
    header.version = u32::MAX;
    header.network_id = u32::MAX;
    header.item_count = u32::MAX;
    header.timestamp_ms = u64::MAX;
    header.target = talos_chain::CompactTarget(u32::MAX);
    header.nonce = u64::MAX;
    let headers = vec![header; MAX_HEADERS_PER_RESPONSE as usize];
    let response = SyncResponse::Headers(headers);
    let bytes = encode_response(&response);
    assert!(bytes.len() <= MIN_RESPONSE_BYTES);
    assert_eq!(decode_response(&bytes, &limits()), Ok(response));
}

#[test]
fn response_cap_holds_one_maximum_block() {
    let mut l = limits();
    assert_eq!(max_response_bytes(&l), MIN_RESPONSE_BYTES);
    l.max_block_bytes = 64 * 1024 * 1024;
    assert_eq!(
        max_response_bytes(&l),
        max_block_wire_bytes(&l) + RESPONSE_FRAMING_BYTES
    );
}

#[test]
fn smallest_item_encoding_is_min_item_wire_bytes() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let kinds = [
        ItemKind::Anchor(Anchor {
            content_hash: Hash256::ZERO,
            label: String::new(),
        }),
        ItemKind::AuditEvent(AuditEvent {
            subject: String::new(),
            action: String::new(),
            outcome: String::new(),
            details_hash: Hash256::ZERO,
        }),
        ItemKind::DidAnchor(DidAnchor {
            did: String::new(),
            document_hash: Hash256::ZERO,
        }),
        ItemKind::Revocation(Revocation {
            capability_id: Hash256::ZERO,
            reason: String::new(),
        }),
    ];
    for kind in kinds {
        let item = UnsignedItem {
            author: key.verifying_key(),
            nonce: 0,
            timestamp_ms: 0,
            kind,
        }
        .sign(&key, 1);
        assert_eq!(
            talos_chain::wire::encode_item(&item).len(),
            MIN_ITEM_WIRE_BYTES
        );
    }
}

// ---- rejections ----

#[test]
fn oversized_messages_are_rejected_before_decoding() {
    let big = vec![0u8; MAX_REQUEST_BYTES + 1];
    assert!(matches!(
        decode_request(&big),
        Err(SyncDecodeError::Wire(DecodeError::TooLarge { .. }))
    ));
    let big = vec![0u8; max_response_bytes(&limits()) + 1];
    let err = decode_response(&big, &limits()).unwrap_err();
    assert!(matches!(
        err,
        SyncDecodeError::Wire(DecodeError::TooLarge { .. })
    ));
    assert_eq!(err.code(), "too_large");
}

#[test]
fn missing_kind_is_rejected() {
    assert_eq!(
        decode_request(&[]),
        Err(SyncDecodeError::MissingKind("sync request"))
    );
    assert_eq!(
        decode_response(&[], &limits()),
        Err(SyncDecodeError::MissingKind("sync response"))
    );
    // Unknown fields only: still no kind.
    assert_eq!(
        decode_request(&[0x78, 0x01]).map_err(|e| e.code()),
        Err("missing_kind")
    );
    // A status request without its status.
    assert_eq!(
        decode_request(&wire_request(pb::sync_request::Kind::Status(
            pb::StatusRequest { status: Vec::new() }
        ))),
        Err(DecodeError::Missing("status_request.status").into())
    );
}

#[test]
fn zero_and_oversized_counts_are_rejected() {
    let headers = |start_height, count| {
        wire_request(pb::sync_request::Kind::HeadersByRange(pb::HeadersByRange {
            start_height,
            count,
        }))
    };
    let blocks = |start_height, count| {
        wire_request(pb::sync_request::Kind::BlocksByRange(pb::BlocksByRange {
            start_height,
            count,
        }))
    };
    type MakeRequest<'a> = &'a dyn Fn(u64, u32) -> Vec<u8>;
    let cases: [(MakeRequest<'_>, u32); 2] = [
        (&headers, MAX_HEADERS_PER_RESPONSE),
        (&blocks, MAX_BLOCKS_PER_RESPONSE),
    ];
    for (make, max) in cases {
        assert!(matches!(
            decode_request(&make(5, 0)),
            Err(SyncDecodeError::ZeroCount(_))
        ));
        let err = decode_request(&make(5, max + 1)).unwrap_err();
        assert!(matches!(err, SyncDecodeError::CountOverCap { .. }));
        assert_eq!(err.code(), "count_over_cap");
        assert!(decode_request(&make(5, max)).is_ok());
        assert!(decode_request(&make(u64::MAX - u64::from(max), max)).is_ok());
        assert!(matches!(
            decode_request(&make(u64::MAX, 1)),
            Err(SyncDecodeError::RangeOverflow { .. })
        ));
    }
    let empty = wire_request(pb::sync_request::Kind::BlocksByHash(pb::BlocksByHash {
        hashes: vec![],
    }));
    assert_eq!(
        decode_request(&empty),
        Err(SyncDecodeError::ZeroCount("blocks_by_hash.hashes"))
    );
}

#[test]
fn too_many_hashes_are_rejected_by_the_pre_scan() {
    let too_many = wire_request(pb::sync_request::Kind::BlocksByHash(pb::BlocksByHash {
        hashes: vec![vec![0; 32]; MAX_HASHES_PER_REQUEST + 1],
    }));
    let err = decode_request(&too_many).unwrap_err();
    assert!(matches!(
        err,
        SyncDecodeError::Wire(DecodeError::TooMany { .. })
    ));
    assert_eq!(err.code(), "too_many");
    // Split over two occurrences of the field, which prost would merge: still counted.
    let half = |n| {
        len_field(
            field::REQUEST_BLOCKS_BY_HASH,
            &(0..n)
                .flat_map(|_| len_field(field::HASHES, &[0; 32]))
                .collect::<Vec<u8>>(),
        )
    };
    let split = [
        half(MAX_HASHES_PER_REQUEST / 2 + 1),
        half(MAX_HASHES_PER_REQUEST / 2),
    ]
    .concat();
    assert!(matches!(
        decode_request(&split),
        Err(SyncDecodeError::Wire(DecodeError::TooMany { .. }))
    ));
}

#[test]
fn bad_hash_lengths_are_rejected() {
    let bad = wire_request(pb::sync_request::Kind::BlocksByHash(pb::BlocksByHash {
        hashes: vec![vec![0; 32], vec![0; 31]],
    }));
    assert_eq!(
        decode_request(&bad),
        Err(DecodeError::BadLength {
            field: "blocks_by_hash.hashes",
            expected: 32,
            actual: 31
        }
        .into())
    );
    let bad = wire_request(pb::sync_request::Kind::Proof(pb::ProofRequest {
        item_id: vec![1; 33],
    }));
    assert_eq!(
        decode_request(&bad).map_err(|e| e.code()),
        Err("bad_length")
    );
    let mut status: chain_pb::NetworkStatus = chain_message(&encode_status(&status()));
    status.tip_hash = vec![0; 3];
    assert_eq!(
        decode_response(
            &wire_response(pb::sync_response::Kind::Status(status.encode_to_vec())),
            &limits()
        )
        .map_err(|e| e.code()),
        Err("bad_length")
    );
}

#[test]
fn malformed_framing_is_rejected() {
    for bytes in [
        &[0x22, 0x05, 0x0a][..],       // field 4, length 5, only 1 byte follows
        &[0x0a][..],                   // key without a length
        &[0x0b][..],                   // a group start: unsupported
        &[0x08, 0xff, 0xff][..],       // truncated varint
        &[0x22, 0x02, 0x0a, 0x07][..], // nested hash length runs past its parent
    ] {
        let err = decode_request(bytes).unwrap_err();
        assert!(
            matches!(err.code(), "malformed" | "protobuf"),
            "{bytes:?}: {err:?}"
        );
        let err = decode_response(bytes, &limits()).unwrap_err();
        assert!(
            matches!(err.code(), "malformed" | "protobuf"),
            "{bytes:?}: {err:?}"
        );
    }
    // Wrong wire type for a known field: prost's error.
    assert_eq!(
        decode_request(&[0x10, 0x01]).map_err(|e| e.code()),
        Err("protobuf")
    );
}

#[test]
fn too_many_headers_and_blocks_are_rejected_by_the_pre_scan() {
    // Empty elements cost 2 bytes each: the pre-scan must stop them before prost builds them.
    let headers = len_field(
        field::RESPONSE_HEADERS,
        &[0x0a, 0x00].repeat(MAX_HEADERS_PER_RESPONSE as usize + 1),
    );
    assert_eq!(
        decode_response(&headers, &limits()),
        Err(DecodeError::TooMany {
            what: "headers in a response",
            max: MAX_HEADERS_PER_RESPONSE as usize
        }
        .into())
    );
    let blocks = len_field(
        field::RESPONSE_BLOCKS,
        &[0x0a, 0x00].repeat(MAX_BLOCKS_PER_RESPONSE as usize + 1),
    );
    assert_eq!(
        decode_response(&blocks, &limits()),
        Err(DecodeError::TooMany {
            what: "blocks in a response",
            max: MAX_BLOCKS_PER_RESPONSE as usize
        }
        .into())
    );
    // Blocks split over two lists, which prost would concatenate.
    let half = len_field(
        field::RESPONSE_BLOCKS,
        &[0x0a, 0x00].repeat(MAX_BLOCKS_PER_RESPONSE as usize / 2 + 1),
    );
    assert_eq!(
        decode_response(&[half.clone(), half].concat(), &limits()).map_err(|e| e.code()),
        Err("too_many")
    );
}

#[test]
fn nested_item_count_over_cap_is_rejected() {
    let mut l = limits();
    l.max_items_per_block = 3;
    let response = encode_response(&SyncResponse::Blocks(vec![block(1, 4)]));
    assert_eq!(
        decode_response(&response, &l),
        Err(DecodeError::TooMany {
            what: "items in a block",
            max: 3
        }
        .into())
    );
    assert!(decode_response(&response, &limits()).is_ok());

    // Empty items, within the per-block cap but over the per-response total.
    let l = limits();
    let per_block = l.max_items_per_block as usize;
    let block = len_field(field::LIST, &[0x12, 0x00].repeat(per_block));
    let blocks_needed = max_items_per_response(&l) / per_block + 1;
    assert!(blocks_needed <= MAX_BLOCKS_PER_RESPONSE as usize);
    let response = len_field(field::RESPONSE_BLOCKS, &block.repeat(blocks_needed));
    assert!(response.len() <= max_response_bytes(&l));
    assert_eq!(
        decode_response(&response, &l),
        Err(DecodeError::TooMany {
            what: "items in a response",
            max: max_items_per_response(&l)
        }
        .into())
    );
}

#[test]
fn oversized_nested_elements_are_rejected() {
    let l = limits();
    let header = len_field(
        field::RESPONSE_HEADERS,
        &len_field(field::LIST, &[0; MAX_HEADER_WIRE_BYTES + 1]),
    );
    assert_eq!(
        decode_response(&header, &l).map_err(|e| e.code()),
        Err("too_large")
    );
    let block = len_field(
        field::RESPONSE_BLOCKS,
        &len_field(field::LIST, &vec![0; max_block_wire_bytes(&l) + 1]),
    );
    assert_eq!(
        decode_response(&block, &l).map_err(|e| e.code()),
        Err("too_large")
    );
    let error = wire_response(pb::sync_response::Kind::Error(pb::SyncError {
        code: "busy".into(),
        message: "x".repeat(MAX_ERROR_MESSAGE_BYTES + 1),
    }));
    assert_eq!(
        decode_response(&error, &l).map_err(|e| e.code()),
        Err("too_large")
    );
    let error = wire_response(pb::sync_response::Kind::Error(pb::SyncError {
        code: "x".repeat(MAX_ERROR_CODE_BYTES + 1),
        message: String::new(),
    }));
    assert_eq!(
        decode_response(&error, &l).map_err(|e| e.code()),
        Err("too_large")
    );
    let error = wire_response(pb::sync_response::Kind::Error(pb::SyncError {
        code: String::new(),
        message: "why".into(),
    }));
    assert_eq!(
        decode_response(&error, &l),
        Err(DecodeError::Missing("sync_error.code").into())
    );
}

#[test]
fn proof_path_over_cap_is_rejected() {
    let mut wire: chain_pb::ItemProof = chain_message(&encode_item_proof(&proof()));
    if let Some(p) = wire.proof.as_mut() {
        p.path = vec![vec![0; 32]; MAX_PROOF_PATH + 1];
    }
    let bytes = wire_response(pb::sync_response::Kind::Proof(pb::ProofResponse {
        proof: Some(wire.encode_to_vec()),
    }));
    assert_eq!(
        decode_response(&bytes, &limits()),
        Err(DecodeError::TooMany {
            what: "proof path hashes",
            max: MAX_PROOF_PATH
        }
        .into())
    );
}

#[test]
fn invalid_chain_content_is_rejected() {
    let l = limits();
    // A block without its header.
    let mut wire: chain_pb::Block = chain_message(&encode_block(&block(1, 1)));
    wire.header = None;
    let bytes = wire_response(pb::sync_response::Kind::Blocks(pb::Blocks {
        blocks: vec![wire.encode_to_vec()],
    }));
    assert_eq!(
        decode_response(&bytes, &l),
        Err(DecodeError::Missing("block.header").into())
    );
    // An item without a kind inside a block.
    let mut wire: chain_pb::Block = chain_message(&encode_block(&block(1, 1)));
    if let Some(item) = wire.items[0].item.as_mut() {
        item.kind = None;
    }
    let bytes = wire_response(pb::sync_response::Kind::Blocks(pb::Blocks {
        blocks: vec![wire.encode_to_vec()],
    }));
    assert_eq!(
        decode_response(&bytes, &l).map_err(|e| e.code()),
        Err("unknown_item_kind")
    );
    // An item in a proof over the item limit.
    let p = proof();
    let mut small = l;
    small.max_item_bytes = p.item.encoded_len() - 1;
    let bytes = encode_response(&SyncResponse::Proof(Some(Box::new(p))));
    assert_eq!(
        decode_response(&bytes, &small).map_err(|e| e.code()),
        Err("item_too_large")
    );
    // A block encoded by the chain crate inside a hand-built list decodes to the same block.
    let b = block(4, 3);
    let bytes = len_field(
        field::RESPONSE_BLOCKS,
        &len_field(field::LIST, &encode_block(&b)),
    );
    assert_eq!(
        decode_response(&bytes, &l),
        Ok(SyncResponse::Blocks(vec![b]))
    );
}

#[test]
fn error_codes_are_stable() {
    assert_eq!(SyncDecodeError::MissingKind("x").code(), "missing_kind");
    assert_eq!(SyncDecodeError::ZeroCount("x").code(), "zero_count");
    assert_eq!(
        SyncDecodeError::RangeOverflow {
            start_height: 1,
            count: 1
        }
        .code(),
        "range_overflow"
    );
    assert_eq!(
        ErrorCode::from_wire("wrong_network"),
        ErrorCode::WrongNetwork
    );
    assert_eq!(
        ErrorCode::from_wire("teapot"),
        ErrorCode::Other("teapot".into())
    );
    assert_eq!(ErrorCode::Busy.to_string(), "busy");
}
