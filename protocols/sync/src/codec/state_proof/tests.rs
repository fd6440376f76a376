//! State proof requests and answers: round trips of real proofs, and hostile answers (too
//! many siblings, short siblings, bad records, bad leaves, oversized answers).

use prost::Message;
use talos_chain::chain_state::{
    DidRecord, RecordDecodeError, RevocationRecord, StateFinding, revocation_key,
};
use talos_chain::state::{EMPTY_ROOT, MemoryNodes, apply_updates, prove};
use talos_chain::{Hash256, Limits, NetworkSpec};

use super::*;
use crate::codec::{decode_request, decode_response, encode_request, encode_response};
use crate::messages::{SyncRequest, SyncResponse};

fn limits() -> Limits {
    NetworkSpec::local().limits
}

fn revocation(n: u8) -> StateRecord {
    StateRecord::Revocation(RevocationRecord {
        item_id: Hash256([n; 32]),
        height: u64::from(n),
    })
}

/// A tree of five revocations; returns its nodes, root and the keys set.
fn tree() -> (MemoryNodes, Hash256, Vec<(Hash256, StateRecord)>) {
    let entries: Vec<(Hash256, StateRecord)> = (1..=5u8)
        .map(|n| (revocation_key(&Hash256([n; 32])), revocation(n)))
        .collect();
    let updates: Vec<(Hash256, Hash256)> = entries.iter().map(|(k, r)| (*k, r.value())).collect();
    let delta = apply_updates(&MemoryNodes::new(), EMPTY_ROOT, &updates).expect("empty tree");
    let mut nodes = MemoryNodes::new();
    nodes.extend(&delta);
    (nodes, delta.root, entries)
}

fn answer_for(
    nodes: &MemoryNodes,
    root: Hash256,
    key: &Hash256,
    record: Option<StateRecord>,
) -> StateAnswer {
    StateAnswer {
        proof: prove(nodes, root, key).expect("every node held"),
        record,
    }
}

fn round_trip(response: SyncResponse) -> SyncResponse {
    let bytes = encode_response(&response);
    let decoded = decode_response(&bytes, &limits()).expect("decodes");
    assert_eq!(decoded, response);
    decoded
}

fn wire(answer: pb::StateAnswer) -> Vec<u8> {
    pb::SyncResponse {
        kind: Some(pb::sync_response::Kind::StateProof(
            pb::StateProofResponse {
                answer: Some(answer),
            },
        )),
    }
    .encode_to_vec()
}

fn decode(bytes: &[u8]) -> Result<SyncResponse, SyncDecodeError> {
    decode_response(bytes, &limits())
}

fn siblings(n: usize, len: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| vec![u8::try_from(i % 251).unwrap_or(1) + 1; len])
        .collect()
}

#[test]
fn state_proof_requests_round_trip_and_need_32_byte_hashes() {
    let request = SyncRequest::StateProof {
        block: Hash256([1; 32]),
        key: Hash256([2; 32]),
    };
    assert_eq!(decode_request(&encode_request(&request)), Ok(request));
    let bad = |block: Vec<u8>, key: Vec<u8>| {
        let kind = pb::sync_request::Kind::StateProof(pb::StateProofRequest { block, key });
        decode_request(&pb::SyncRequest { kind: Some(kind) }.encode_to_vec())
    };
    assert_eq!(
        bad(vec![1; 31], vec![2; 32]),
        Err(DecodeError::BadLength {
            field: "state_proof_request.block",
            expected: 32,
            actual: 31
        }
        .into())
    );
    assert_eq!(
        bad(vec![1; 32], Vec::new()),
        Err(DecodeError::BadLength {
            field: "state_proof_request.key",
            expected: 32,
            actual: 0
        }
        .into())
    );
}

#[test]
fn real_proofs_round_trip_and_still_verify() {
    let (nodes, root, entries) = tree();
    for (key, record) in &entries {
        let answer = answer_for(&nodes, root, key, Some(*record));
        let decoded = round_trip(SyncResponse::StateProof(Some(Box::new(answer))));
        let SyncResponse::StateProof(Some(decoded)) = decoded else {
            panic!("a state proof");
        };
        assert_eq!(
            decoded.verify(&root, key),
            Ok(StateFinding::Present(*record))
        );
    }
    // Absent keys: a leaf terminal of another key on the path, or an empty subtree.
    for n in 6..=40u8 {
        let key = revocation_key(&Hash256([n; 32]));
        let decoded = round_trip(SyncResponse::StateProof(Some(Box::new(answer_for(
            &nodes, root, &key, None,
        )))));
        let SyncResponse::StateProof(Some(decoded)) = decoded else {
            panic!("a state proof");
        };
        assert_eq!(decoded.verify(&root, &key), Ok(StateFinding::Absent));
    }
    let empty = answer_for(&MemoryNodes::new(), EMPTY_ROOT, &Hash256([7; 32]), None);
    assert_eq!(empty.proof.terminal, Terminal::Empty);
    round_trip(SyncResponse::StateProof(Some(Box::new(empty))));
    round_trip(SyncResponse::StateProof(None));
}

#[test]
fn the_deepest_proof_with_the_longest_record_fits_and_round_trips() {
    let answer = StateAnswer {
        proof: StateProof {
            siblings: (0..MAX_PROOF_DEPTH)
                .map(|i| Hash256([u8::try_from(i % 255).unwrap_or(0) + 1; 32]))
                .collect(),
            terminal: Terminal::Leaf {
                key: Hash256([0xff; 32]),
                value: Hash256([0xfe; 32]),
            },
        },
        record: Some(StateRecord::Did(DidRecord {
            document_hash: Hash256([3; 32]),
            item_id: Hash256([4; 32]),
            height: u64::MAX,
        })),
    };
    assert!(encode_answer(&answer).encoded_len() <= MAX_STATE_ANSWER_WIRE_BYTES);
    round_trip(SyncResponse::StateProof(Some(Box::new(answer))));
}

#[test]
fn too_many_siblings_are_rejected_even_across_merged_occurrences() {
    let too_many = DecodeError::TooMany {
        what: "state proof siblings",
        max: MAX_PROOF_DEPTH,
    };
    let over = pb::StateAnswer {
        siblings: siblings(MAX_PROOF_DEPTH + 1, 32),
        ..Default::default()
    };
    assert_eq!(decode(&wire(over)), Err(too_many.clone().into()));
    // Two answers within the cap each, which prost would merge into one over it.
    let half = pb::StateAnswer {
        siblings: siblings(MAX_PROOF_DEPTH / 2 + 1, 32),
        ..Default::default()
    };
    let mut bytes = wire(half.clone());
    bytes.extend(wire(half));
    assert_eq!(decode(&bytes), Err(too_many.into()));
}

#[test]
fn siblings_of_other_lengths_are_rejected() {
    for len in [0, 1, 31, 33, 64] {
        let mut list = siblings(3, 32);
        list[1] = vec![9; len];
        let answer = pb::StateAnswer {
            siblings: list,
            ..Default::default()
        };
        assert_eq!(
            decode(&wire(answer)),
            Err(DecodeError::BadLength {
                field: "state_answer.siblings",
                expected: 32,
                actual: len
            }
            .into()),
            "a sibling of {len} bytes"
        );
    }
}

#[test]
fn bad_records_are_rejected() {
    let with_record = |record: Vec<u8>| pb::StateAnswer {
        leaf: Some(pb::StateLeaf {
            key: vec![1; 32],
            value: vec![2; 32],
        }),
        record: Some(record),
        ..Default::default()
    };
    // An unknown tag, a revocation of the DID record's length, nothing at all.
    let mut unknown_tag = revocation(1).encode();
    unknown_tag[0] = 3;
    let mut long_revocation = revocation(1).encode();
    long_revocation.resize(DID_RECORD_BYTES, 0);
    for record in [unknown_tag, long_revocation, Vec::new()] {
        let len = record.len();
        assert_eq!(
            decode(&wire(with_record(record))),
            Err(SyncDecodeError::BadStateRecord(RecordDecodeError { len }))
        );
    }
    assert_eq!(
        decode(&wire(with_record(vec![2; DID_RECORD_BYTES + 1]))),
        Err(DecodeError::TooLarge {
            what: "state record",
            limit: DID_RECORD_BYTES,
            actual: DID_RECORD_BYTES + 1
        }
        .into())
    );
    assert_eq!(
        SyncDecodeError::BadStateRecord(RecordDecodeError { len: 0 }).code(),
        "bad_state_record"
    );
}

#[test]
fn bad_leaves_are_rejected() {
    let with_leaf = |key: Vec<u8>, value: Vec<u8>| pb::StateAnswer {
        leaf: Some(pb::StateLeaf { key, value }),
        ..Default::default()
    };
    let bad_length = |field, actual| {
        Err(DecodeError::BadLength {
            field,
            expected: 32,
            actual,
        }
        .into())
    };
    assert_eq!(
        decode(&wire(with_leaf(vec![1; 31], vec![2; 32]))),
        bad_length("state_leaf.key", 31)
    );
    assert_eq!(
        decode(&wire(with_leaf(vec![1; 32], Vec::new()))),
        bad_length("state_leaf.value", 0)
    );
    assert_eq!(
        decode(&wire(with_leaf(vec![1; 32], vec![2; 64]))),
        Err(DecodeError::TooLarge {
            what: "state leaf",
            limit: LEAF_WIRE_BYTES,
            actual: 100
        }
        .into())
    );
}

#[test]
fn an_oversized_answer_is_rejected_before_decoding() {
    // Within the sibling cap by count, but padded with an unknown field past the answer cap.
    let mut answer = pb::StateAnswer {
        siblings: siblings(4, 32),
        ..Default::default()
    }
    .encode_to_vec();
    // Field 15, length-delimited, 10,000 bytes.
    answer.extend([0x7a, 0x90, 0x4e]);
    answer.extend(vec![0u8; 10_000]);
    let response = {
        let mut inner = vec![0x0a];
        push_varint(&mut inner, answer.len());
        inner.extend(&answer);
        let mut outer = vec![0x32];
        push_varint(&mut outer, inner.len());
        outer.extend(inner);
        outer
    };
    assert_eq!(
        decode(&response),
        Err(DecodeError::TooLarge {
            what: "state answer in a response",
            limit: MAX_STATE_ANSWER_WIRE_BYTES,
            actual: answer.len()
        }
        .into())
    );
}

fn push_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push(u8::try_from(v & 0x7f).unwrap_or(0) | 0x80);
        v >>= 7;
    }
    out.push(u8::try_from(v).unwrap_or(0));
}
