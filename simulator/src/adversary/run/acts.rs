//! What each kind does on its own timer, and the gossip a mutator or time warper follows.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use libp2p::{PeerId, gossipsub};
use talos_chain::{ParentContext, Work};
use talos_sync::{SyncRequest, SyncResponse};

/// Ticks of a time warper between two status requests.
const WARP_REFRESH_TICKS: u64 = 4;

use super::{Hostile, MAX_BURST, MAX_HEARD, MAX_IN_FLIGHT, MIN_FLOOD_TICK, STATUS_INTERVAL};
use crate::adversary::AdversaryKind;
use crate::adversary::junk::SyncLies;

impl Hostile {
    /// The period of the kind's own timer.
    pub(super) fn act_period(&self) -> Duration {
        if self.kind.uses_rate() && self.kind != AdversaryKind::SlotFiller {
            Duration::try_from_secs_f64(1.0 / self.rate_per_s)
                .unwrap_or(MIN_FLOOD_TICK)
                .max(MIN_FLOOD_TICK)
        } else {
            STATUS_INTERVAL
        }
    }

    /// The kind's periodic misbehaviour.
    pub(super) fn act(&mut self) {
        match self.kind {
            AdversaryKind::InvalidBlockFlood => self.flood(|h| Some(h.blocks.next_encoded())),
            AdversaryKind::TimeWarp => {
                self.flood(|h| h.warp.next_block().map(|b| talos_gossip::encode_block(&b)));
                self.refresh_warp_tip();
            }
            AdversaryKind::RequestFlooder => self.flood_requests(),
            AdversaryKind::JunkSync | AdversaryKind::WorkLiar => {
                let peers: Vec<PeerId> = self.connected.iter().copied().collect();
                for peer in peers {
                    self.send_heavy_status(&peer);
                }
            }
            AdversaryKind::Silent
            | AdversaryKind::SlotFiller
            | AdversaryKind::MutatedBody
            | AdversaryKind::ProofLiar => {}
        }
    }

    /// Publishes the blocks `next` makes that are due since the last tick.
    fn flood(&mut self, mut next: impl FnMut(&mut Self) -> Option<Vec<u8>>) {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.last_flood).as_secs_f64();
        self.last_flood = now;
        self.credit = (self.credit + elapsed * self.rate_per_s).min(MAX_BURST);
        while self.credit >= 1.0 {
            self.credit -= 1.0;
            let Some(data) = next(self) else { continue };
            match self
                .swarm
                .behaviour_mut()
                .gossipsub
                .publish(self.blocks_topic.clone(), data)
            {
                Ok(_) => {
                    self.counters.sent.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    // Nobody to send to (yet, or any more): do not build up a backlog.
                    tracing::trace!(error = %e, "hostile block not published");
                    self.credit = self.credit.min(1.0);
                    break;
                }
            }
        }
    }

    /// One sync request to every connected peer with fewer than [`MAX_IN_FLIGHT`]
    /// unanswered.
    fn flood_requests(&mut self) {
        let peers: Vec<PeerId> = self.connected.iter().copied().collect();
        for peer in peers {
            let waiting = self.in_flight.entry(peer).or_default();
            if *waiting >= MAX_IN_FLIGHT {
                continue;
            }
            *waiting += 1;
            let request = self.lies.flood_request(self.requests_sent);
            self.requests_sent = self.requests_sent.wrapping_add(1);
            self.swarm.behaviour_mut().sync.send_request(&peer, request);
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn send_heavy_status(&mut self, peer: &PeerId) {
        let request = SyncLies::status_request(self.lies.heavy_status());
        self.swarm.behaviour_mut().sync.send_request(peer, request);
    }

    /// A gossiped block arrived at a time warper: when its parent was heard of too, the warp
    /// branch moves onto it. Nothing is relayed.
    pub(super) fn follow_for_warp(
        &mut self,
        source: PeerId,
        id: gossipsub::MessageId,
        message: &gossipsub::Message,
    ) {
        let gossip = &mut self.swarm.behaviour_mut().gossipsub;
        gossip.report_message_validation_result(&id, &source, gossipsub::MessageAcceptance::Ignore);
        if message.topic != self.blocks_topic.hash() {
            return;
        }
        let Ok(block) = talos_gossip::decode_block(&message.data, &self.limits) else {
            return;
        };
        if self.heard.len() >= MAX_HEARD {
            self.heard.clear();
        }
        let header = block.header;
        if let Some(parent) = self.heard.get(&header.prev_hash) {
            tracing::debug!(height = header.height, "time warp rebased");
            self.warp.rebase(ParentContext {
                id: header.id(),
                header,
                cumulative_work: Work::ZERO,
                grandparent_timestamp: Some(parent.timestamp_ms),
            });
        }
        self.heard.insert(header.id(), header);
    }

    /// Every [`WARP_REFRESH_TICKS`] ticks a time warper asks one peer for its status (and
    /// then its newest headers, [`Hostile::learn_tip_for_warp`]): gossip alone does not keep
    /// it on the tip once meshes prune a peer that never forwards.
    fn refresh_warp_tip(&mut self) {
        self.requests_sent = self.requests_sent.wrapping_add(1);
        if !self.requests_sent.is_multiple_of(WARP_REFRESH_TICKS) {
            return;
        }
        let nth = (self.requests_sent / WARP_REFRESH_TICKS) as usize;
        let Some(peer) = self
            .connected
            .iter()
            .nth(nth % self.connected.len().max(1))
            .copied()
        else {
            return;
        };
        let request = SyncLies::status_request(self.lies.genesis_status());
        self.swarm.behaviour_mut().sync.send_request(&peer, request);
    }

    /// One of our requests to `peer` was answered (or failed).
    pub(super) fn answered(&mut self, peer: &PeerId) {
        if let Some(n) = self.in_flight.get_mut(peer) {
            *n = n.saturating_sub(1);
        }
    }

    /// A time warper's sync answer: a peer's status is followed by a request for its two
    /// newest headers, and those headers move the warp branch onto its tip (so the branch
    /// has a known parent even before any block is gossiped).
    pub(super) fn learn_tip_for_warp(&mut self, peer: PeerId, response: &[u8]) {
        match talos_sync::decode_response(response, &self.limits) {
            Ok(SyncResponse::Status(status)) if status.tip_height >= 2 => {
                let request = talos_sync::encode_request(&SyncRequest::HeadersByRange {
                    start_height: status.tip_height - 1,
                    count: 2,
                });
                self.swarm.behaviour_mut().sync.send_request(&peer, request);
            }
            Ok(SyncResponse::Headers(headers)) => {
                if let [parent, tip] = headers.as_slice()
                    && tip.prev_hash == parent.id()
                {
                    self.warp.rebase(ParentContext {
                        id: tip.id(),
                        header: *tip,
                        cumulative_work: Work::ZERO,
                        grandparent_timestamp: Some(parent.timestamp_ms),
                    });
                }
            }
            _ => {}
        }
    }

    /// A gossiped message arrived: a real block not seen before gets a body-mutated copy published first,
    /// then is accepted, which relays it to every other mesh peer. Anything else is ignored
    /// (never relayed).
    pub(super) fn relay_mutated_first(
        &mut self,
        source: PeerId,
        id: gossipsub::MessageId,
        message: &gossipsub::Message,
    ) {
        // Only real blocks, each once: never a copy (another mutator's or its own).
        let block = (message.topic == self.blocks_topic.hash())
            .then(|| talos_gossip::decode_block(&message.data, &self.limits).ok())
            .flatten()
            .filter(|b| b.check_body().is_ok() && !self.heard.contains_key(&b.id()));
        if let Some(block) = &block {
            if self.heard.len() >= MAX_HEARD {
                self.heard.clear();
            }
            self.heard.insert(block.id(), block.header);
        }
        let gossip = &mut self.swarm.behaviour_mut().gossipsub;
        let Some(block) = block else {
            gossip.report_message_validation_result(
                &id,
                &source,
                gossipsub::MessageAcceptance::Ignore,
            );
            return;
        };
        let copy = talos_gossip::encode_block(&self.mutator.mutate(&block));
        if gossip.publish(self.blocks_topic.clone(), copy).is_ok() {
            self.counters.sent.fetch_add(1, Ordering::Relaxed);
        }
        gossip.report_message_validation_result(&id, &source, gossipsub::MessageAcceptance::Accept);
    }
}
