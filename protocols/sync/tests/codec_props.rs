//! Property tests of the sync codec: every encodable message round-trips, and no byte string
//! makes a decoder panic.

use proptest::prelude::*;
use talos_chain::chain_state::{DidRecord, RevocationRecord, StateAnswer, StateRecord};
use talos_chain::state::{MAX_PROOF_DEPTH, StateProof, Terminal};
use talos_chain::testkit::strategies::{self as testkit, hash, header, status};
use talos_chain::{Block, ItemProof, NetworkSpec, SignedItem};
use talos_sync::limits::{
    MAX_BLOCKS_PER_RESPONSE, MAX_ERROR_MESSAGE_BYTES, MAX_HASHES_PER_REQUEST,
    MAX_HEADERS_PER_RESPONSE,
};
use talos_sync::{
    ErrorCode, SyncRequest, SyncResponse, decode_request, decode_response, encode_request,
    encode_response,
};

const TEXT: usize = 24;

fn block() -> impl Strategy<Value = Block> {
    testkit::block(5, TEXT)
}

fn item_proof() -> impl Strategy<Value = ItemProof> {
    testkit::any_item_proof(TEXT)
}

fn state_record() -> impl Strategy<Value = StateRecord> {
    prop_oneof![
        (hash(), any::<u64>()).prop_map(|(item_id, height)| StateRecord::Revocation(
            RevocationRecord { item_id, height }
        )),
        (hash(), hash(), any::<u64>()).prop_map(|(document_hash, item_id, height)| {
            StateRecord::Did(DidRecord {
                document_hash,
                item_id,
                height,
            })
        }),
    ]
}

/// Structurally valid answers (whether they verify is not the codec's business).
fn state_answer() -> impl Strategy<Value = StateAnswer> {
    let terminal = prop_oneof![
        Just(Terminal::Empty),
        (hash(), hash()).prop_map(|(key, value)| Terminal::Leaf { key, value }),
    ];
    (
        proptest::collection::vec(hash(), 0..=MAX_PROOF_DEPTH),
        terminal,
        proptest::option::of(state_record()),
    )
        .prop_map(|(siblings, terminal, record)| StateAnswer {
            proof: StateProof { siblings, terminal },
            record,
        })
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        Just(ErrorCode::BadRequest),
        Just(ErrorCode::Busy),
        Just(ErrorCode::WrongNetwork),
        Just(ErrorCode::NotFound),
        Just(ErrorCode::RateLimited),
        Just(ErrorCode::Internal),
        "x_[a-z_]{0,40}".prop_map(ErrorCode::Other),
    ]
}

fn request() -> impl Strategy<Value = SyncRequest> {
    prop_oneof![
        status().prop_map(SyncRequest::Status),
        (
            0..=u64::MAX - u64::from(MAX_HEADERS_PER_RESPONSE),
            1..=MAX_HEADERS_PER_RESPONSE
        )
            .prop_map(|(start_height, count)| SyncRequest::HeadersByRange {
                start_height,
                count
            }),
        (
            0..=u64::MAX - u64::from(MAX_BLOCKS_PER_RESPONSE),
            1..=MAX_BLOCKS_PER_RESPONSE
        )
            .prop_map(|(start_height, count)| SyncRequest::BlocksByRange {
                start_height,
                count
            }),
        proptest::collection::vec(hash(), 1..=MAX_HASHES_PER_REQUEST)
            .prop_map(SyncRequest::BlocksByHash),
        hash().prop_map(SyncRequest::Proof),
        (hash(), hash()).prop_map(|(block, key)| SyncRequest::StateProof { block, key }),
    ]
}

fn response() -> impl Strategy<Value = SyncResponse> {
    prop_oneof![
        status().prop_map(SyncResponse::Status),
        proptest::collection::vec(header(), 0..40).prop_map(SyncResponse::Headers),
        proptest::collection::vec(block(), 0..4).prop_map(SyncResponse::Blocks),
        proptest::option::of(item_proof().prop_map(Box::new)).prop_map(SyncResponse::Proof),
        proptest::option::of(state_answer().prop_map(Box::new)).prop_map(SyncResponse::StateProof),
        (
            error_code(),
            proptest::string::string_regex(&format!("\\PC{{0,{}}}", MAX_ERROR_MESSAGE_BYTES / 4))
                .unwrap_or_else(|e| panic!("{e}"))
        )
            .prop_map(|(code, message)| SyncResponse::Error { code, message }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn requests_round_trip(request in request()) {
        let bytes = encode_request(&request);
        prop_assert_eq!(decode_request(&bytes), Ok(request));
    }

    #[test]
    fn responses_round_trip(response in response()) {
        let limits = NetworkSpec::local().limits;
        let bytes = encode_response(&response);
        let decoded = decode_response(&bytes, &limits);
        prop_assert_eq!(&decoded, &Ok(response.clone()));
        if let (Ok(SyncResponse::Blocks(decoded)), SyncResponse::Blocks(blocks)) =
            (decoded, response)
        {
            for (a, b) in blocks.iter().zip(&decoded) {
                prop_assert_eq!(a.id(), b.id());
                let ids = |b: &Block| b.items.iter().map(SignedItem::id).collect::<Vec<_>>();
                prop_assert_eq!(ids(a), ids(b));
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let limits = NetworkSpec::local().limits;
        if let Ok(request) = decode_request(&bytes) {
            prop_assert_eq!(decode_request(&encode_request(&request)), Ok(request));
        }
        if let Ok(response) = decode_response(&bytes, &limits) {
            prop_assert_eq!(decode_response(&encode_response(&response), &limits), Ok(response));
        }
    }

    #[test]
    fn mutated_encodings_never_panic(
        request in request(),
        response in response(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let limits = NetworkSpec::local().limits;
        let mut req = encode_request(&request);
        let mut resp = encode_response(&response);
        for (at, byte) in flips {
            if !req.is_empty() {
                let i = at.index(req.len());
                req[i] = byte;
            }
            if !resp.is_empty() {
                let i = at.index(resp.len());
                resp[i] = byte;
            }
        }
        if let Err(e) = decode_request(&req) {
            prop_assert!(!e.code().is_empty());
        }
        if let Err(e) = decode_response(&resp, &limits) {
            prop_assert!(!e.code().is_empty());
        }
    }
}
