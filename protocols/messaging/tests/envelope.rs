//! Envelopes on the wire: round trips, every refusal, and decoders that never panic.

mod support;

use proptest::prelude::*;
use support::*;
use talos_messaging::codec::{MailboxRequest, MailboxResponse, MsgRequest, MsgResponse};
use talos_messaging::limits::{MAX_ACK_IDS, MAX_ENVELOPE_BYTES, MAX_HEADER_BYTES};
use talos_messaging::{
    Ack, AckStatus, Acked, DecodeError, DepositStatus, Envelope, EnvelopeError, Page, SealedParts,
    decode_envelope, decode_mailbox_request, decode_mailbox_response, decode_msg_request,
    decode_msg_response, encode_envelope, encode_mailbox_request, encode_mailbox_response,
    encode_msg_request, encode_msg_response,
};
use talos_proto::{Message, msg as pb};

fn wire(envelope: &Envelope) -> pb::Envelope {
    pb::Envelope::decode(encode_envelope(envelope).as_slice()).unwrap()
}

fn refused(w: &pb::Envelope) -> DecodeError {
    decode_envelope(&w.encode_to_vec()).unwrap_err()
}

#[test]
fn an_envelope_round_trips_with_its_signature_and_hash() {
    let mut parts = parts(300);
    parts.handshake = Some(vec![3; 100]);
    let e = Envelope::seal(&agent(1), agent(2).verifying_key(), id(5), 1_000, parts).unwrap();
    let back = decode_envelope(&encode_envelope(&e)).unwrap();
    assert_eq!(back, e);
    assert_eq!(back.hash(), e.hash());
    assert_eq!(
        back.sender_did(),
        talos_identity::did_key(&agent(1).verifying_key())
    );
    assert!(back.recipient_did().starts_with("did:key:z6Mk"));
    // The hash commits to everything, the signature included.
    let other = Envelope::seal(
        &agent(1),
        agent(2).verifying_key(),
        id(6),
        1_000,
        parts_of(&e),
    )
    .unwrap();
    assert_ne!(other.hash(), e.hash());
}

fn parts_of(e: &Envelope) -> SealedParts {
    e.parts().clone()
}

#[test]
fn every_tampered_field_breaks_the_signature() {
    let e = envelope(1, 2, 1, 5_000);
    let base = wire(&e);
    let tampered: Vec<(&str, pb::Envelope)> = vec![
        (
            "header",
            pb::Envelope {
                header: vec![8; 72],
                ..base.clone()
            },
        ),
        (
            "ciphertext",
            pb::Envelope {
                ciphertext: vec![1; 100],
                ..base.clone()
            },
        ),
        (
            "timestamp",
            pb::Envelope {
                timestamp_ms: 5_001,
                ..base.clone()
            },
        ),
        (
            "message id",
            pb::Envelope {
                message_id: id(2).0.to_vec(),
                ..base.clone()
            },
        ),
        (
            "handshake",
            pb::Envelope {
                handshake: vec![1],
                ..base.clone()
            },
        ),
        (
            "recipient",
            pb::Envelope {
                recipient: talos_identity::did_key(&agent(3).verifying_key()),
                ..base.clone()
            },
        ),
        (
            "sender",
            pb::Envelope {
                sender: talos_identity::did_key(&agent(3).verifying_key()),
                ..base.clone()
            },
        ),
    ];
    for (what, w) in tampered {
        assert_eq!(
            refused(&w),
            DecodeError::Envelope(EnvelopeError::BadSignature),
            "{what}"
        );
    }
}

#[test]
fn malformed_fields_are_refused_with_their_reason() {
    let base = wire(&envelope(1, 2, 1, 5_000));
    let code = |w: pb::Envelope| refused(&w).code();
    assert_eq!(
        code(pb::Envelope {
            version: 2,
            ..base.clone()
        }),
        "unsupported_version"
    );
    assert_eq!(
        code(pb::Envelope {
            sender: "did:web:x".into(),
            ..base.clone()
        }),
        "bad_did"
    );
    assert_eq!(
        code(pb::Envelope {
            recipient: "x".repeat(200),
            ..base.clone()
        }),
        "field_too_large"
    );
    assert_eq!(
        code(pb::Envelope {
            message_id: vec![1; 15],
            ..base.clone()
        }),
        "bad_message_id"
    );
    assert_eq!(
        code(pb::Envelope {
            signature: vec![1; 63],
            ..base.clone()
        }),
        "bad_signature"
    );
    let header = vec![0; MAX_HEADER_BYTES + 1];
    assert_eq!(
        code(pb::Envelope {
            header,
            ..base.clone()
        }),
        "field_too_large"
    );
    let me = base.sender.clone();
    assert_eq!(
        code(pb::Envelope {
            recipient: me,
            ..base.clone()
        }),
        "self_addressed"
    );
    let huge = vec![0; MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        decode_envelope(&huge),
        Err(DecodeError::TooLarge { .. })
    ));
    assert_eq!(
        decode_envelope(&[0xff; 10]).unwrap_err().code(),
        "malformed"
    );
}

#[test]
fn sealing_refuses_what_decoding_would() {
    let me = agent(1);
    let err = Envelope::seal(&me, me.verifying_key(), id(1), 0, parts(1)).unwrap_err();
    assert_eq!(err, EnvelopeError::SelfAddressed);
    let mut big = parts(1);
    big.header = vec![0; MAX_HEADER_BYTES + 1];
    let err = Envelope::seal(&me, agent(2).verifying_key(), id(1), 0, big).unwrap_err();
    assert!(matches!(
        err,
        EnvelopeError::FieldTooLarge {
            field: "header",
            ..
        }
    ));
}

#[test]
fn every_protocol_message_round_trips() {
    let e = envelope(1, 2, 9, 100);
    for r in [MsgRequest::Deliver(vec![e.clone()]), MsgRequest::Prekeys] {
        assert_eq!(decode_msg_request(&encode_msg_request(&r)).unwrap(), r);
    }
    for r in [
        MsgResponse::Acks(vec![Ack {
            message_id: id(9),
            status: AckStatus::Undecryptable,
        }]),
        MsgResponse::Prekeys(vec![1, 2, 3]),
    ] {
        assert_eq!(decode_msg_response(&encode_msg_response(&r)).unwrap(), r);
    }
    for r in [
        MailboxRequest::Deposit(Box::new(e.clone())),
        MailboxRequest::Fetch {
            cursor: 7,
            limit: 10,
        },
        MailboxRequest::Acknowledge(vec![
            Acked {
                sender: [1; 32],
                message_id: id(1),
            },
            Acked {
                sender: [2; 32],
                message_id: id(2),
            },
        ]),
    ] {
        assert_eq!(
            decode_mailbox_request(&encode_mailbox_request(&r)).unwrap(),
            r
        );
    }
    let page = Page {
        envelopes: vec![e.clone(), envelope(3, 2, 1, 100)],
        next_cursor: 12,
        more: true,
    };
    for r in [
        MailboxResponse::Deposit {
            message_id: id(9),
            status: DepositStatus::SenderOverQuota,
        },
        MailboxResponse::Page(page),
        MailboxResponse::Acknowledged(3),
    ] {
        assert_eq!(
            decode_mailbox_response(&encode_mailbox_response(&r)).unwrap(),
            r
        );
    }
}

#[test]
fn hostile_protocol_messages_are_typed_errors() {
    let empty = pb::MsgRequest { request: None }.encode_to_vec();
    assert_eq!(
        decode_msg_request(&empty).unwrap_err(),
        DecodeError::Empty("msg request")
    );
    let acked = pb::AckedMessage {
        sender: vec![0; 32],
        message_id: vec![0; 16],
    };
    let messages = vec![acked; MAX_ACK_IDS + 1];
    let too_many = pb::MailboxRequest {
        request: Some(pb::mailbox_request::Request::Acknowledge(pb::Acknowledge {
            messages,
        })),
    };
    assert_eq!(
        decode_mailbox_request(&too_many.encode_to_vec())
            .unwrap_err()
            .code(),
        "too_many"
    );
    let status = pb::MsgResponse {
        response: Some(pb::msg_response::Response::Acks(pb::DeliverAcks {
            acks: vec![pb::DeliverAck {
                message_id: vec![0; 16],
                status: 99,
            }],
        })),
    };
    assert_eq!(
        decode_msg_response(&status.encode_to_vec())
            .unwrap_err()
            .code(),
        "unknown_status"
    );
    // A delivery of more envelopes than a batch may hold is refused before any is decoded,
    // and an empty one is refused.
    let one = encode_envelope(&envelope(1, 2, 1, 0));
    for (n, code) in [
        (talos_messaging::limits::MAX_DELIVER_BATCH + 1, "too_many"),
        (0, "empty"),
    ] {
        let deliver = pb::MsgRequest {
            request: Some(pb::msg_request::Request::Deliver(pb::Deliver {
                envelopes: vec![one.clone(); n],
            })),
        };
        assert_eq!(
            decode_msg_request(&deliver.encode_to_vec())
                .unwrap_err()
                .code(),
            code
        );
    }
    // A page whose envelope was tampered with is refused whole.
    let mut bad = wire(&envelope(1, 2, 1, 0));
    bad.ciphertext[0] ^= 1;
    let page = pb::MailboxResponse {
        response: Some(pb::mailbox_response::Response::Page(pb::Page {
            envelopes: vec![bad.encode_to_vec()],
            next_cursor: 1,
            more: false,
        })),
    };
    assert_eq!(
        decode_mailbox_response(&page.encode_to_vec())
            .unwrap_err()
            .code(),
        "bad_signature"
    );
    // A page of a million empty entries is refused before prost builds any of them.
    let page = pb::MailboxResponse {
        response: Some(pb::mailbox_response::Response::Page(pb::Page {
            envelopes: vec![Vec::new(); 1_000_000],
            next_cursor: 1,
            more: false,
        })),
    };
    let err = decode_mailbox_response(&page.encode_to_vec()).unwrap_err();
    assert!(
        matches!(err, DecodeError::TooMany { len: 1_000_000, .. }),
        "{err}"
    );
}

proptest! {
    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode_envelope(&bytes);
        let _ = decode_msg_request(&bytes);
        let _ = decode_msg_response(&bytes);
        let _ = decode_mailbox_request(&bytes);
        let _ = decode_mailbox_response(&bytes);
    }

    #[test]
    fn flipping_any_byte_of_an_envelope_is_refused_or_harmless(pos in 0usize..400, bit in 0u8..8) {
        let e = envelope(1, 2, 1, 0);
        let mut bytes = encode_envelope(&e);
        let pos = pos % bytes.len();
        bytes[pos] ^= 1 << bit;
        if let Ok(back) = decode_envelope(&bytes) {
            // Only a change protobuf ignores may still decode, and then to the same envelope.
            prop_assert_eq!(back, e);
        }
    }
}
