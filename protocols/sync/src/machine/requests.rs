//! Requests in flight: sending, matching answers, failures and timeouts.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Instant;

use talos_chain::Hash256;

use super::SyncMachine;
use super::actions::{Action, Misbehaviour, RequestId};
use crate::messages::SyncRequest;

/// Heights `start..start + count` asked for in round `job`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RangeAsk {
    /// The round.
    pub(crate) job: u64,
    /// First height.
    pub(crate) start: u64,
    /// How many.
    pub(crate) count: u32,
}

/// What a request was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Our status for theirs.
    Status,
    /// Headers of a range.
    Headers(RangeAsk),
    /// Blocks of a range.
    Blocks(RangeAsk),
    /// The ancestor `want` of an orphan.
    Orphan { want: Hash256 },
}

impl Kind {
    /// The round the request belongs to.
    pub(crate) fn job(&self) -> Option<u64> {
        match self {
            Self::Headers(ask) | Self::Blocks(ask) => Some(ask.job),
            Self::Status | Self::Orphan { .. } => None,
        }
    }
}

/// A request in flight.
#[derive(Clone, Debug)]
pub(crate) struct InFlight<P> {
    pub(crate) peer: P,
    pub(crate) kind: Kind,
    pub(crate) deadline: Instant,
}

impl<P: Copy + Eq + Hash + Debug> SyncMachine<P> {
    /// Whether another header, block or orphan request may go to `peer` now.
    pub(super) fn can_send_to(&self, peer: &P) -> bool {
        self.actions.has_room()
            && self.in_flight < self.config.max_in_flight_total
            && self
                .peers
                .get(peer)
                .is_some_and(|p| p.in_flight < self.config.max_in_flight_per_peer)
    }

    /// Queues `request` to `peer`; the caller checked the limits.
    pub(super) fn send(
        &mut self,
        peer: P,
        kind: Kind,
        request: SyncRequest,
        now: Instant,
    ) -> RequestId {
        self.next_request = self.next_request.wrapping_add(1);
        let id = RequestId(self.next_request);
        if let Some(state) = self.peers.get_mut(&peer) {
            if kind == Kind::Status {
                state.status_in_flight = true;
                state.last_status_request = Some(now);
            } else {
                state.in_flight += 1;
            }
        }
        if kind != Kind::Status {
            self.in_flight += 1;
        }
        self.requests.insert(
            id,
            InFlight {
                peer,
                kind,
                deadline: now + self.config.request_timeout,
            },
        );
        self.actions.push(Action::Send { peer, id, request });
        id
    }

    /// Asks `peer` for its status, unless one is in flight or the queue is full.
    pub(super) fn request_status(&mut self, peer: P, now: Instant) {
        let ready =
            self.actions.has_room() && self.peers.get(&peer).is_some_and(|p| !p.status_in_flight);
        if ready {
            let request = SyncRequest::Status(self.local);
            self.send(peer, Kind::Status, request, now);
        }
    }

    /// Asks every peer whose status is due.
    pub(super) fn request_due_statuses(&mut self, now: Instant) {
        let interval = self.config.status_interval;
        let due: Vec<P> = self
            .peers
            .iter()
            .filter(|(_, p)| p.status_due(now, interval))
            .map(|(peer, _)| *peer)
            .collect();
        for peer in due {
            self.request_status(peer, now);
        }
    }

    /// Removes request `id` if it was sent to `peer`, releasing its slot.
    pub(super) fn take_request(&mut self, peer: P, id: RequestId) -> Option<InFlight<P>> {
        if self.requests.get(&id)?.peer != peer {
            return None;
        }
        let request = self.requests.remove(&id)?;
        self.release(peer, &request.kind);
        Some(request)
    }

    /// Releases the slot a request held.
    pub(super) fn release(&mut self, peer: P, kind: &Kind) {
        let state = self.peers.get_mut(&peer);
        if *kind == Kind::Status {
            if let Some(state) = state {
                state.status_in_flight = false;
            }
            return;
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(state) = state {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }

    /// A taken request failed: penalize (if `penalty`) and put its work back.
    pub(super) fn request_failed(
        &mut self,
        peer: P,
        id: RequestId,
        kind: Kind,
        penalty: Option<Misbehaviour>,
    ) {
        tracing::debug!(?peer, %id, ?kind, penalty = penalty.map(|m| m.code()), "sync: request failed");
        if let Some(misbehaviour) = penalty {
            self.penalize(peer, misbehaviour);
        }
        match kind {
            Kind::Status => {}
            Kind::Headers(ask) => {
                let silent = penalty == Some(Misbehaviour::Timeout);
                self.header_request_failed(ask.job, silent);
            }
            Kind::Blocks(ask) => self.retry_batch(ask.job, ask.start, id, peer),
            Kind::Orphan { want } => self.orphans.retain(|o| o.want != want || o.peer != peer),
        }
    }

    /// Fails every request past its deadline.
    pub(super) fn expire_requests(&mut self, now: Instant) {
        let expired: Vec<(RequestId, P)> = self
            .requests
            .iter()
            .filter(|(_, r)| r.deadline <= now)
            .map(|(id, r)| (*id, r.peer))
            .collect();
        for (id, peer) in expired {
            if let Some(request) = self.take_request(peer, id) {
                self.request_failed(peer, id, request.kind, Some(Misbehaviour::Timeout));
            }
        }
    }

    /// Queues a penalty.
    pub(super) fn penalize(&mut self, peer: P, misbehaviour: Misbehaviour) {
        tracing::debug!(?peer, code = misbehaviour.code(), "sync: penalizing peer");
        self.actions
            .push_control(Action::Penalize { peer, misbehaviour });
    }
}
