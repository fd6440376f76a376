//! Agent messaging on the wire: `/talos/<network>/msg/1.0.0` (direct delivery, prekeys) and
//! `/talos/<network>/mailbox/1.0.0` (store-and-forward), request-response with
//! `talos-messaging`'s codecs. The network task translates and decides nothing: inbound
//! requests go to the node as [`InboundMessaging`] (its agent task answers them), outbound
//! ones come from the node as [`crate::NetCommand::SendMsg`] and
//! [`crate::NetCommand::SendMailbox`] and are answered with a [`MsgResult`] /
//! [`MailboxResult`].
//!
//! Inbound: a valid request is handed to the node's queue (capacity [`INBOUND_QUEUE`]) with a
//! oneshot for the answer; while the node works on it the loop holds the peer's stream. At
//! most [`MAX_INBOUND_PER_PEER`] requests of one peer wait for the node; past that, or when the
//! queue is full, or when no agent listens, the request is dropped (the peer sees its stream
//! close and may retry). An answer later than [`REQUEST_TIMEOUT`] is dropped too (the peer
//! stopped waiting). A request that does not decode costs the sender
//! ([`crate::policy::Offence::BadMessagingRequest`]) and gets no answer.
//!
//! Outbound: at most [`MAX_OUTBOUND_IN_FLIGHT`] requests wait over all peers, and at most
//! [`MAX_OUTBOUND_PER_PEER`] of them are on one peer's connection at once (the rest queue in
//! order: a connection carries a bounded number of streams). A peer not connected is dialed
//! with the addresses given and whatever the behaviours know (Kademlia, identify); when none
//! is known at all, a Kademlia lookup of the peer runs first. An answer that does not decode
//! costs the responder ([`crate::policy::Offence::BadMessagingResponse`]) and is reported as
//! [`MessagingFailure::Malformed`].

mod outbound;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use libp2p::kad::QueryId;
use libp2p::request_response::{OutboundFailure, ResponseChannel};
use libp2p::{Multiaddr, PeerId};
use talos_messaging::rr_codec::{InboundMailboxResponse, InboundMsgResponse};
use talos_messaging::{MailboxRequest, MailboxResponse, MsgRequest, MsgResponse};
use tokio::sync::{mpsc, oneshot};

pub(crate) use outbound::{Next, OutboundBook, Outgoing};

/// Capacity of the queue of inbound messaging requests to the node.
pub const INBOUND_QUEUE: usize = 1024;
/// Most inbound messaging requests one peer may have waiting for the node's answer; more are
/// dropped (the peer sees its stream closed).
pub const MAX_INBOUND_PER_PEER: usize = 256;
/// Most outbound messaging requests in flight over all peers.
pub const MAX_OUTBOUND_IN_FLIGHT: usize = 8192;
/// Most outbound messaging requests on one peer's connection at once; the rest wait in order.
/// Below yamux's 512 streams per connection, which a connection exceeding is closed.
pub const MAX_OUTBOUND_PER_PEER: usize = 128;
/// How long a request may take, on the wire and at the node that answers it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most Kademlia lookups for messaging at once (addresses of peers to dial, and
/// [`crate::NetCommand::ClosestPeers`] queries, each).
pub const MAX_LOOKUPS: usize = 64;

/// A request a peer sent, for the node to answer through `respond` (dropping `respond` closes
/// the peer's stream without an answer).
#[derive(Debug)]
pub enum InboundMessaging {
    /// A `/msg` request.
    Msg {
        /// The Noise-authenticated sender.
        peer: PeerId,
        /// What it asks.
        request: MsgRequest,
        /// Where the answer goes.
        respond: oneshot::Sender<MsgResponse>,
    },
    /// A `/mailbox` request (only full and bootstrap nodes receive them).
    Mailbox {
        /// The Noise-authenticated sender (a fetch or acknowledgement is about its own
        /// mailbox).
        peer: PeerId,
        /// What it asks.
        request: MailboxRequest,
        /// Where the answer goes.
        respond: oneshot::Sender<MailboxResponse>,
    },
}

/// Why a messaging request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessagingFailure {
    /// [`MAX_OUTBOUND_IN_FLIGHT`] requests wait already: send again later.
    #[error("too many messaging requests in flight")]
    TooManyInFlight,
    /// Could not be dialed / no address known (after a Kademlia lookup).
    #[error("the peer could not be reached")]
    Unreachable,
    /// No answer within [`REQUEST_TIMEOUT`].
    #[error("no answer in time")]
    Timeout,
    /// The peer does not speak the protocol (e.g. a light client asked for a mailbox).
    #[error("the peer does not speak the protocol")]
    Unsupported,
    /// Connection closed or I/O error before the answer (also: the peer dropped the request).
    #[error("the stream closed before the answer")]
    Closed,
    /// The answer did not decode (the peer is penalized).
    #[error("undecodable answer: {0}")]
    Malformed(talos_messaging::DecodeError),
}

impl MessagingFailure {
    /// Stable snake_case code (metrics labels, API errors).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooManyInFlight => "too_many_in_flight",
            Self::Unreachable => "unreachable",
            Self::Timeout => "timeout",
            Self::Unsupported => "unsupported",
            Self::Closed => "closed",
            Self::Malformed(_) => "malformed",
        }
    }
}

impl From<&OutboundFailure> for MessagingFailure {
    fn from(failure: &OutboundFailure) -> Self {
        match failure {
            OutboundFailure::DialFailure => Self::Unreachable,
            OutboundFailure::Timeout => Self::Timeout,
            OutboundFailure::UnsupportedProtocols => Self::Unsupported,
            // The codecs read bad and over-cap answers as values: what is left is the stream.
            OutboundFailure::ConnectionClosed | OutboundFailure::Io(_) => Self::Closed,
        }
    }
}

/// What a [`crate::NetCommand::SendMsg`] replies with.
pub type MsgResult = Result<MsgResponse, MessagingFailure>;
/// What a [`crate::NetCommand::SendMailbox`] replies with.
pub type MailboxResult = Result<MailboxResponse, MessagingFailure>;

/// A peer close to a key, as Kademlia knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosePeer {
    /// The peer.
    pub peer: PeerId,
    /// Its addresses (this node's own: its listen addresses).
    pub addrs: Vec<Multiaddr>,
}

/// The node's answer to an inbound request, with the stream it goes on.
pub(crate) enum Answer {
    Msg {
        channel: ResponseChannel<InboundMsgResponse>,
        response: Option<MsgResponse>,
    },
    Mailbox {
        channel: ResponseChannel<InboundMailboxResponse>,
        response: Option<MailboxResponse>,
    },
}

/// An inbound request the node answered (or dropped, or let time out).
pub(crate) struct Answered {
    pub(crate) peer: PeerId,
    pub(crate) answer: Answer,
}

/// Inbound requests handed to the node and waiting for its answers.
pub(crate) struct InboundBook {
    sink: Option<mpsc::Sender<InboundMessaging>>,
    /// Requests waiting per peer; an entry lives while one of its requests waits (each at
    /// most [`REQUEST_TIMEOUT`]), so only peers that sent something recently have one.
    per_peer: HashMap<PeerId, usize>,
    waiting: FuturesUnordered<BoxFuture<'static, Answered>>,
}

impl InboundBook {
    pub(crate) fn new(sink: Option<mpsc::Sender<InboundMessaging>>) -> Self {
        Self {
            sink,
            per_peer: HashMap::new(),
            waiting: FuturesUnordered::new(),
        }
    }

    /// Hands `peer`'s request (built by `request` around the answer's sender) to the node and
    /// waits for the answer (turned into an [`Answer`] by `answer`); or, without room, the
    /// code of why it was dropped (dropping `answer` closes the peer's stream).
    pub(crate) fn forward<R: Send + 'static>(
        &mut self,
        peer: PeerId,
        request: impl FnOnce(oneshot::Sender<R>) -> InboundMessaging,
        answer: impl FnOnce(Option<R>) -> Answer + Send + 'static,
    ) -> Result<(), &'static str> {
        let Some(sink) = &self.sink else {
            return Err("no_agent");
        };
        if self.per_peer.get(&peer).copied().unwrap_or(0) >= MAX_INBOUND_PER_PEER {
            return Err("peer_limit");
        }
        let (respond, rx) = oneshot::channel();
        sink.try_send(request(respond)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => "queue_full",
            mpsc::error::TrySendError::Closed(_) => "no_agent",
        })?;
        *self.per_peer.entry(peer).or_default() += 1;
        self.waiting.push(
            async move {
                let response = tokio::time::timeout(REQUEST_TIMEOUT, rx)
                    .await
                    .ok()
                    .and_then(Result::ok);
                Answered {
                    peer,
                    answer: answer(response),
                }
            }
            .boxed(),
        );
        Ok(())
    }

    /// Whether any request waits for the node.
    pub(crate) fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// The next request the node is done with; the caller counts it with
    /// [`InboundBook::answered`].
    pub(crate) fn next_answered(
        &mut self,
    ) -> futures::stream::Next<'_, FuturesUnordered<BoxFuture<'static, Answered>>> {
        futures::StreamExt::next(&mut self.waiting)
    }

    /// One of `peer`'s requests no longer waits.
    pub(crate) fn answered(&mut self, peer: &PeerId) {
        if let Entry::Occupied(mut count) = self.per_peer.entry(*peer) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
    }
}

/// A [`crate::NetCommand::ClosestPeers`] query in flight.
pub(crate) struct Closest {
    pub(crate) key: Vec<u8>,
    pub(crate) count: usize,
    pub(crate) reply: oneshot::Sender<Vec<ClosePeer>>,
}

/// Everything the loop keeps for messaging.
pub(crate) struct Messaging {
    pub(crate) inbound: InboundBook,
    pub(crate) outbound: OutboundBook,
    /// Closest-peer queries in flight (at most [`MAX_LOOKUPS`]).
    pub(crate) closest: HashMap<QueryId, Closest>,
}

impl Messaging {
    /// Messaging state handing inbound requests to `sink` (none: they are dropped).
    pub(crate) fn new(sink: Option<mpsc::Sender<InboundMessaging>>) -> Self {
        Self {
            inbound: InboundBook::new(sink),
            outbound: OutboundBook::default(),
            closest: HashMap::new(),
        }
    }
}

#[cfg(test)]
mod tests;
