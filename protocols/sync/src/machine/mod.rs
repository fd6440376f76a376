//! The sans-IO range-sync state machine.
//!
//! No networking, no async, no clock: the node feeds events in (peer connected, status,
//! responses, failures, import feedback, ticks with the current [`Instant`]) and drains
//! [`Action`]s out (requests to send, blocks to import, penalties, disconnects). Generic over
//! the peer id so tests use small integers and the node uses libp2p's `PeerId`.
//!
//! # Algorithm
//!
//! Headers first. Every peer is asked for its status on connect and every
//! [`SyncConfig::status_interval`]. A peer on another network or genesis is disconnected. Of
//! the peers advertising more cumulative work than ours, the one that failed the fewest rounds
//! (then the one claiming the most work) becomes the target of a *round*. A claim only picks
//! whom to ask: nothing is downloaded on its strength, and a target that does not back it
//! loses the round to the next peer (see *Claims* below).
//!
//! 1. **Fork point.** Ask the target for headers from just above our tip. If the first header's
//!    parent is not a block we store, step back exponentially (our height − 1, − 2, − 4, …,
//!    down to genesis) until the headers link to a block we know; leading headers we already
//!    store are skipped. This finds where a heavier fork left our chain (a reorg).
//! 2. **Headers.** Each header batch is checked cheaply first: no more than asked, contiguous
//!    heights from the height asked, each linked to the one before (and the first to the last
//!    accepted header), each meeting its own target, all on our network; a peer failing that
//!    is penalized and the round is dropped. Then each header is checked against the chain
//!    rules from the block it builds on ([`talos_chain::check_header_context`]: the retarget
//!    and pow limit, a time after the parent's and within the drift of our clock), starting
//!    from the fork point's context ([`ChainView::context`]). A header only counts once these
//!    hold: the valid ones before a bad one are kept, the peer is penalized (unless its time
//!    is merely ahead of our clock) and sends no more headers this round. Headers are held up
//!    to [`SyncConfig::max_headers_ahead`] past the import point.
//! 3. **Blocks.** Only once the accepted headers carry more work than our chain (checked
//!    work, not claimed) are they cut into ranges of
//!    [`SyncConfig::blocks_per_request`] within [`SyncConfig::window`] of the import point and
//!    spread over every peer that has them (the target, peers at the same tip or at a tip in the
//!    accepted chain), at most [`SyncConfig::max_in_flight_per_peer`] per peer. Each answer must
//!    match the accepted headers block for block, body included (the item count and Merkle
//!    root its header commits to; fewer blocks than asked is fine, the rest is asked again);
//!    mismatches, extra blocks and empty answers are penalized and the range goes to another
//!    peer. Timeouts too, lightly. Ranges are handed to import strictly in height order,
//!    parent first.
//! 4. **Feedback.** The machine reads the chain ([`ChainView`]) to learn which handed-over
//!    blocks are stored, which moves the window. An invalid block from a peer is penalized
//!    heavily and ends the round. When the round is done, the next one starts while some peer
//!    is still ahead.
//!
//! # Claims
//!
//! A target that fails its own header request (no answer in time, `busy`, an error) loses the
//! round at once (silence also costs it [`Misbehaviour::Stalled`]); so does one whose round goes
//! [`SyncConfig::import_timeout`] without a block handed to import. When its headers end, the
//! work they back is compared with the work it claimed: less costs it
//! [`Misbehaviour::UnbackedClaim`], and if they do not beat our chain the round ends. A lost
//! round marks the target's tip exhausted for a back-off ([`SyncConfig::round_backoff`],
//! doubled per failed round) and counts against it when the next target is chosen, so a peer
//! that lies about its work cannot hold the round while an honest peer is reachable.
//!
//! # Headers-only mode
//!
//! A light client sets [`SyncConfig::headers_only`] and gives the machine a [`ChainView`] over
//! its header store (`has_block`: the header is stored; `context`: from the stored headers).
//! Steps 1, 2 and the claims are the same; step 3 fetches nothing: once the accepted headers'
//! checked work beats our chain's, they are handed over in height order as
//! [`Action::ImportHeaders`] (chunks of at most [`SyncConfig::headers_per_request`]), and step
//! 4 reads which of them are stored. A header chain that never beats ours is never handed
//! over: it lives only in the round's memory, at most [`SyncConfig::max_headers_ahead`]
//! headers. A header the store rejects costs its peer [`Misbehaviour::InvalidHeader`] and ends
//! the round, as an invalid block does. Orphan notices only ask the peer for its status.
//!
//! Orphans from gossip ([`SyncMachine::on_missing_parent`]) are resolved separately: their
//! ancestors are fetched one by one by hash from the peer that sent them, up to
//! [`SyncConfig::max_orphans`] deep, then handed to import oldest first. A deeper gap is left to
//! range sync (the peer is asked for its status).

mod actions;
mod blocks;
mod chain_view;
mod config;
mod header_import;
mod headers;
mod job;
mod orphans;
mod peer;
mod requests;

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::time::{Duration, Instant};

use talos_chain::{ChainStatus, Hash256, Work};

pub use actions::{Action, DisconnectReason, Misbehaviour, RequestId, SyncStatus};
pub use chain_view::ChainView;
pub use config::SyncConfig;

use actions::ActionQueue;
use job::Job;
use orphans::OrphanFetch;
use peer::PeerState;
use requests::InFlight;

use crate::messages::{ErrorCode, SyncResponse};
use crate::server::error_response;

/// What a dropped round means for the tip it followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// It may be followed again (the round stalled, or we caught up).
    Unchanged,
    /// Its peer failed to back it: not followed again until the peer advertises another tip.
    Exhausted,
}

/// Shortest time between two announcements of a reorg to every peer (a peer's status quota
/// is 20 per 10 s).
pub const ANNOUNCE_GAP: Duration = Duration::from_secs(1);

/// The range-sync state machine. See the [module documentation](self) for the algorithm.
#[derive(Debug)]
pub struct SyncMachine<P> {
    config: SyncConfig,
    local: ChainStatus,
    peers: HashMap<P, PeerState>,
    requests: HashMap<RequestId, InFlight<P>>,
    /// Header, block and orphan requests in flight (status requests not counted).
    in_flight: usize,
    next_request: u64,
    next_job: u64,
    job: Option<Job<P>>,
    orphans: Vec<OrphanFetch<P>>,
    actions: ActionQueue<P>,
    /// The latest time an event brought (the machine has no clock of its own).
    now: Option<Instant>,
    /// When a reorg was last announced to every peer.
    last_announce: Option<Instant>,
}

impl<P: Copy + Eq + Hash + Debug> SyncMachine<P> {
    /// A machine for a node whose chain is at `local`. The configuration is
    /// [normalized](SyncConfig::normalized).
    pub fn new(config: SyncConfig, local: ChainStatus) -> Self {
        let config = config.normalized();
        let actions = ActionQueue::new(config.max_queued_actions);
        Self {
            config,
            local,
            peers: HashMap::new(),
            requests: HashMap::new(),
            in_flight: 0,
            next_request: 0,
            next_job: 0,
            job: None,
            orphans: Vec::new(),
            actions,
            now: None,
            last_announce: None,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Our status as last read from the chain: what to answer a peer's status request with.
    pub fn local_status(&self) -> &ChainStatus {
        &self.local
    }

    /// Whether we are catching up with a peer.
    pub fn state(&self) -> SyncStatus {
        match &self.job {
            Some(job) => SyncStatus::Syncing {
                target_height: job.target.tip_height,
            },
            None => SyncStatus::Idle,
        }
    }

    /// The status `peer` last told us.
    pub fn peer_status(&self, peer: &P) -> Option<ChainStatus> {
        self.peers.get(peer).and_then(|p| p.status)
    }

    /// Number of peers known (connected and not dropped).
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Requests sent and not yet answered, status requests included.
    pub fn requests_in_flight(&self) -> usize {
        self.requests.len()
    }

    /// Orphan-chain blocks held while their ancestors are fetched.
    pub fn orphans_held(&self) -> usize {
        self.orphans.iter().map(|o| o.blocks.len()).sum()
    }

    /// Penalties and disconnects dropped because the output queue was full.
    pub fn dropped_actions(&self) -> u64 {
        self.actions.dropped()
    }

    /// Actions waiting to be drained.
    pub fn queued_actions(&self) -> usize {
        self.actions.len()
    }

    /// The next action for the node, oldest first.
    pub fn poll_action(&mut self) -> Option<Action<P>> {
        self.actions.pop()
    }

    /// A peer connected: ask for its status (with ours).
    pub fn on_peer_connected(&mut self, peer: P, now: Instant) {
        self.peers.entry(peer).or_default();
        self.request_status(peer, now);
    }

    /// A peer disconnected: forget it; its block ranges go back to the queue (no penalty), and
    /// a round following its headers is dropped.
    pub fn on_peer_disconnected(&mut self, peer: P) {
        self.remove_peer(peer);
    }

    /// A peer sent its status in a request: the answer to send back. It is our status, or a
    /// `wrong_network` error when the peer is on another network or genesis (the peer is then
    /// disconnected, as [`SyncMachine::on_status`] does). This and `on_status` are the one
    /// place that checks a peer's network.
    pub fn on_status_request(
        &mut self,
        peer: P,
        theirs: ChainStatus,
        chain: &impl ChainView,
        now: Instant,
    ) -> SyncResponse {
        if !theirs.same_network(&self.local) {
            self.drop_wrong_network(peer, &theirs);
            return error_response(ErrorCode::WrongNetwork, "different network or genesis");
        }
        self.on_status(peer, theirs, chain, now);
        SyncResponse::Status(self.local)
    }

    /// A peer told us its status, in a request or a response. A peer on another network or
    /// genesis is disconnected.
    pub fn on_status(
        &mut self,
        peer: P,
        status: ChainStatus,
        chain: &impl ChainView,
        now: Instant,
    ) {
        if !status.same_network(&self.local) {
            self.drop_wrong_network(peer, &status);
            return;
        }
        if let Some(job) = self.job.as_mut()
            && job.peer == peer
            && status.cumulative_work > job.target.cumulative_work
        {
            job.target = status;
            job.headers_done = false;
            job.claim_checked = false;
        }
        // Only peers still connected have state: a late status recreates nothing.
        if let Some(state) = self.peers.get_mut(&peer) {
            state.status = Some(status);
        }
        self.drive(chain, now);
    }

    /// The answer to request `id` from `peer`.
    pub fn on_response(
        &mut self,
        peer: P,
        id: RequestId,
        response: SyncResponse,
        chain: &impl ChainView,
        now: Instant,
    ) {
        let Some(request) = self.take_request(peer, id) else {
            // Answered after we gave up on it, or not ours: nothing to do.
            tracing::trace!(?peer, %id, "sync: response to an unknown request");
            return;
        };
        match (request.kind, response) {
            (requests::Kind::Status, SyncResponse::Status(status)) => {
                return self.on_status(peer, status, chain, now);
            }
            (requests::Kind::Headers(ask), SyncResponse::Headers(headers)) => {
                self.on_headers(peer, ask, headers, chain, now);
            }
            (requests::Kind::Blocks(ask), SyncResponse::Blocks(blocks)) => {
                self.on_blocks(peer, id, ask, blocks, now);
            }
            (requests::Kind::Orphan { want }, SyncResponse::Blocks(blocks)) => {
                self.on_orphan_blocks(peer, id, want, blocks, chain, now);
            }
            (kind, SyncResponse::Error { code, .. }) => {
                tracing::debug!(?peer, %code, "sync: peer refused a request");
                if code == ErrorCode::WrongNetwork {
                    // The peer found our status on another network than its own.
                    self.disconnect_wrong_network(peer);
                    return;
                }
                let penalty = (code == ErrorCode::NotFound).then_some(Misbehaviour::EmptyResponse);
                self.request_failed(peer, id, kind, penalty);
            }
            (kind, other) => {
                tracing::debug!(?peer, kind = other.kind_name(), "sync: wrong response kind");
                self.request_failed(peer, id, kind, Some(Misbehaviour::UnrequestedData));
            }
        }
        self.drive(chain, now);
    }

    /// Request `id` to `peer` failed (timeout, stream or connection error, undecodable
    /// answer): the peer is penalized lightly and the range is retried, preferably elsewhere.
    /// Ranges are re-assigned on the next [`SyncMachine::tick`] or event.
    pub fn on_request_failed(&mut self, peer: P, id: RequestId, now: Instant) {
        if let Some(request) = self.take_request(peer, id) {
            self.request_failed(peer, id, request.kind, Some(Misbehaviour::Timeout));
            self.schedule(now);
        }
    }

    /// Blocks (headers-only mode: headers) were imported or found already stored: the window
    /// may move on.
    pub fn on_blocks_imported(&mut self, chain: &impl ChainView, now: Instant) {
        self.drive(chain, now);
    }

    /// A block (headers-only mode: a header) from `peer` failed validation (`code`: the chain
    /// crate's error code, for logs). The peer is penalized heavily
    /// ([`Misbehaviour::InvalidBlock`], or [`Misbehaviour::InvalidHeader`] in headers-only
    /// mode); if it served blocks or headers of the current round, the round is dropped (what
    /// was handed over after the bad one is not confirmed, and nothing more is) and its target
    /// is not followed again at that tip.
    pub fn on_import_failed(&mut self, peer: P, code: &str) {
        let misbehaviour = if self.config.headers_only {
            Misbehaviour::InvalidHeader
        } else {
            Misbehaviour::InvalidBlock
        };
        tracing::debug!(?peer, code, %misbehaviour, "sync: invalid import from peer");
        self.actions
            .push_control(Action::Penalize { peer, misbehaviour });
        let served_round = self
            .job
            .as_ref()
            .is_some_and(|job| job.emitted_by.iter().any(|(_, p)| *p == peer));
        if served_round {
            self.abort_job(Target::Exhausted);
        }
    }

    /// The local best tip moved; `reorged` when it moved to another branch (blocks were
    /// disconnected). After a reorg every peer is sent our status at once (at most once per
    /// [`ANNOUNCE_GAP`]): the branch we switched to reached us through sync or orphan fetches,
    /// which gossip does not relay, so peers still on the old branch would otherwise wait for
    /// the status interval.
    pub fn on_local_tip_changed(&mut self, chain: &impl ChainView, now: Instant, reorged: bool) {
        self.drive(chain, now);
        let due = self
            .last_announce
            .is_none_or(|at| now.saturating_duration_since(at) >= ANNOUNCE_GAP);
        if reorged && due {
            self.last_announce = Some(now);
            let peers: Vec<P> = self.peers.keys().copied().collect();
            for peer in peers {
                self.request_status(peer, now);
            }
        }
    }

    /// A block from `peer` (gossip) has an unknown parent, `parent` at `parent_height`: fetch
    /// its ancestors by hash (headers-only mode: ask the peer for its status instead, range
    /// sync follows it if it is ahead).
    pub fn on_missing_parent(
        &mut self,
        peer: P,
        parent: Hash256,
        parent_height: u64,
        chain: &impl ChainView,
        now: Instant,
    ) {
        self.start_orphan_fetch(peer, (parent, parent_height), chain, now);
        self.drive(chain, now);
    }

    /// Time passed: expire requests, re-read the chain, start what can be started.
    pub fn tick(&mut self, now: Instant, chain: &impl ChainView) {
        self.expire_requests(now);
        self.drive(chain, now);
    }

    /// Re-reads the chain, ends or starts a round, then schedules requests and imports.
    fn drive(&mut self, chain: &impl ChainView, now: Instant) {
        self.now = Some(now);
        self.local = chain.tip();
        self.confirm_imports(chain, now);
        self.finish_job_if_done(now);
        if self.job.is_none() {
            self.start_job(now);
        }
        self.schedule(now);
    }

    /// Sends what can be sent and hands over what can be imported (no chain access).
    fn schedule(&mut self, now: Instant) {
        self.now = Some(now);
        self.request_due_statuses(now);
        self.request_headers(now);
        self.plan_batches();
        self.assign_batches(now);
        self.emit_imports(now);
        self.emit_headers(now);
        self.send_orphan_requests(now);
    }

    /// Starts a round with a peer advertising more work than ours, if any: of those, the one
    /// that failed the fewest rounds, then the one claiming the most work. Claims only choose
    /// whom to ask; rounds rotate away from a peer that does not back its claim.
    fn start_job(&mut self, now: Instant) {
        let best = self
            .peers
            .iter()
            .filter_map(|(peer, state)| {
                let status = state.ahead_of(&self.local, now)?;
                Some((*peer, state.failed_rounds, *status))
            })
            .min_by(|a, b| {
                (a.1.cmp(&b.1)).then_with(|| b.2.cumulative_work.cmp(&a.2.cumulative_work))
            });
        let Some((peer, _, target)) = best else {
            return;
        };
        self.next_job = self.next_job.wrapping_add(1);
        let fork_hint = (self.local.tip_height, self.local.tip_hash);
        tracing::debug!(
            ?peer,
            height = target.tip_height,
            hash = %target.tip_hash.to_hex(),
            "sync: round started"
        );
        self.job = Some(Job::new(self.next_job, peer, target, fork_hint, now));
    }

    /// Ends the round when done, stalled, or no longer ahead of us.
    fn finish_job_if_done(&mut self, now: Instant) {
        self.check_claim();
        let Some(job) = self.job.as_ref() else {
            return;
        };
        if self.local.cumulative_work >= job.target.cumulative_work {
            tracing::debug!(
                height = self.local.tip_height,
                "sync: caught up with target"
            );
            self.abort_job(Target::Unchanged);
        } else if job.is_complete() {
            // Everything the target had is stored, yet it is still "ahead": its claim was
            // false or its chain lost to ours. Do not follow that tip again.
            tracing::debug!(peer = ?job.peer, "sync: round done short of the advertised work");
            self.abort_job(Target::Exhausted);
        } else if now.saturating_duration_since(job.last_progress) >= self.config.import_timeout {
            let peer = job.peer;
            if job.emitted_by.is_empty() {
                // Nothing handed to import for a long time: nobody serves the bodies of the
                // target's headers, the target included. The round goes to another peer.
                tracing::debug!(?peer, "sync: round made no progress in time; rotating");
                self.penalize(peer, Misbehaviour::Stalled);
                self.abort_job(Target::Exhausted);
            } else {
                // Handed over but never seen stored: the import pipeline dropped them (ours,
                // not the peer's fault). Start afresh.
                tracing::debug!(?peer, "sync: imports never confirmed; restarting the round");
                self.abort_job(Target::Unchanged);
            }
        }
    }

    /// Once the target has sent every header it has, compares the work they back with the
    /// work it claimed. Less costs it the claim: penalized, and if its headers do not even
    /// beat our chain, the round ends (the bodies were never fetched).
    fn check_claim(&mut self) {
        let local_work = self.local.cumulative_work;
        let Some(job) = self.job.as_mut() else {
            return;
        };
        if job.claim_checked || !job.headers_done || job.header_request.is_some() {
            return;
        }
        job.claim_checked = true;
        let backed = job.backed_work().unwrap_or(Work::ZERO);
        if backed >= job.target.cumulative_work {
            return;
        }
        let peer = job.peer;
        tracing::debug!(?peer, %backed, claimed = %job.target.cumulative_work, "sync: headers do not back the claimed work");
        self.penalize(peer, Misbehaviour::UnbackedClaim);
        if backed <= local_work {
            self.abort_job(Target::Exhausted);
        }
    }

    /// Drops the round; its requests are forgotten (late answers are ignored). An
    /// [`Target::Exhausted`] target is not followed again until it advertises another tip.
    fn abort_job(&mut self, target: Target) {
        let Some(job) = self.job.take() else {
            return;
        };
        if target == Target::Exhausted
            && let Some(state) = self.peers.get_mut(&job.peer)
        {
            state.exhaust(job.target.tip_hash, self.now, self.config.round_backoff);
        }
        let stale: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.kind.job() == Some(job.id))
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(request) = self.requests.remove(&id) {
                self.release(request.peer, &request.kind);
            }
        }
    }

    /// Forgets a peer whose status names another network or genesis and asks the node to drop
    /// it.
    fn drop_wrong_network(&mut self, peer: P, status: &ChainStatus) {
        tracing::debug!(
            ?peer,
            network_id = status.network_id,
            "sync: peer on another network"
        );
        self.disconnect_wrong_network(peer);
    }

    /// Forgets `peer` and asks the node to drop it as being on another network.
    fn disconnect_wrong_network(&mut self, peer: P) {
        self.remove_peer(peer);
        self.actions.push_control(Action::Disconnect {
            peer,
            reason: DisconnectReason::WrongNetwork,
        });
    }

    /// Forgets a peer and everything in flight to it.
    fn remove_peer(&mut self, peer: P) {
        self.peers.remove(&peer);
        let ids: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(request) = self.requests.remove(&id) {
                self.release(peer, &request.kind);
                if let requests::Kind::Blocks(ask) = request.kind {
                    self.requeue_batch(ask.job, ask.start, id);
                }
            }
        }
        self.orphans.retain(|o| o.peer != peer);
        if self.job.as_ref().is_some_and(|job| job.peer == peer) {
            self.abort_job(Target::Unchanged);
        }
    }
}

#[cfg(test)]
mod tests;
