//! Swarm and behaviour events (except sync, see [`super::sync_events`], and messaging, see
//! [`super::messaging`]).

use std::time::Instant;

use libp2p::core::ConnectedPoint;
use libp2p::metrics::Recorder;
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{PeerId, gossipsub, identify, kad};
use talos_gossip::Acceptance;
use tracing::{debug, info};

use super::{Backend, NetLoop};
use crate::behaviour::NodeBehaviourEvent;
use crate::policy::Offence;
use crate::records::{self, Admission, RecordKind};

impl NetLoop {
    pub(super) fn on_swarm_event(&mut self, event: SwarmEvent<NodeBehaviourEvent>) {
        self.libp2p_metrics.record(&event);
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(%address, "listening");
                if !self.listen_addrs.contains(&address) {
                    self.listen_addrs.push(address);
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen_addrs.retain(|a| a != &address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let entry = self.peers.connected(
                    peer_id,
                    endpoint.get_remote_address(),
                    endpoint.is_listener(),
                    Instant::now(),
                );
                if let ConnectedPoint::Dialer { address, .. } = &endpoint {
                    entry.add_addr(address.clone());
                }
                if num_established.get() == 1 {
                    debug!(peer = %peer_id, addr = %endpoint.get_remote_address(), "peer connected");
                    self.sync.peer_connected(peer_id, Instant::now());
                }
                if self.messaging.outbound.has(&peer_id) {
                    self.pump_messaging(peer_id);
                }
                self.set_peer_gauge();
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => {
                self.peers.disconnected(&peer_id, num_established);
                if num_established == 0 {
                    debug!(peer = %peer_id, cause = ?cause, "peer disconnected");
                    self.sync.peer_disconnected(&peer_id);
                    match &mut self.backend {
                        Backend::Full { server, .. } => server.forget(&peer_id),
                        Backend::Light { quotas, .. } => quotas.forget(&peer_id),
                    }
                }
                self.set_peer_gauge();
            }
            SwarmEvent::IncomingConnectionError { error, peer_id, .. } => {
                debug!(peer = ?peer_id, error = %error, "incoming connection failed");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, error = %error, "outgoing connection failed");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: NodeBehaviourEvent) {
        match event {
            NodeBehaviourEvent::Identify(event) => {
                self.libp2p_metrics.record(&event);
                self.on_identify(event);
            }
            NodeBehaviourEvent::Ping(event) => {
                self.libp2p_metrics.record(&event);
                if let Ok(rtt) = event.result {
                    self.peers.record_rtt(&event.peer, rtt);
                }
            }
            NodeBehaviourEvent::Kad(event) => {
                self.libp2p_metrics.record(&event);
                self.on_kad(event);
            }
            NodeBehaviourEvent::Gossipsub(event) => {
                self.libp2p_metrics.record(&event);
                self.on_gossipsub(event);
            }
            NodeBehaviourEvent::Sync(event) => self.on_sync_event(event),
            NodeBehaviourEvent::Msg(event) => self.on_msg_event(event),
            NodeBehaviourEvent::Mailbox(event) => self.on_mailbox_event(event),
            NodeBehaviourEvent::Blocked(never)
            | NodeBehaviourEvent::Gate(never)
            | NodeBehaviourEvent::Limits(never) => match never {},
        }
    }

    fn on_identify(&mut self, event: identify::Event) {
        let identify::Event::Received { peer_id, info, .. } = event else {
            return;
        };
        let speaks_kad = info.protocols.contains(&self.settings.names.kad);
        let speaks_sync = info.protocols.contains(&self.settings.names.sync);
        if let Some(entry) = self.peers.get_mut(&peer_id) {
            entry.agent = Some(info.agent_version.clone());
            entry.speaks_sync = speaks_sync;
            for addr in &info.listen_addrs {
                entry.add_addr(addr.clone());
            }
        }
        // Only peers that speak our DHT go into its routing table, and only where their
        // bucket has room (or they are in it already).
        if speaks_kad && self.kad_has_room(&peer_id) {
            for addr in info.listen_addrs {
                self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
            }
        }
    }

    /// Whether adding `peer` to the routing table needs no eviction check (which dials).
    fn kad_has_room(&mut self, peer: &PeerId) -> bool {
        let key = kad::KBucketKey::from(*peer);
        match self.swarm.behaviour_mut().kad.kbucket(*peer) {
            Some(bucket) => {
                bucket.num_entries() < kad::K_VALUE.get()
                    || bucket.iter().any(|entry| *entry.node.key == key)
            }
            // Our own key.
            None => false,
        }
    }

    fn on_kad(&mut self, event: kad::Event) {
        match event {
            kad::Event::RoutingUpdated {
                peer, is_new_peer, ..
            } if is_new_peer
                && !self.swarm.is_connected(&peer)
                && self.peers.len() < self.settings.target_peers =>
            {
                self.dial_peer(peer);
            }
            kad::Event::InboundRequest {
                request:
                    kad::InboundRequest::PutRecord {
                        source,
                        record: Some(record),
                        ..
                    },
            } => self.on_put_record(source, record),
            kad::Event::OutboundQueryProgressed {
                result: kad::QueryResult::Bootstrap(result),
                ..
            } => match result {
                Ok(ok) => debug!(remaining = ok.num_remaining, "kad bootstrap step"),
                Err(e) => debug!(error = %e, "kad bootstrap failed"),
            },
            kad::Event::OutboundQueryProgressed {
                id,
                result: kad::QueryResult::GetClosestPeers(result),
                ..
            } => self.on_closest_progress(id, result),
            kad::Event::OutboundQueryProgressed {
                id, result, step, ..
            } => self.on_did_progress(id, result, step.last),
            _ => {}
        }
    }

    /// A peer asks us to store a record: judged and admitted per `records`, else refused (and
    /// penalized where the record is the sender's fault).
    fn on_put_record(&mut self, source: PeerId, record: kad::Record) {
        use kad::store::RecordStore;
        let now_ms = crate::light::view::unix_ms();
        let store = self.swarm.behaviour_mut().kad.store_mut();
        let outcome = records::judge(&record, now_ms).and_then(|kind| match kind {
            RecordKind::Did(valid) => {
                let stored = store.get(&record.key).map(std::borrow::Cow::into_owned);
                records::admit(stored.as_ref(), &valid, now_ms, Instant::now())
            }
        });
        match outcome {
            Ok(Admission::Store(record)) => {
                let now = Instant::now();
                if !self.record_quota.allows(&source, &record.key, now) {
                    // Not an offence: an honest node replicating many records may reach it.
                    debug!(peer = %source, "kad record refused: the peer's share is full");
                    return;
                }
                let (key, expiry) = (record.key.clone(), record.expires.unwrap_or(now));
                match self.swarm.behaviour_mut().kad.store_mut().put(record) {
                    Ok(()) => self.record_quota.stored(source, &key, expiry),
                    Err(e) => debug!(peer = %source, error = %e, "kad record not stored"),
                }
            }
            Ok(Admission::Unchanged) => {}
            Err(e) => {
                debug!(peer = %source, error = %e, "kad record refused");
                self.penalize(source, Offence::UnwantedRecord(e));
            }
        }
    }

    fn dial_peer(&mut self, peer: PeerId) {
        let opts = DialOpts::peer_id(peer)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        if let Err(e) = self.swarm.dial(opts) {
            debug!(%peer, error = %e, "dial of a discovered peer failed");
        } else {
            debug!(%peer, "dialing a peer found through kad");
        }
    }

    fn on_gossipsub(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => self.on_gossip_message(propagation_source, message_id, message),
            gossipsub::Event::Subscribed { peer_id, topic } => {
                debug!(peer = %peer_id, %topic, "peer subscribed");
            }
            gossipsub::Event::SlowPeer { peer_id, .. } => {
                debug!(peer = %peer_id, "slow gossip peer");
            }
            _ => {}
        }
    }

    fn on_gossip_message(
        &mut self,
        source: PeerId,
        message_id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        let Some(kind) = self.settings.topics.kind_of(message.topic.as_str()) else {
            self.report_validation(None, &message_id, &source, Acceptance::Ignore);
            return;
        };
        match talos_gossip::decode_payload(kind, &message.data, &self.settings.spec.limits) {
            Err(e) => {
                debug!(peer = %source, topic = %kind, code = e.code(), "undecodable gossip");
                self.report_validation(
                    Some(kind),
                    &message_id,
                    &source,
                    Acceptance::for_decode_error(&e),
                );
                self.penalize(source, Offence::UndecodableGossip(e));
            }
            Ok(payload) => {
                let Backend::Full { validator, .. } = &mut self.backend else {
                    // A light client subscribes to nothing; a message reaching it anyway is
                    // neither forwarded nor held against the sender.
                    self.report_validation(Some(kind), &message_id, &source, Acceptance::Ignore);
                    return;
                };
                if let Some(acceptance) = validator.submit(message_id.clone(), source, payload) {
                    self.report_validation(Some(kind), &message_id, &source, acceptance);
                }
            }
        }
    }
}
