//! Requests the node sends to one chosen peer ([`crate::NetCommand::Ask`]): sending them, and routing
//! their answers and failures back to the node instead of the sync machine.

use libp2p::PeerId;
use libp2p::request_response::{OutboundFailure, OutboundRequestId};
use talos_sync::{InboundRequest, InboundResponse, SyncRequest, read_answer};
use tokio::sync::oneshot;
use tracing::debug;

use super::NetLoop;
use crate::policy::Offence;
use crate::queries::{Pending, QueryFailure, QueryResult, TransportFailure};

impl NetLoop {
    /// Sends `request` to `peer` for the node ([`crate::NetCommand::Ask`]), unless too many are in
    /// flight or the peer is not connected (then the reply says so at once).
    pub(super) fn ask(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        reply: oneshot::Sender<QueryResult>,
    ) {
        if !self.queries.has_room() {
            let _ = reply.send(Err(QueryFailure::TooManyInFlight));
            return;
        }
        if self.peers.get(&peer).is_none() {
            let _ = reply.send(Err(QueryFailure::NotConnected));
            return;
        }
        debug!(%peer, request = request.kind_name(), "asking one peer");
        let outbound = self
            .swarm
            .behaviour_mut()
            .sync
            .send_request(&peer, InboundRequest::Valid(request.clone()));
        self.queries.insert(outbound, Pending { request, reply });
    }

    /// If `id` is a request the node asked, replies with `response` read as its answer
    /// (penalizing a peer whose answer is undecodable or of another kind) and returns `None`;
    /// otherwise hands `response` back for the sync machine.
    pub(super) fn answer_query(
        &mut self,
        peer: PeerId,
        id: OutboundRequestId,
        response: InboundResponse,
    ) -> Option<InboundResponse> {
        let Some(pending) = self.queries.take(&id) else {
            return Some(response);
        };
        let result = match response {
            InboundResponse::Valid(response) => {
                read_answer(&pending.request, response).map_err(|e| {
                    if let Some(misbehaviour) = e.misbehaviour() {
                        debug!(%peer, error = %e, "wrong answer to an asked request");
                        self.penalize(peer, Offence::Sync(misbehaviour));
                    }
                    QueryFailure::Answer(e)
                })
            }
            InboundResponse::Invalid(e) => {
                debug!(%peer, code = e.code(), "undecodable answer to an asked request");
                self.penalize(peer, Offence::BadSyncResponse(e.clone()));
                Err(QueryFailure::Malformed(e))
            }
        };
        // The node may have stopped waiting: then nobody needs the answer.
        let _ = pending.reply.send(result);
        None
    }

    /// If `id` is a request the node asked, replies with the failure and returns true. (An
    /// oversized frame was penalized already, as for every sync request.)
    pub(super) fn fail_query(
        &mut self,
        peer: PeerId,
        id: OutboundRequestId,
        error: &OutboundFailure,
    ) -> bool {
        let Some(pending) = self.queries.take(&id) else {
            return false;
        };
        debug!(%peer, error = %error, "asked request failed");
        let _ = pending
            .reply
            .send(Err(QueryFailure::Transport(TransportFailure::from(error))));
        true
    }
}
