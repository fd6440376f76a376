//! Codec tests over in-memory async buffers.

use futures::executor::block_on;
use futures::io::Cursor;
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use talos_chain::{ChainStatus, Hash256, NetworkSpec, Work};

use super::*;
use crate::error::SyncDecodeError;
use crate::messages::ErrorCode;

fn codec() -> (SyncCodec, StreamProtocol) {
    let spec = NetworkSpec::local();
    let proto = StreamProtocol::try_from_owned(crate::protocol_id(&spec.name)).expect("name");
    (SyncCodec::new(spec.limits), proto)
}

fn status() -> ChainStatus {
    let spec = NetworkSpec::local();
    ChainStatus {
        network_id: spec.network_id,
        genesis_hash: spec.genesis_hash(),
        tip_hash: spec.genesis_hash(),
        tip_height: 0,
        cumulative_work: Work::from_be_slice(&[1, 2, 3]).expect("work"),
    }
}

fn request_round_trip(request: SyncRequest) -> InboundRequest {
    let (mut codec, proto) = codec();
    let mut wire = Cursor::new(Vec::new());
    block_on(codec.write_request(&proto, &mut wire, request.into())).expect("write");
    let mut reader = Cursor::new(wire.into_inner());
    block_on(codec.read_request(&proto, &mut reader)).expect("read")
}

fn response_round_trip(response: SyncResponse) -> InboundResponse {
    let (mut codec, proto) = codec();
    let mut wire = Cursor::new(Vec::new());
    block_on(codec.write_response(&proto, &mut wire, response.into())).expect("write");
    let mut reader = Cursor::new(wire.into_inner());
    block_on(codec.read_response(&proto, &mut reader)).expect("read")
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut bytes = u32::try_from(payload.len())
        .expect("len")
        .to_be_bytes()
        .to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

#[test]
fn protocol_id_carries_the_network() {
    assert_eq!(crate::protocol_id("local"), "/talos/local/sync/1.0.0");
    assert_eq!(crate::protocol_id("testnet"), "/talos/testnet/sync/1.0.0");
}

#[test]
fn requests_round_trip() {
    let requests = [
        SyncRequest::Status(status()),
        SyncRequest::HeadersByRange {
            start_height: 7,
            count: 2048,
        },
        SyncRequest::BlocksByRange {
            start_height: 1,
            count: 32,
        },
        SyncRequest::BlocksByHash(vec![Hash256([9; 32]), Hash256([8; 32])]),
        SyncRequest::Proof(Hash256([1; 32])),
    ];
    for request in requests {
        assert_eq!(
            request_round_trip(request.clone()),
            InboundRequest::Valid(request)
        );
    }
}

#[test]
fn responses_round_trip() {
    let spec = NetworkSpec::local();
    let genesis = spec.genesis();
    let responses = [
        SyncResponse::Status(status()),
        SyncResponse::Headers(vec![genesis.header, genesis.header]),
        SyncResponse::Blocks(vec![genesis.clone()]),
        SyncResponse::Blocks(Vec::new()),
        SyncResponse::Proof(None),
        SyncResponse::Error {
            code: ErrorCode::Busy,
            message: "later".into(),
        },
    ];
    for response in responses {
        assert_eq!(
            response_round_trip(response.clone()),
            InboundResponse::Valid(response)
        );
    }
}

#[test]
fn several_frames_on_one_stream_stay_separate() {
    let (mut codec, proto) = codec();
    let mut wire = Cursor::new(Vec::new());
    let a = SyncRequest::Proof(Hash256([1; 32]));
    let b = SyncRequest::BlocksByRange {
        start_height: 3,
        count: 4,
    };
    block_on(codec.write_request(&proto, &mut wire, a.clone().into())).expect("write a");
    block_on(codec.write_request(&proto, &mut wire, b.clone().into())).expect("write b");
    let mut reader = Cursor::new(wire.into_inner());
    assert_eq!(
        block_on(codec.read_request(&proto, &mut reader)).expect("a"),
        InboundRequest::Valid(a)
    );
    assert_eq!(
        block_on(codec.read_request(&proto, &mut reader)).expect("b"),
        InboundRequest::Valid(b)
    );
}

#[test]
fn over_cap_request_length_is_refused_before_reading_the_payload() {
    let (mut codec, proto) = codec();
    // Only the prefix is present: a codec that allocated and read would hit EOF instead.
    let len = u32::try_from(MAX_REQUEST_BYTES + 1).expect("fits");
    let mut reader = Cursor::new(len.to_be_bytes().to_vec());
    let request = block_on(codec.read_request(&proto, &mut reader)).expect("a value, not an error");
    match request {
        InboundRequest::Invalid(e) => assert_eq!(e.code(), "too_large"),
        other => panic!("expected Invalid(too_large), got {other:?}"),
    }
    assert_eq!(reader.position(), 4, "payload never read");
}

#[test]
fn over_cap_response_length_is_refused_before_reading_the_payload() {
    let (mut codec, proto) = codec();
    let max = codec.max_response_bytes();
    let mut reader = Cursor::new(u32::MAX.to_be_bytes().to_vec());
    let err = block_on(codec.read_response(&proto, &mut reader)).expect_err("over cap");
    assert_eq!(
        FrameTooLarge::from_io(&err).map(|e| e.max),
        Some(max),
        "{err}"
    );
    assert_eq!(reader.position(), 4);
}

#[test]
fn a_request_exactly_at_the_cap_is_read_then_judged() {
    let (mut codec, proto) = codec();
    // Junk of exactly the cap: read (allowed size), then reported as invalid, not an error.
    let mut reader = Cursor::new(frame(&vec![0xff; MAX_REQUEST_BYTES]));
    let got = block_on(codec.read_request(&proto, &mut reader)).expect("read");
    assert!(matches!(got, InboundRequest::Invalid(_)), "{got:?}");
}

#[test]
fn malformed_request_bytes_are_an_invalid_value_not_an_error() {
    let (mut codec, proto) = codec();
    let mut reader = Cursor::new(frame(&[0x0a, 0xff, 0xff]));
    let got = block_on(codec.read_request(&proto, &mut reader)).expect("read");
    assert!(
        matches!(got, InboundRequest::Invalid(SyncDecodeError::Wire(_))),
        "{got:?}"
    );
    // An empty payload decodes to a request without a kind.
    let mut reader = Cursor::new(frame(&[]));
    let got = block_on(codec.read_request(&proto, &mut reader)).expect("read");
    assert_eq!(
        got,
        InboundRequest::Invalid(SyncDecodeError::MissingKind("sync request"))
    );
}

#[test]
fn malformed_response_bytes_are_an_invalid_value_not_an_error() {
    let (mut codec, proto) = codec();
    let mut reader = Cursor::new(frame(&[0x12, 0x05, 0x01]));
    let got = block_on(codec.read_response(&proto, &mut reader)).expect("read");
    assert!(matches!(got, InboundResponse::Invalid(_)), "{got:?}");
    // A zero-count range request is well-formed protobuf but breaks the sync rules.
    let bad = crate::encode_request(&SyncRequest::BlocksByRange {
        start_height: 1,
        count: 0,
    });
    let mut reader = Cursor::new(frame(&bad));
    let got = block_on(codec.read_request(&proto, &mut reader)).expect("read");
    assert!(
        matches!(got, InboundRequest::Invalid(SyncDecodeError::ZeroCount(_))),
        "{got:?}"
    );
}

#[test]
fn truncated_frames_are_io_errors() {
    let (mut codec, proto) = codec();
    let mut reader = Cursor::new(vec![0, 0]);
    let err = block_on(codec.read_request(&proto, &mut reader)).expect_err("short prefix");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    let mut bytes = frame(&[1, 2, 3, 4]);
    bytes.truncate(6);
    let mut reader = Cursor::new(bytes);
    let err = block_on(codec.read_response(&proto, &mut reader)).expect_err("short body");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn invalid_values_cannot_be_written() {
    let (mut codec, proto) = codec();
    let mut wire = Cursor::new(Vec::new());
    let err = block_on(codec.write_request(
        &proto,
        &mut wire,
        InboundRequest::Invalid(SyncDecodeError::MissingKind("x")),
    ))
    .expect_err("refused");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(wire.into_inner().is_empty());
}

#[test]
fn write_frame_refuses_payloads_over_the_cap() {
    let mut wire = Cursor::new(Vec::new());
    let err = block_on(write_frame(&mut wire, &[0; 10], 9)).expect_err("over cap");
    assert_eq!(FrameTooLarge::from_io(&err).map(|e| e.len), Some(10));
    assert!(wire.into_inner().is_empty());
}

#[test]
fn a_frame_shorter_than_its_claim_is_an_eof_and_reserves_only_what_arrived() {
    // 15 MiB claimed (within the response cap), 10 bytes sent: the reader must not sit on a
    // 15 MiB buffer for bytes that never come.
    let mut bytes = (15u32 << 20).to_be_bytes().to_vec();
    bytes.extend_from_slice(&[0u8; 10]);
    let mut reader = Cursor::new(bytes);
    let error = block_on(read_frame(&mut reader, 16 << 20)).expect_err("short frame");
    assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    let whole = frame(b"exactly this");
    let mut reader = Cursor::new(whole);
    assert_eq!(
        block_on(read_frame(&mut reader, 1 << 10)).expect("whole frame"),
        b"exactly this"
    );
}
