//! Requests the node sends to one chosen peer, outside the sync machine
//! ([`crate::NetCommand::Ask`]): typically a light client's `Proof(item)` (an item's SPV proof)
//! or `StateProof { block, key }` (a state key under a block's state root: a revocation, a
//! DID document).
//!
//! The network task sends the request on the sync protocol, keeps at most
//! [`MAX_PENDING_QUERIES`] in flight (the request-response behaviour's timeout bounds how long
//! each waits: [`crate::NetConfig::request_timeout`] plus a 5 s margin, 15 s by default), and
//! replies with the answer, always of the kind asked for ([`talos_sync::read_answer`]), or a
//! typed [`QueryFailure`]. What a bad answer costs the peer is [`crate::policy`]'s, as for
//! every sync response: undecodable bytes or an oversized frame, and an answer of another kind
//! ([`talos_sync::Misbehaviour::UnrequestedData`]). Answers never reach the sync machine.
//!
//! The answer is not verified here: the caller checks it against headers it trusts
//! ([`talos_chain::ItemProof::verify`] and the header's place in its chain;
//! [`talos_chain::chain_state::StateAnswer::verify`] against the state root of the block it
//! named) and reports a peer whose proof fails.

use std::collections::HashMap;

use libp2p::request_response::{OutboundFailure, OutboundRequestId};
use talos_sync::rr_codec::FrameTooLarge;
use talos_sync::{AnswerError, SyncDecodeError, SyncRequest, SyncResponse};
use tokio::sync::oneshot;

/// Most requests sent with [`crate::NetCommand::Ask`] in flight at once, over all peers.
pub const MAX_PENDING_QUERIES: usize = 64;

/// What a [`crate::NetCommand::Ask`] replies with: the peer's answer, of the kind asked for.
pub type QueryResult = Result<SyncResponse, QueryFailure>;

/// Why a request to one peer got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryFailure {
    /// [`MAX_PENDING_QUERIES`] queries are in flight already: ask again later.
    #[error("too many requests to single peers in flight")]
    TooManyInFlight,
    /// The peer is not connected (queries never dial).
    #[error("the peer is not connected")]
    NotConnected,
    /// The peer refused (busy, rate limited, …) or answered with another kind of response.
    #[error(transparent)]
    Answer(#[from] AnswerError),
    /// The answer's bytes are not a valid sync response (the peer is penalized).
    #[error("undecodable answer: {0}")]
    Malformed(SyncDecodeError),
    /// The request or its answer did not get through.
    #[error("request failed: {0}")]
    Transport(#[from] TransportFailure),
}

/// How a request failed on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransportFailure {
    /// The peer could not be reached.
    #[error("the peer could not be dialed")]
    Dial,
    /// No answer within the request timeout.
    #[error("no answer in time")]
    Timeout,
    /// The connection closed before the answer came.
    #[error("the connection closed")]
    ConnectionClosed,
    /// The peer does not speak our sync protocol.
    #[error("the peer does not speak the sync protocol")]
    UnsupportedProtocol,
    /// The answer announced a frame over the cap (the peer is penalized).
    #[error(transparent)]
    Oversized(FrameTooLarge),
    /// The stream failed.
    #[error("stream error: {0:?}")]
    Stream(std::io::ErrorKind),
}

impl From<&OutboundFailure> for TransportFailure {
    fn from(failure: &OutboundFailure) -> Self {
        match failure {
            OutboundFailure::DialFailure => Self::Dial,
            OutboundFailure::Timeout => Self::Timeout,
            OutboundFailure::ConnectionClosed => Self::ConnectionClosed,
            OutboundFailure::UnsupportedProtocols => Self::UnsupportedProtocol,
            OutboundFailure::Io(e) => {
                FrameTooLarge::from_io(e).map_or_else(|| Self::Stream(e.kind()), Self::Oversized)
            }
        }
    }
}

/// A query in flight.
#[derive(Debug)]
pub(crate) struct Pending {
    /// What was asked.
    pub(crate) request: SyncRequest,
    /// Where the answer goes.
    pub(crate) reply: oneshot::Sender<QueryResult>,
}

/// The queries in flight, by the swarm's request id.
#[derive(Debug, Default)]
pub(crate) struct PendingQueries {
    pending: HashMap<OutboundRequestId, Pending>,
}

impl PendingQueries {
    /// Whether another query may be sent.
    pub(crate) fn has_room(&self) -> bool {
        self.pending.len() < MAX_PENDING_QUERIES
    }

    /// Remembers a query sent as `id`; the caller checked [`PendingQueries::has_room`].
    pub(crate) fn insert(&mut self, id: OutboundRequestId, pending: Pending) {
        self.pending.insert(id, pending);
    }

    /// The query sent as `id`, if `id` is a query's.
    pub(crate) fn take(&mut self, id: &OutboundRequestId) -> Option<Pending> {
        self.pending.remove(id)
    }

    /// Queries in flight.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn transport_failures_are_typed() {
        assert_eq!(
            TransportFailure::from(&OutboundFailure::Timeout),
            TransportFailure::Timeout
        );
        assert_eq!(
            TransportFailure::from(&OutboundFailure::DialFailure),
            TransportFailure::Dial
        );
        let too_large = FrameTooLarge { len: 9, max: 1 };
        let io = io::Error::new(io::ErrorKind::InvalidData, too_large);
        assert_eq!(
            TransportFailure::from(&OutboundFailure::Io(io)),
            TransportFailure::Oversized(too_large)
        );
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(
            TransportFailure::from(&OutboundFailure::Io(reset)),
            TransportFailure::Stream(io::ErrorKind::ConnectionReset)
        );
    }
}
