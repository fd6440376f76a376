//! Agent messaging on the loop ([`crate::messaging`]): the node's requests sent (dialing and
//! looking peers up as needed), peers' requests handed to the node and its answers sent back.
//! Kademlia lookups and closest-peer queries are [`super::closest`]'s.

use libp2p::PeerId;
use libp2p::kad::KBucketKey;
use libp2p::request_response::{Event, Message};
use talos_messaging::rr_codec::{
    InboundMailboxRequest, InboundMailboxResponse, InboundMsgRequest, InboundMsgResponse,
};
use tokio::sync::oneshot;
use tracing::debug;

use super::NetLoop;
use crate::messaging::{Answer, Answered, InboundMessaging, MessagingFailure, Next, Outgoing};
use crate::policy::Offence;

impl NetLoop {
    /// Queues `outgoing` for `peer` and sends what may go now ([`crate::NetCommand::SendMsg`],
    /// [`crate::NetCommand::SendMailbox`]).
    pub(super) fn send_messaging(
        &mut self,
        peer: PeerId,
        addrs: Vec<libp2p::Multiaddr>,
        outgoing: Outgoing,
    ) {
        if peer == *self.swarm.local_peer_id() {
            outgoing.fail(MessagingFailure::Unreachable);
            return;
        }
        if let Err(outgoing) = self.messaging.outbound.enqueue(peer, addrs, outgoing) {
            let failure = MessagingFailure::TooManyInFlight;
            self.metrics.outbound_failed(&failure);
            outgoing.fail(failure);
            return;
        }
        self.pump_messaging(peer);
    }

    /// Hands `peer`'s queued requests to the behaviours as far as its window allows, or starts
    /// the Kademlia lookup of its addresses.
    pub(super) fn pump_messaging(&mut self, peer: PeerId) {
        let connected = self.swarm.is_connected(&peer);
        let address_known = connected || self.kad_knows_address(&peer);
        loop {
            match self.messaging.outbound.next(peer, connected, address_known) {
                Next::Wait => return,
                Next::Lookup => {
                    debug!(%peer, "no address known: looking the peer up");
                    let id = self.swarm.behaviour_mut().kad.get_closest_peers(peer);
                    self.messaging.outbound.looking_up(peer, id);
                    return;
                }
                Next::Send { outgoing, addrs } => {
                    let behaviour = self.swarm.behaviour_mut();
                    // A peer not connected is dialed with `addrs` and what the behaviours
                    // know (`extend_addresses_through_behaviour`); the request goes once the
                    // connection is established.
                    match outgoing {
                        Outgoing::Msg(request, reply) => {
                            let request = InboundMsgRequest::Valid(request);
                            let id = behaviour
                                .msg
                                .send_request_with_addresses(&peer, request, addrs);
                            self.messaging.outbound.sent_msg(peer, id, reply);
                        }
                        Outgoing::Mailbox(request, reply) => {
                            let request = InboundMailboxRequest::Valid(request);
                            let id = behaviour
                                .mailbox
                                .send_request_with_addresses(&peer, request, addrs);
                            self.messaging.outbound.sent_mailbox(peer, id, reply);
                        }
                    }
                }
            }
        }
    }

    /// Whether `peer` is in the Kademlia routing table (an entry always has an address).
    fn kad_knows_address(&mut self, peer: &PeerId) -> bool {
        let key = KBucketKey::from(*peer);
        self.swarm
            .behaviour_mut()
            .kad
            .kbucket(*peer)
            .is_some_and(|bucket| bucket.iter().any(|entry| *entry.node.key == key))
    }

    /// Replies to an outbound request that is over, then sends what may go next. A peer that
    /// cannot be reached fails the requests queued for it too.
    fn finish_outbound<R>(
        &mut self,
        peer: PeerId,
        reply: oneshot::Sender<Result<R, MessagingFailure>>,
        result: Result<R, MessagingFailure>,
    ) {
        if let Err(failure) = &result {
            debug!(%peer, code = failure.code(), "messaging request failed");
            self.metrics.outbound_failed(failure);
            if *failure == MessagingFailure::Unreachable {
                for queued in self.messaging.outbound.take_queued(&peer) {
                    self.metrics.outbound_failed(failure);
                    queued.fail(MessagingFailure::Unreachable);
                }
            }
        }
        // The node may have stopped waiting: then nobody needs the answer.
        let _ = reply.send(result);
        self.pump_messaging(peer);
    }

    /// Hands a peer's request to the node, or drops it (closing the peer's stream).
    fn forward_inbound<R: Send + 'static>(
        &mut self,
        peer: PeerId,
        request: impl FnOnce(oneshot::Sender<R>) -> InboundMessaging,
        answer: impl FnOnce(Option<R>) -> Answer + Send + 'static,
    ) {
        if let Err(code) = self.messaging.inbound.forward(peer, request, answer) {
            debug!(%peer, code, "inbound messaging request dropped");
            self.metrics.inbound_dropped(code);
        }
    }

    /// The node answered a peer's request (or dropped it, or let it time out).
    pub(super) fn on_messaging_answered(&mut self, answered: Answered) {
        let Answered { peer, answer } = answered;
        self.messaging.inbound.answered(&peer);
        let behaviour = self.swarm.behaviour_mut();
        let sent = match answer {
            Answer::Msg {
                channel,
                response: Some(response),
            } => behaviour
                .msg
                .send_response(channel, InboundMsgResponse::Valid(response))
                .is_ok(),
            Answer::Mailbox {
                channel,
                response: Some(response),
            } => behaviour
                .mailbox
                .send_response(channel, InboundMailboxResponse::Valid(response))
                .is_ok(),
            // Dropping the channel closes the peer's stream unanswered.
            Answer::Msg { response: None, .. } | Answer::Mailbox { response: None, .. } => {
                self.metrics.inbound_dropped("unanswered");
                true
            }
        };
        if !sent {
            debug!(%peer, "messaging answer not sent: stream gone");
        }
    }

    /// An event of the msg behaviour.
    pub(super) fn on_msg_event(&mut self, event: Event<InboundMsgRequest, InboundMsgResponse>) {
        match event {
            Event::Message { peer, message, .. } => match message {
                Message::Request {
                    request, channel, ..
                } => match request {
                    InboundMsgRequest::Valid(request) => self.forward_inbound(
                        peer,
                        |respond| InboundMessaging::Msg {
                            peer,
                            request,
                            respond,
                        },
                        move |response| Answer::Msg { channel, response },
                    ),
                    InboundMsgRequest::Invalid(e) => self.bad_request(peer, e),
                },
                Message::Response {
                    request_id,
                    response,
                } => {
                    let Some((_, reply)) = self.messaging.outbound.take_msg(&request_id) else {
                        return;
                    };
                    let result = match response {
                        InboundMsgResponse::Valid(response) => Ok(response),
                        InboundMsgResponse::Invalid(e) => Err(self.bad_response(peer, e)),
                    };
                    self.finish_outbound(peer, reply, result);
                }
            },
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some((_, reply)) = self.messaging.outbound.take_msg(&request_id) {
                    self.finish_outbound(peer, reply, Err(MessagingFailure::from(&error)));
                }
            }
            Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound msg request failed");
            }
            Event::ResponseSent { .. } => {}
        }
    }

    /// An event of the mailbox behaviour.
    pub(super) fn on_mailbox_event(
        &mut self,
        event: Event<InboundMailboxRequest, InboundMailboxResponse>,
    ) {
        match event {
            Event::Message { peer, message, .. } => match message {
                Message::Request {
                    request, channel, ..
                } => match request {
                    InboundMailboxRequest::Valid(request) => self.forward_inbound(
                        peer,
                        |respond| InboundMessaging::Mailbox {
                            peer,
                            request,
                            respond,
                        },
                        move |response| Answer::Mailbox { channel, response },
                    ),
                    InboundMailboxRequest::Invalid(e) => self.bad_request(peer, e),
                },
                Message::Response {
                    request_id,
                    response,
                } => {
                    let Some((_, reply)) = self.messaging.outbound.take_mailbox(&request_id) else {
                        return;
                    };
                    let result = match response {
                        InboundMailboxResponse::Valid(response) => Ok(response),
                        InboundMailboxResponse::Invalid(e) => Err(self.bad_response(peer, e)),
                    };
                    self.finish_outbound(peer, reply, result);
                }
            },
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some((_, reply)) = self.messaging.outbound.take_mailbox(&request_id) {
                    self.finish_outbound(peer, reply, Err(MessagingFailure::from(&error)));
                }
            }
            Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "inbound mailbox request failed");
            }
            Event::ResponseSent { .. } => {}
        }
    }

    /// A request that does not decode: penalized, dropped unanswered.
    fn bad_request(&mut self, peer: PeerId, error: talos_messaging::DecodeError) {
        debug!(%peer, code = error.code(), "malformed messaging request");
        self.metrics.inbound_dropped("malformed");
        self.penalize(peer, Offence::BadMessagingRequest(error));
    }

    /// An answer that does not decode: penalized; the failure to reply with.
    fn bad_response(
        &mut self,
        peer: PeerId,
        error: talos_messaging::DecodeError,
    ) -> MessagingFailure {
        debug!(%peer, code = error.code(), "malformed messaging answer");
        self.penalize(peer, Offence::BadMessagingResponse(error.clone()));
        MessagingFailure::Malformed(error)
    }
}
