//! Codec tests over in-memory async buffers.

use std::io;

use ed25519_dalek::SigningKey;
use futures::executor::block_on;
use futures::io::Cursor;
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;

use super::*;
use crate::codec::{Ack, AckStatus};
use crate::envelope::{Envelope, MessageId, SealedParts};
use crate::error::EnvelopeError;
use crate::mailbox::{Acked, DepositStatus, Page};

fn proto() -> StreamProtocol {
    StreamProtocol::new("/talos/local/msg/1.0.0")
}

fn envelope(n: u8) -> Envelope {
    Envelope::seal(
        &SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]).verifying_key(),
        MessageId([n; 16]),
        1_700_000_000_000,
        SealedParts {
            header: vec![7; 69],
            ciphertext: vec![9; 32],
            handshake: None,
        },
    )
    .expect("sealed")
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut bytes = u32::try_from(payload.len())
        .expect("len")
        .to_be_bytes()
        .to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

/// A bare length prefix announcing `len` bytes, none of which follow.
fn prefix(len: usize) -> Vec<u8> {
    u32::try_from(len).expect("len").to_be_bytes().to_vec()
}

fn write_request<C: Codec<Protocol = StreamProtocol>>(codec: &mut C, r: C::Request) -> Vec<u8> {
    let mut wire = Cursor::new(Vec::new());
    block_on(codec.write_request(&proto(), &mut wire, r)).expect("write");
    wire.into_inner()
}

fn write_response<C: Codec<Protocol = StreamProtocol>>(codec: &mut C, r: C::Response) -> Vec<u8> {
    let mut wire = Cursor::new(Vec::new());
    block_on(codec.write_response(&proto(), &mut wire, r)).expect("write");
    wire.into_inner()
}

fn read_request<C: Codec<Protocol = StreamProtocol>>(
    codec: &mut C,
    bytes: Vec<u8>,
) -> io::Result<C::Request> {
    block_on(codec.read_request(&proto(), &mut Cursor::new(bytes)))
}

fn read_response<C: Codec<Protocol = StreamProtocol>>(
    codec: &mut C,
    bytes: Vec<u8>,
) -> io::Result<C::Response> {
    block_on(codec.read_response(&proto(), &mut Cursor::new(bytes)))
}

#[test]
fn msg_requests_and_responses_round_trip() {
    let mut codec = MsgCodec;
    for request in [MsgRequest::Deliver(vec![envelope(3)]), MsgRequest::Prekeys] {
        let wire = write_request(&mut codec, request.clone().into());
        assert_eq!(
            read_request(&mut codec, wire).expect("read"),
            InboundMsgRequest::Valid(request)
        );
    }
    let responses = [
        MsgResponse::Acks(vec![Ack {
            message_id: MessageId([3; 16]),
            status: AckStatus::Accepted,
        }]),
        MsgResponse::Acks(vec![Ack {
            message_id: MessageId([4; 16]),
            status: AckStatus::Busy,
        }]),
        MsgResponse::Prekeys(vec![1, 2, 3]),
    ];
    for response in responses {
        let wire = write_response(&mut codec, response.clone().into());
        assert_eq!(
            read_response(&mut codec, wire).expect("read"),
            InboundMsgResponse::Valid(response)
        );
    }
}

#[test]
fn mailbox_requests_and_responses_round_trip() {
    let mut codec = MailboxCodec;
    let requests = [
        MailboxRequest::Deposit(Box::new(envelope(5))),
        MailboxRequest::Fetch {
            cursor: 7,
            limit: 64,
        },
        MailboxRequest::Acknowledge(vec![Acked {
            sender: [1; 32],
            message_id: MessageId([5; 16]),
        }]),
    ];
    for request in requests {
        let wire = write_request(&mut codec, request.clone().into());
        assert_eq!(
            read_request(&mut codec, wire).expect("read"),
            InboundMailboxRequest::Valid(request)
        );
    }
    let responses = [
        MailboxResponse::Deposit {
            message_id: MessageId([5; 16]),
            status: DepositStatus::Stored,
        },
        MailboxResponse::Page(Page {
            envelopes: vec![envelope(6), envelope(7)],
            next_cursor: 9,
            more: true,
        }),
        MailboxResponse::Acknowledged(1),
    ];
    for response in responses {
        let wire = write_response(&mut codec, response.clone().into());
        assert_eq!(
            read_response(&mut codec, wire).expect("read"),
            InboundMailboxResponse::Valid(response)
        );
    }
}

#[test]
fn several_frames_on_one_stream_stay_separate() {
    let mut codec = MsgCodec;
    let a = MsgRequest::Prekeys;
    let b = MsgRequest::Deliver(vec![envelope(8)]);
    let mut wire = write_request(&mut codec, a.clone().into());
    wire.extend(write_request(&mut codec, b.clone().into()));
    let mut reader = Cursor::new(wire);
    let first = block_on(codec.read_request(&proto(), &mut reader)).expect("a");
    let second = block_on(codec.read_request(&proto(), &mut reader)).expect("b");
    assert_eq!(first, InboundMsgRequest::Valid(a));
    assert_eq!(second, InboundMsgRequest::Valid(b));
}

#[test]
fn over_cap_lengths_are_invalid_values_read_from_the_prefix_alone() {
    // Nothing follows the prefix: had the codec tried to read the payload, it would fail.
    let msg = read_request(&mut MsgCodec, prefix(MAX_MSG_FRAME_BYTES + 1)).expect("a value");
    assert_eq!(
        msg,
        InboundMsgRequest::Invalid(DecodeError::TooLarge {
            what: "msg request",
            len: MAX_MSG_FRAME_BYTES + 1,
            max: MAX_MSG_FRAME_BYTES,
        })
    );
    let mailbox = read_request(
        &mut MailboxCodec,
        prefix(usize::try_from(u32::MAX).unwrap()),
    )
    .expect("a value");
    assert!(
        matches!(mailbox, InboundMailboxRequest::Invalid(DecodeError::TooLarge { max, .. }) if max == MAX_MAILBOX_FRAME_BYTES),
        "{mailbox:?}"
    );
    let response = read_response(&mut MsgCodec, prefix(MAX_MSG_FRAME_BYTES + 1)).expect("a value");
    assert!(
        matches!(
            response,
            InboundMsgResponse::Invalid(DecodeError::TooLarge {
                what: "msg response",
                ..
            })
        ),
        "{response:?}"
    );
    let response =
        read_response(&mut MailboxCodec, prefix(MAX_MAILBOX_FRAME_BYTES + 1)).expect("a value");
    assert!(
        matches!(
            response,
            InboundMailboxResponse::Invalid(DecodeError::TooLarge { .. })
        ),
        "{response:?}"
    );
}

#[test]
fn a_frame_at_the_cap_is_read_and_judged_by_the_decoder() {
    let junk = vec![0xff; MAX_MSG_FRAME_BYTES];
    let read = read_request(&mut MsgCodec, frame(&junk)).expect("a value");
    assert!(
        matches!(
            read,
            InboundMsgRequest::Invalid(DecodeError::Malformed { .. })
        ),
        "{read:?}"
    );
}

#[test]
fn junk_within_the_cap_is_an_invalid_value() {
    for junk in [vec![0xff; 12], vec![0x0a, 0x05, 1, 2], Vec::new()] {
        let msg = read_request(&mut MsgCodec, frame(&junk)).expect("a value");
        assert!(matches!(msg, InboundMsgRequest::Invalid(_)), "{msg:?}");
        let response = read_response(&mut MsgCodec, frame(&junk)).expect("a value");
        assert!(
            matches!(response, InboundMsgResponse::Invalid(_)),
            "{response:?}"
        );
        let mailbox = read_request(&mut MailboxCodec, frame(&junk)).expect("a value");
        assert!(
            matches!(mailbox, InboundMailboxRequest::Invalid(_)),
            "{mailbox:?}"
        );
        let page = read_response(&mut MailboxCodec, frame(&junk)).expect("a value");
        assert!(
            matches!(page, InboundMailboxResponse::Invalid(_)),
            "{page:?}"
        );
    }
}

#[test]
fn a_tampered_envelope_is_an_invalid_request() {
    let mut wire = write_request(&mut MsgCodec, MsgRequest::Deliver(vec![envelope(9)]).into());
    // Flip one ciphertext byte (the run of 9s): the signature no longer verifies.
    let at = wire
        .windows(32)
        .position(|w| w.iter().all(|b| *b == 9))
        .expect("ciphertext");
    wire[at] ^= 1;
    assert_eq!(
        read_request(&mut MsgCodec, wire).expect("a value"),
        InboundMsgRequest::Invalid(DecodeError::Envelope(EnvelopeError::BadSignature))
    );
}

#[test]
fn a_stream_ending_inside_a_frame_is_an_io_error() {
    let mut wire = write_request(&mut MsgCodec, MsgRequest::Prekeys.into());
    wire.pop();
    assert!(read_request(&mut MsgCodec, wire).is_err());
    assert!(read_request(&mut MsgCodec, vec![0, 0]).is_err());
    assert!(read_response(&mut MailboxCodec, Vec::new()).is_err());
}

#[test]
fn invalid_values_are_never_written() {
    let invalid = DecodeError::Empty("msg request");
    let mut wire = Cursor::new(Vec::new());
    let sent = block_on(MsgCodec.write_request(
        &proto(),
        &mut wire,
        InboundMsgRequest::Invalid(invalid.clone()),
    ));
    assert_eq!(
        sent.expect_err("refused").kind(),
        io::ErrorKind::InvalidInput
    );
    let sent = block_on(MailboxCodec.write_response(
        &proto(),
        &mut wire,
        InboundMailboxResponse::Invalid(invalid),
    ));
    assert!(sent.is_err());
    assert!(wire.into_inner().is_empty(), "nothing was written");
}
