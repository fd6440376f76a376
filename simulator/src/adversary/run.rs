//! The adversary's task: drives its swarm and misbehaves according to its kind (the
//! kind-specific acts are in `acts`, relaying sync in `relay`).

mod acts;
mod relay;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, request_response};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::blocks::InvalidBlocks;
use super::junk::SyncLies;
use super::mutate::BodyMutator;
use super::proofs::ProofForger;
use super::redial::Redialer;
use super::swarm::{HostileBehaviour, HostileBehaviourEvent};
use super::warp::WarpBranch;
use super::{AdversaryConfig, AdversaryKind, Counters};
use crate::SimError;
use crate::error::AdversaryError;

/// How often targets are checked for redialing.
const REDIAL_TICK: Duration = Duration::from_millis(500);

/// How often a junk-sync adversary repeats its heavy status to every connected peer.
const STATUS_INTERVAL: Duration = Duration::from_secs(3);

/// Shortest flood tick; faster rates publish several blocks per tick.
const MIN_FLOOD_TICK: Duration = Duration::from_millis(10);

/// Most blocks published in one flood tick (the rest of a backlog is dropped).
const MAX_BURST: f64 = 32.0;

/// Most unanswered sync requests a silent adversary sits on; the oldest is dropped first.
pub(crate) const MAX_HELD_REQUESTS: usize = 64;

/// Most peers remembered as contacted or connected.
const MAX_TRACKED_PEERS: usize = 4096;

/// Most listen addresses of one peer put into Kademlia.
const MAX_ADDRS_PER_PEER: usize = 8;

/// Most block headers remembered (a time warper finds a fresh block's parent among them, a
/// mutator the blocks it already copied); the set is cleared when full.
pub(crate) const MAX_HEARD: usize = 256;

/// Most of its own sync requests a flooder keeps in flight to one peer (a node's stream
/// limit per connection); a peer with that many waiting is skipped for the tick.
pub(crate) const MAX_IN_FLIGHT: usize = 64;

type Channel = request_response::ResponseChannel<Vec<u8>>;

/// A request relayed to another peer: where its answer goes back, and whether a proof liar
/// forges it first.
pub(crate) struct Relay {
    channel: Channel,
    forge: bool,
}

/// The state of one adversary's task.
pub(crate) struct Hostile {
    kind: AdversaryKind,
    swarm: Swarm<HostileBehaviour>,
    redial: Redialer,
    counters: Arc<Counters>,
    contacted: HashSet<PeerId>,
    connected: HashSet<PeerId>,
    lies: SyncLies,
    blocks: InvalidBlocks,
    mutator: BodyMutator,
    forger: ProofForger,
    warp: WarpBranch,
    heard: HashMap<talos_chain::Hash256, talos_chain::BlockHeader>,
    limits: talos_chain::Limits,
    blocks_topic: gossipsub::IdentTopic,
    rate_per_s: f64,
    credit: f64,
    last_flood: Instant,
    held: VecDeque<Channel>,
    requests_sent: u64,
    in_flight: HashMap<PeerId, usize>,
    proxied: HashMap<request_response::OutboundRequestId, Relay>,
}

impl Hostile {
    /// Builds the swarm and starts listening (unless `listen` is false: a slot filler's extra
    /// identities only dial); `targets` are the (peer, address) pairs to dial.
    pub(crate) fn start(
        config: &AdversaryConfig,
        targets: Vec<(PeerId, Multiaddr)>,
        counters: Arc<Counters>,
        listen: bool,
    ) -> Result<Self, SimError> {
        let mut swarm = super::swarm::build(config)?;
        if listen {
            swarm
                .listen_on(config.listen.clone())
                .map_err(|e| AdversaryError::Listen {
                    addr: config.listen.clone(),
                    reason: e.into(),
                })?;
        }
        for (peer, addr) in &targets {
            swarm.behaviour_mut().kad.add_address(peer, addr.clone());
        }
        let topics = super::swarm::topics(config);
        let now = Instant::now();
        Ok(Self {
            kind: config.kind,
            swarm,
            redial: Redialer::new(targets, now),
            counters,
            contacted: HashSet::new(),
            connected: HashSet::new(),
            lies: SyncLies::new(&config.spec, config.seed),
            blocks: InvalidBlocks::new(&config.spec, config.seed.wrapping_add(1)),
            mutator: BodyMutator::new(&config.spec, config.seed.wrapping_add(2)),
            forger: ProofForger::new(config.seed.wrapping_add(3)),
            warp: WarpBranch::new(&config.spec),
            heard: HashMap::new(),
            limits: config.spec.limits,
            blocks_topic: gossipsub::IdentTopic::new(topics.blocks()),
            rate_per_s: config.rate_per_s,
            credit: 0.0,
            last_flood: now,
            held: VecDeque::new(),
            requests_sent: 0,
            in_flight: HashMap::new(),
            proxied: HashMap::new(),
        })
    }

    /// Runs until `stop` turns true (or its sender is dropped).
    pub(crate) async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut redial = tokio::time::interval(REDIAL_TICK);
        redial.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut act = tokio::time::interval(self.act_period());
        act.set_missed_tick_behavior(MissedTickBehavior::Delay);
        self.last_flood = Instant::now();
        loop {
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => break,
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                _ = redial.tick() => self.redial(),
                _ = act.tick() => self.act(),
            }
        }
        tracing::debug!(
            kind = self.kind.as_str(),
            sent = self.counters.sent.load(Ordering::Relaxed),
            given_up = self.redial.given_up(),
            "adversary stopped"
        );
    }

    fn redial(&mut self) {
        let now = Instant::now();
        for (peer, addr) in self.redial.due(now) {
            let opts = DialOpts::peer_id(peer)
                .addresses(vec![addr])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                tracing::trace!(%peer, error = %e, "adversary dial refused");
                self.redial.dial_failed(&peer, now);
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<HostileBehaviourEvent>) {
        let now = Instant::now();
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 => {
                self.redial.connected(&peer_id, now);
                if self.contacted.len() < MAX_TRACKED_PEERS && self.contacted.insert(peer_id) {
                    self.counters
                        .contacted
                        .fetch_max(self.contacted.len(), Ordering::Relaxed);
                }
                if self.connected.len() < MAX_TRACKED_PEERS {
                    self.connected.insert(peer_id);
                }
                match self.kind {
                    AdversaryKind::JunkSync | AdversaryKind::WorkLiar => {
                        self.send_heavy_status(&peer_id);
                    }
                    AdversaryKind::TimeWarp => {
                        let request = SyncLies::status_request(self.lies.genesis_status());
                        self.swarm
                            .behaviour_mut()
                            .sync
                            .send_request(&peer_id, request);
                    }
                    _ => {}
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.connected.remove(&peer_id);
                self.in_flight.remove(&peer_id);
                self.redial.disconnected(&peer_id, now);
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } => {
                tracing::trace!(%peer, error = %error, "adversary dial failed");
                self.redial.dial_failed(&peer, now);
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                self.counters.listen_addrs.send_modify(|addrs| {
                    if addrs.len() < MAX_ADDRS_PER_PEER && !addrs.contains(&address) {
                        addrs.push(address);
                    }
                });
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.counters
                    .listen_addrs
                    .send_modify(|addrs| addrs.retain(|a| *a != address));
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: HostileBehaviourEvent) {
        match event {
            HostileBehaviourEvent::Sync(request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            }) => self.on_sync_request(peer, &request, channel),
            HostileBehaviourEvent::Sync(request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            }) => {
                self.answered(&peer);
                if let Some(relay) = self.proxied.remove(&request_id) {
                    self.relay_back(relay, response);
                    return;
                }
                if self.kind == AdversaryKind::TimeWarp {
                    self.learn_tip_for_warp(peer, &response);
                }
            }
            HostileBehaviourEvent::Sync(request_response::Event::OutboundFailure {
                peer,
                request_id,
                ..
            }) => {
                self.answered(&peer);
                // A proxied request that failed upstream fails for its requester too.
                self.proxied.remove(&request_id);
            }
            HostileBehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => match self.kind {
                AdversaryKind::MutatedBody => {
                    self.relay_mutated_first(propagation_source, message_id, &message);
                }
                AdversaryKind::TimeWarp => {
                    self.follow_for_warp(propagation_source, message_id, &message);
                }
                _ => {}
            },
            HostileBehaviourEvent::Identify(identify::Event::Received {
                peer_id, info, ..
            }) => {
                let kad = &mut self.swarm.behaviour_mut().kad;
                for addr in info.listen_addrs.into_iter().take(MAX_ADDRS_PER_PEER) {
                    kad.add_address(&peer_id, addr);
                }
            }
            // Gossip is never validated (so never forwarded); answers to our status requests,
            // failures, pings and Kademlia need nothing from us.
            _ => {}
        }
    }

    fn on_sync_request(&mut self, peer: PeerId, request: &[u8], channel: Channel) {
        let (answer, junk) = match self.kind {
            AdversaryKind::Silent | AdversaryKind::SlotFiller => {
                if self.held.len() >= MAX_HELD_REQUESTS {
                    // Dropping the channel closes that stream; the requester fails.
                    self.held.pop_front();
                }
                self.held.push_back(channel);
                return;
            }
            AdversaryKind::ProofLiar => {
                self.answer_as_proof_liar(peer, request, channel);
                return;
            }
            AdversaryKind::MutatedBody => {
                if let Err(channel) = self.proxy(peer, request, channel) {
                    let answer = SyncLies::plain_answer(request, self.lies.genesis_status());
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, answer);
                }
                return;
            }
            AdversaryKind::InvalidBlockFlood
            | AdversaryKind::TimeWarp
            | AdversaryKind::RequestFlooder => (
                SyncLies::plain_answer(request, self.lies.genesis_status()),
                false,
            ),
            AdversaryKind::JunkSync => self.lies.hostile_answer(request),
            AdversaryKind::WorkLiar => self.lies.hollow_answer(request),
        };
        let sent = self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, answer)
            .is_ok();
        if sent && junk {
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        } else if !sent {
            tracing::trace!(%peer, "sync answer not sent: stream gone");
        }
    }
}
