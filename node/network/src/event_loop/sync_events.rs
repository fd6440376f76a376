//! Request-response events of the sync protocol, the machine's actions, served answers and
//! import results.

use std::time::Instant;

use libp2p::PeerId;
use libp2p::request_response::{self, OutboundFailure, ResponseChannel};
use talos_sync::rr_codec::FrameTooLarge;
use talos_sync::{
    Action, DisconnectReason, ErrorCode, InboundRequest, InboundResponse, SyncRequest, SyncResponse,
};
use tracing::{debug, warn};

use talos_chain_service::ImportOutcome;
use talos_sync::server::{busy, error_response};

use super::{Backend, NetLoop};
use crate::imports::BatchResult;
use crate::light::HeaderResult;
use crate::policy::Offence;
use crate::sync_server::Served;

impl NetLoop {
    pub(super) fn on_sync_event(
        &mut self,
        event: request_response::Event<InboundRequest, InboundResponse>,
    ) {
        let now = Instant::now();
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => {
                    self.on_inbound_request(peer, request, channel);
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => match self.answer_query(peer, request_id, response) {
                    // It answered a request the node sent with `NetCommand::Ask`.
                    None => {}
                    Some(InboundResponse::Valid(response)) => {
                        if let SyncResponse::Status(status) = &response
                            && let Some(entry) = self.peers.get_mut(&peer)
                        {
                            entry.tip_height = Some(status.tip_height);
                        }
                        if !self.sync.response(request_id, response, now) {
                            debug!(%peer, "response to an unknown request");
                        }
                    }
                    Some(InboundResponse::Invalid(e)) => {
                        debug!(%peer, code = e.code(), "undecodable sync response");
                        self.penalize(peer, Offence::BadSyncResponse(e));
                        self.sync.request_failed(request_id, now);
                    }
                },
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let OutboundFailure::Io(e) = &error
                    && let Some(too_large) = FrameTooLarge::from_io(e)
                {
                    debug!(%peer, len = too_large.len, "oversized sync response");
                    self.penalize(peer, Offence::OversizedFrame(too_large));
                }
                if self.fail_query(peer, request_id, &error) {
                    return;
                }
                if matches!(error, OutboundFailure::UnsupportedProtocols) {
                    // Not a Talos node (or not on our network): nothing to sync with, no fault.
                    debug!(%peer, "peer does not speak our sync protocol");
                    self.sync.peer_disconnected(&peer);
                    return;
                }
                debug!(%peer, error = %error, "sync request failed");
                self.sync.request_failed(request_id, now);
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, error = %error, "inbound sync request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn respond(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<InboundResponse>,
        response: SyncResponse,
    ) {
        if self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, InboundResponse::Valid(response))
            .is_err()
        {
            debug!(%peer, "sync response not sent: stream gone");
        }
    }

    fn on_inbound_request(
        &mut self,
        peer: PeerId,
        request: InboundRequest,
        channel: ResponseChannel<InboundResponse>,
    ) {
        let Backend::Full { server, .. } = &mut self.backend else {
            self.answer_as_light_client(peer, request, channel);
            return;
        };
        if let InboundRequest::Valid(valid) = &request
            && let Err(over) = server.charge(peer, valid, Instant::now())
        {
            debug!(%peer, %over, "sync request over quota");
            self.respond(peer, channel, busy());
            self.penalize(peer, Offence::OverQuota(over));
            return;
        }
        match request {
            InboundRequest::Invalid(e) => {
                debug!(%peer, code = e.code(), "malformed sync request");
                self.respond(
                    peer,
                    channel,
                    error_response(ErrorCode::BadRequest, e.code()),
                );
                self.penalize(peer, Offence::BadSyncRequest(e));
            }
            InboundRequest::Valid(SyncRequest::Status(theirs)) => {
                // The machine checks the network and answers; a peer on another network is
                // disconnected through its actions.
                let answer = self.sync.status_request(peer, theirs, Instant::now());
                if matches!(answer, SyncResponse::Status(_))
                    && let Some(entry) = self.peers.get_mut(&peer)
                {
                    entry.tip_height = Some(theirs.tip_height);
                }
                self.respond(peer, channel, answer);
            }
            InboundRequest::Valid(request) => {
                let Backend::Full { server, .. } = &mut self.backend else {
                    return;
                };
                if let Err(channel) = server.serve(peer, request, channel) {
                    self.respond(peer, channel, busy());
                }
            }
        }
    }

    /// A light client answers `Status` (so peers know its tip) and nothing else: it holds no
    /// blocks, and saying so is no fault of the asker's.
    fn answer_as_light_client(
        &mut self,
        peer: PeerId,
        request: InboundRequest,
        channel: ResponseChannel<InboundResponse>,
    ) {
        if let InboundRequest::Valid(valid) = &request
            && let Backend::Light { quotas, .. } = &mut self.backend
            && let Err(over) = quotas.check(peer, valid, Instant::now())
        {
            debug!(%peer, %over, "sync request over quota");
            self.respond(peer, channel, busy());
            self.penalize(peer, Offence::OverQuota(over));
            return;
        }
        let answer = match request {
            InboundRequest::Valid(SyncRequest::Status(theirs)) => {
                let answer = self.sync.status_request(peer, theirs, Instant::now());
                if matches!(answer, SyncResponse::Status(_))
                    && let Some(entry) = self.peers.get_mut(&peer)
                {
                    entry.tip_height = Some(theirs.tip_height);
                }
                answer
            }
            InboundRequest::Valid(_) => {
                error_response(ErrorCode::NotFound, "a light client holds headers only")
            }
            InboundRequest::Invalid(e) => {
                self.penalize(peer, Offence::BadSyncRequest(e.clone()));
                error_response(ErrorCode::BadRequest, e.code())
            }
        };
        self.respond(peer, channel, answer);
    }

    /// A header batch was judged and (maybe) committed.
    pub(super) fn on_header_result(&mut self, result: HeaderResult) {
        let now = Instant::now();
        match result.outcome {
            Ok(reorg_depth) => {
                self.peers.credit_delivery(&result.peer);
                self.sync.local_tip_changed(now, reorg_depth > 0);
            }
            Err((code, true)) => {
                debug!(peer = %result.peer, code, "synced header invalid");
                self.sync.import_failed(result.peer, code);
            }
            Err((code, false)) => debug!(peer = %result.peer, code, "synced headers not adopted"),
        }
        self.sync.blocks_imported(now);
    }

    pub(super) fn on_served(&mut self, served: Served) {
        let Served {
            peer,
            channel,
            response,
            permit,
        } = served;
        self.respond(peer, channel, response);
        if let Backend::Full { server, .. } = &mut self.backend {
            server.sent(&peer);
        }
        drop(permit);
    }

    pub(super) fn on_batch_result(&mut self, result: BatchResult) {
        let now = Instant::now();
        for (id, outcome) in result.outcomes {
            match outcome {
                Some(ImportOutcome::Invalid(rejection)) => {
                    let code = rejection.code();
                    debug!(peer = %result.peer, hash = %id, code, "synced block invalid");
                    self.sync.import_failed(result.peer, code);
                }
                Some(ImportOutcome::Imported { .. }) => self.peers.credit_delivery(&result.peer),
                Some(_) => {}
                None => debug!(peer = %result.peer, hash = %id, "synced block not judged in time"),
            }
        }
        self.sync.blocks_imported(now);
    }

    /// Carries out everything the sync machine asked for.
    pub(super) fn drain_sync_actions(&mut self) {
        while let Some(action) = self.sync.poll_action() {
            match action {
                Action::Send { peer, id, request } => {
                    let outbound = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_request(&peer, InboundRequest::Valid(request));
                    self.sync.sent(outbound, peer, id);
                }
                Action::Import { peer, blocks } => {
                    let count = blocks.len();
                    let queued = match &self.backend {
                        Backend::Full { feeder, .. } => feeder.submit(peer, blocks).is_ok(),
                        Backend::Light { .. } => false,
                    };
                    if !queued {
                        warn!(%peer, count, "sync import queue full; blocks dropped");
                    }
                }
                Action::ImportHeaders { peer, headers } => {
                    let count = headers.len();
                    let queued = match &self.backend {
                        Backend::Light { importer, .. } => importer.submit(peer, headers),
                        Backend::Full { .. } => false,
                    };
                    if !queued {
                        warn!(%peer, count, "header import queue full; headers dropped");
                    }
                }
                Action::Penalize { peer, misbehaviour } => {
                    self.penalize(peer, Offence::Sync(misbehaviour));
                }
                Action::Disconnect { peer, reason } => match reason {
                    DisconnectReason::WrongNetwork => self.ban(peer, &Offence::WrongNetwork),
                },
            }
        }
    }
}
