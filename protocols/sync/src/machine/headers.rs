//! The header side of a round: fork-point search and the accepted header chain.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Instant;

use talos_chain::{BlockHeader, Hash256};

use super::actions::Misbehaviour;
use super::chain_view::ChainView;
use super::job::Phase;
use super::requests::{Kind, RangeAsk};
use super::{SyncMachine, Target};
use crate::messages::SyncRequest;

/// Why a header batch is not a plausible piece of chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderShapeError {
    /// A header is not at the height it should be.
    WrongHeight,
    /// A header does not name the one before as its parent.
    Unlinked,
    /// A header's id does not meet its own target.
    NoWork,
    /// A header of another network.
    WrongNetwork,
}

/// Checks that `headers` start at `start`, are contiguous and linked (the first to
/// `parent` when given), each meeting its own target and carrying `network_id`.
pub(crate) fn check_header_chain(
    headers: &[BlockHeader],
    start: u64,
    parent: Option<Hash256>,
    network_id: u32,
) -> Result<(), HeaderShapeError> {
    let mut expected_height = start;
    let mut expected_parent = parent;
    for header in headers {
        if header.height != expected_height {
            return Err(HeaderShapeError::WrongHeight);
        }
        if expected_parent.is_some_and(|p| p != header.prev_hash) {
            return Err(HeaderShapeError::Unlinked);
        }
        if header.network_id != network_id {
            return Err(HeaderShapeError::WrongNetwork);
        }
        if !header.meets_own_target() {
            return Err(HeaderShapeError::NoWork);
        }
        expected_height = expected_height.saturating_add(1);
        expected_parent = Some(header.id());
    }
    Ok(())
}

/// The height whose block the fork probe number `attempt` expects as the parent of the first
/// header: just below the peer's tip or at our tip for attempt 0, then `2^(attempt−1)` lower.
pub(crate) fn probe_anchor(local_height: u64, peer_height: u64, attempt: u32) -> u64 {
    let base = local_height.min(peer_height.saturating_sub(1));
    match attempt {
        0 => base,
        k => base.saturating_sub(1u64 << (k - 1).min(63)),
    }
}

impl<P: Copy + Eq + Hash + Debug> SyncMachine<P> {
    /// Sends the round's next header request, if one is needed and the target has room.
    pub(super) fn request_headers(&mut self, now: Instant) {
        let Some(job) = self.job.as_ref() else {
            return;
        };
        if job.header_request.is_some() || !self.can_send_to(&job.peer) {
            return;
        }
        let (start, count) = match job.phase {
            Phase::FindFork { attempt } => {
                let anchor = probe_anchor(self.local.tip_height, job.target.tip_height, attempt);
                let start = anchor.saturating_add(1);
                let wanted = job.target.tip_height.saturating_sub(anchor).max(1);
                (start, clamp_count(wanted, self.config.headers_per_request))
            }
            Phase::Download => {
                if job.headers_done {
                    return;
                }
                let start = job.last_height().saturating_add(1);
                let held = job
                    .last_height()
                    .saturating_sub(job.import_base().saturating_sub(1));
                let room = self.config.max_headers_ahead.saturating_sub(held);
                let remaining = job
                    .target
                    .tip_height
                    .saturating_add(1)
                    .saturating_sub(start);
                let wanted = room.min(remaining);
                if wanted == 0 {
                    if remaining == 0
                        && let Some(job) = self.job.as_mut()
                    {
                        job.headers_done = true;
                    }
                    return;
                }
                (start, clamp_count(wanted, self.config.headers_per_request))
            }
        };
        let (peer, job_id) = (job.peer, job.id);
        let kind = Kind::Headers(RangeAsk {
            job: job_id,
            start,
            count,
        });
        let id = self.send(
            peer,
            kind,
            SyncRequest::HeadersByRange {
                start_height: start,
                count,
            },
            now,
        );
        if let Some(job) = self.job.as_mut() {
            job.header_request = Some(id);
        }
    }

    /// A header request of round `job_id` failed: try again, up to the retry limit.
    pub(super) fn header_request_failed(&mut self, job_id: u64) {
        let max = self.config.max_retries;
        let Some(job) = self.job.as_mut().filter(|j| j.id == job_id) else {
            return;
        };
        job.header_request = None;
        job.header_failures += 1;
        if job.header_failures > max {
            self.abort_job(Target::Exhausted);
        }
    }

    /// Headers answering the request `ask`.
    pub(super) fn on_headers(
        &mut self,
        peer: P,
        ask: RangeAsk,
        headers: Vec<BlockHeader>,
        chain: &impl ChainView,
        now: Instant,
    ) {
        let RangeAsk {
            job: job_id,
            start,
            count,
        } = ask;
        let network_id = self.local.network_id;
        let Some(job) = self.job.as_mut().filter(|j| j.id == job_id) else {
            return;
        };
        job.header_request = None;
        let (phase, target_height, last_id) = (job.phase, job.target.tip_height, job.last_header.1);
        let fault = if headers.len() > count as usize {
            Some(Misbehaviour::TooManyItems)
        } else if headers.is_empty() {
            (start <= target_height).then_some(Misbehaviour::EmptyResponse)
        } else {
            let parent = (phase == Phase::Download).then_some(last_id);
            check_header_chain(&headers, start, parent, network_id)
                .err()
                .map(|e| {
                    tracing::debug!(?peer, error = ?e, "sync: bad header chain");
                    Misbehaviour::WrongHeaders
                })
        };
        if let Some(misbehaviour) = fault {
            self.penalize(peer, misbehaviour);
            self.abort_job(Target::Exhausted);
            return;
        }
        match phase {
            Phase::FindFork { attempt } => {
                self.on_probe_headers(peer, attempt, ask, headers, chain, now);
            }
            Phase::Download => {
                let Some(job) = self.job.as_mut() else {
                    return;
                };
                if let Some(last) = headers.last() {
                    job.last_header = (last.height, last.id());
                }
                job.headers.extend(headers);
                // A short batch is fine (the responder may cap it): ask on from its end.
                if job.last_height() >= job.target.tip_height {
                    job.headers_done = true;
                }
            }
        }
    }

    /// Headers answering fork probe number `attempt`.
    fn on_probe_headers(
        &mut self,
        peer: P,
        attempt: u32,
        ask: RangeAsk,
        headers: Vec<BlockHeader>,
        chain: &impl ChainView,
        now: Instant,
    ) {
        let RangeAsk { start, count, .. } = ask;
        let Some(first) = headers.first() else {
            return;
        };
        if !chain.has_block(&first.prev_hash, first.height.saturating_sub(1)) {
            if start <= 1 {
                // The peer's block 1 does not build on our genesis.
                self.penalize(peer, Misbehaviour::WrongHeaders);
                self.abort_job(Target::Exhausted);
            } else if let Some(job) = self.job.as_mut() {
                job.phase = Phase::FindFork {
                    attempt: attempt.saturating_add(1),
                };
            }
            return;
        }
        let known = headers
            .iter()
            .take_while(|h| chain.has_block(&h.id(), h.height))
            .count();
        let fork_point = match known.checked_sub(1).and_then(|i| headers.get(i)) {
            Some(h) => (h.height, h.id()),
            None => (start.saturating_sub(1), first.prev_hash),
        };
        let full = headers.len() == count as usize;
        let Some(job) = self.job.as_mut() else {
            return;
        };
        tracing::debug!(?peer, height = fork_point.0, hash = %fork_point.1.to_hex(), "sync: fork point found");
        job.phase = Phase::Download;
        job.last_header = fork_point;
        job.next_batch = fork_point.0.saturating_add(1);
        job.next_emit = job.next_batch;
        job.last_progress = now;
        let new: Vec<BlockHeader> = headers.into_iter().skip(known).collect();
        if let Some(last) = new.last() {
            job.last_header = (last.height, last.id());
        }
        job.headers.extend(new);
        if job.last_height() >= job.target.tip_height || (!full && job.headers.is_empty()) {
            // Caught up with what it advertised, or it has nothing past blocks we store.
            job.headers_done = true;
        }
    }
}

/// `wanted` as a request count of at most `max`.
fn clamp_count(wanted: u64, max: u32) -> u32 {
    u32::try_from(wanted.min(u64::from(max)))
        .unwrap_or(max)
        .max(1)
}
