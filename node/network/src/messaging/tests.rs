//! The messaging books and the policy of messaging offences, without a swarm.

use libp2p::request_response::{self, ProtocolSupport};
use libp2p::{StreamProtocol, kad};
use talos_messaging::rr_codec::{InboundMsgRequest, MsgCodec};
use talos_messaging::{DecodeError, EnvelopeError};

use super::*;
use crate::policy::{Offence, Penalty};

/// A behaviour that hands out request ids (nothing is sent without a swarm).
fn ids() -> request_response::Behaviour<MsgCodec> {
    request_response::Behaviour::with_codec(
        MsgCodec,
        [(StreamProtocol::new("/t/msg"), ProtocolSupport::Full)],
        request_response::Config::default(),
    )
}

fn request_id(
    behaviour: &mut request_response::Behaviour<MsgCodec>,
    peer: PeerId,
) -> libp2p::request_response::OutboundRequestId {
    behaviour.send_request(&peer, InboundMsgRequest::Valid(MsgRequest::Prekeys))
}

fn outgoing() -> (Outgoing, oneshot::Receiver<MsgResult>) {
    let (tx, rx) = oneshot::channel();
    (Outgoing::Msg(MsgRequest::Prekeys, tx), rx)
}

fn addr() -> Multiaddr {
    "/ip4/127.0.0.1/tcp/4001".parse().expect("addr")
}

#[test]
fn failures_have_stable_codes_and_map_from_the_transport() {
    assert_eq!(
        MessagingFailure::from(&OutboundFailure::DialFailure),
        MessagingFailure::Unreachable
    );
    assert_eq!(
        MessagingFailure::from(&OutboundFailure::UnsupportedProtocols).code(),
        "unsupported"
    );
    let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
    assert_eq!(
        MessagingFailure::from(&OutboundFailure::Io(eof)),
        MessagingFailure::Closed
    );
    assert_eq!(
        MessagingFailure::from(&OutboundFailure::Timeout).code(),
        "timeout"
    );
    assert_eq!(
        MessagingFailure::Malformed(DecodeError::Empty("msg response")).code(),
        "malformed"
    );
    assert_eq!(
        MessagingFailure::TooManyInFlight.code(),
        "too_many_in_flight"
    );
}

#[test]
fn bad_messaging_frames_cost_like_bad_sync_frames_newer_versions_nothing() {
    let malformed = DecodeError::Malformed {
        what: "msg request",
        reason: "junk".into(),
    };
    let request = Offence::BadMessagingRequest(malformed.clone());
    assert_eq!(request.penalty(), Penalty::Score(25));
    assert_eq!(request.code(), "bad_messaging_request");
    assert_eq!(request.detail(), "malformed");
    let response = Offence::BadMessagingResponse(malformed);
    assert_eq!(response.penalty(), Penalty::Score(50));
    assert_eq!(response.code(), "bad_messaging_response");
    let forged = Offence::BadMessagingRequest(DecodeError::Envelope(EnvelopeError::BadSignature));
    assert_eq!(forged.penalty(), Penalty::Score(25));
    let too_large = Offence::BadMessagingRequest(DecodeError::TooLarge {
        what: "msg request",
        len: 1 << 20,
        max: 1 << 10,
    });
    assert_eq!(too_large.penalty(), Penalty::Score(25));
    for newer in [
        DecodeError::Envelope(EnvelopeError::UnsupportedVersion(2)),
        DecodeError::UnknownStatus {
            what: "ack",
            code: 9,
        },
    ] {
        assert_eq!(
            Offence::BadMessagingResponse(newer).penalty(),
            Penalty::None
        );
    }
}

#[test]
fn a_disconnected_peer_gets_one_request_then_its_window_once_connected() {
    let mut book = OutboundBook::default();
    let mut rr = ids();
    let peer = PeerId::random();
    let mut replies = Vec::new();
    for _ in 0..MAX_OUTBOUND_PER_PEER + 10 {
        let (o, rx) = outgoing();
        book.enqueue(peer, vec![addr()], o).expect("room");
        replies.push(rx);
    }
    // Not connected, an address given: one request carries the dial.
    let Next::Send { outgoing, addrs } = book.next(peer, false, false) else {
        panic!("one request dials");
    };
    assert_eq!(addrs, vec![addr()]);
    let Outgoing::Msg(_, reply) = outgoing else {
        panic!("a msg request");
    };
    book.sent_msg(peer, request_id(&mut rr, peer), reply);
    assert!(matches!(book.next(peer, false, false), Next::Wait));
    // Connected: up to the window, without addresses.
    let mut sent = 1;
    while let Next::Send { addrs, .. } = book.next(peer, true, true) {
        assert!(addrs.is_empty());
        sent += 1;
    }
    assert_eq!(sent, MAX_OUTBOUND_PER_PEER);
    assert_eq!(book.len(), MAX_OUTBOUND_PER_PEER + 10);
}

#[test]
fn a_peer_without_any_address_is_looked_up_once() {
    let mut book = OutboundBook::default();
    let peer = PeerId::random();
    let (o, _rx) = outgoing();
    book.enqueue(peer, Vec::new(), o).expect("room");
    assert!(matches!(book.next(peer, false, false), Next::Lookup));
    let mut kad = kad::Behaviour::new(PeerId::random(), kad::store::MemoryStore::new(peer));
    let query = kad.get_closest_peers(peer);
    book.looking_up(peer, query);
    assert_eq!(book.lookup_of(&query), Some(peer));
    assert!(matches!(book.next(peer, false, false), Next::Wait));
    assert_eq!(book.lookup_done(&query, vec![addr()]), Some(peer));
    match book.next(peer, false, false) {
        Next::Send { addrs, .. } => assert_eq!(addrs, vec![addr()]),
        other => panic!("{other:?}"),
    }
    // Connected while its lookup runs: sent at once.
    let dialer = PeerId::random();
    let (o, _rx) = outgoing();
    book.enqueue(dialer, Vec::new(), o).expect("room");
    assert!(matches!(book.next(dialer, false, false), Next::Lookup));
    book.looking_up(dialer, kad.get_closest_peers(dialer));
    assert!(matches!(book.next(dialer, true, true), Next::Send { .. }));
    // Known to a behaviour (Kademlia's table): no lookup.
    let other = PeerId::random();
    let (o, _rx) = outgoing();
    book.enqueue(other, Vec::new(), o).expect("room");
    assert!(matches!(book.next(other, false, true), Next::Send { .. }));
}

#[tokio::test]
async fn an_unreachable_peer_fails_its_queue_and_the_total_is_bounded() {
    let mut book = OutboundBook::default();
    let mut rr = ids();
    let peer = PeerId::random();
    let mut replies = Vec::new();
    for _ in 0..MAX_OUTBOUND_IN_FLIGHT {
        let (o, rx) = outgoing();
        book.enqueue(peer, vec![addr()], o).expect("room");
        replies.push(rx);
    }
    let (o, mut refused) = outgoing();
    let Err(o) = book.enqueue(PeerId::random(), Vec::new(), o) else {
        panic!("over the total");
    };
    o.fail(MessagingFailure::TooManyInFlight);
    assert_eq!(
        refused.try_recv().expect("replied"),
        Err(MessagingFailure::TooManyInFlight)
    );
    let Next::Send {
        outgoing: Outgoing::Msg(_, reply),
        ..
    } = book.next(peer, false, false)
    else {
        panic!("dial");
    };
    let id = request_id(&mut rr, peer);
    book.sent_msg(peer, id, reply);
    let (_, reply) = book.take_msg(&id).expect("in flight");
    let _ = reply.send(Err(MessagingFailure::Unreachable));
    for queued in book.take_queued(&peer) {
        queued.fail(MessagingFailure::Unreachable);
    }
    assert_eq!(book.len(), 0);
    assert!(book.has(&peer));
    assert!(matches!(book.next(peer, false, false), Next::Wait));
    assert!(!book.has(&peer), "an idle peer is forgotten");
    for mut rx in replies {
        assert_eq!(
            rx.try_recv().expect("replied"),
            Err(MessagingFailure::Unreachable)
        );
    }
}

/// A stand-in for the channel of an inbound request.
fn answer(_: Option<MsgResponse>) -> Answer {
    unreachable!("not awaited in these tests")
}

#[tokio::test]
async fn inbound_requests_are_bounded_per_peer_and_by_the_queue() {
    let peer = PeerId::random();
    let request = |respond| InboundMessaging::Msg {
        peer,
        request: MsgRequest::Prekeys,
        respond,
    };
    let mut none = InboundBook::new(None);
    assert_eq!(none.forward(peer, request, answer), Err("no_agent"));

    let (tx, mut rx) = mpsc::channel(MAX_INBOUND_PER_PEER + 2);
    let mut book = InboundBook::new(Some(tx));
    for _ in 0..MAX_INBOUND_PER_PEER {
        book.forward(peer, request, answer).expect("room");
    }
    assert_eq!(book.forward(peer, request, answer), Err("peer_limit"));
    book.answered(&peer);
    book.forward(peer, request, answer).expect("room again");
    // Another peer fills the queue's last place, then finds it full.
    let other = PeerId::random();
    let other_request = |respond| InboundMessaging::Msg {
        peer: other,
        request: MsgRequest::Prekeys,
        respond,
    };
    book.forward(other, other_request, answer).expect("room");
    assert_eq!(
        book.forward(other, other_request, answer),
        Err("queue_full")
    );
    assert!(book.has_waiting());
    assert!(matches!(
        rx.recv().await,
        Some(InboundMessaging::Msg {
            request: MsgRequest::Prekeys,
            ..
        })
    ));
}
