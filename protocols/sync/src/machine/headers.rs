//! The header side of a round: fork-point search and the accepted header chain.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Instant;

use talos_chain::{Blame, BlockError, BlockHeader, Hash256, ParentContext, check_header_context};

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

/// Headers checked against the chain rules: the valid prefix and, if a header broke a rule,
/// why.
pub(crate) struct RuledHeaders {
    /// The context of the last valid header (the starting one if none was).
    pub(crate) ctx: ParentContext,
    /// How many leading headers are valid.
    pub(crate) valid: usize,
    /// The rule the next header broke.
    pub(crate) error: Option<BlockError>,
}

/// Checks each header against the consensus rules of the chain it extends, starting from
/// `ctx` (the block the first builds on): retarget, pow limit, a time after the parent's and
/// within the drift of `chain`'s clock. Stops at the first header that breaks one.
pub(crate) fn check_header_rules(
    headers: &[BlockHeader],
    mut ctx: ParentContext,
    chain: &impl ChainView,
) -> RuledHeaders {
    let (spec, now_ms) = (chain.spec(), chain.now_ms());
    for (valid, header) in headers.iter().enumerate() {
        if let Err(error) = check_header_context(header, spec, &ctx, now_ms) {
            return RuledHeaders {
                ctx,
                valid,
                error: Some(error),
            };
        }
        ctx = ctx.child_of_header(header);
    }
    RuledHeaders {
        ctx,
        valid: headers.len(),
        error: None,
    }
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

    /// A header request of round `job_id` failed (no answer in time, `busy`, an error): only
    /// the target can serve its headers, so it loses the round at once (with a growing
    /// back-off) and the next round goes to another peer ahead of us, if any. `silent` (no
    /// answer at all) also costs it [`Misbehaviour::Stalled`]; a `busy` server may be honest
    /// and saturated, so it only loses the round.
    pub(super) fn header_request_failed(&mut self, job_id: u64, silent: bool) {
        let Some(job) = self.job.as_mut().filter(|j| j.id == job_id) else {
            return;
        };
        job.header_request = None;
        let peer = job.peer;
        tracing::debug!(
            ?peer,
            silent,
            "sync: round target failed a header request; rotating"
        );
        if silent {
            self.penalize(peer, Misbehaviour::Stalled);
        }
        self.abort_job(Target::Exhausted);
    }

    /// Adds checked headers to the round. A header that broke a rule ends the target's
    /// headers: the valid ones before it stay (their bodies are fetched if they beat our
    /// chain), and the peer is penalized unless the rule is our clock's ([`Blame::Clock`]: its
    /// time is ahead of ours).
    fn accept_headers(&mut self, peer: P, mut headers: Vec<BlockHeader>, ruled: RuledHeaders) {
        if let Some(error) = &ruled.error {
            tracing::debug!(
                ?peer,
                code = error.code(),
                "sync: header breaks the chain rules"
            );
            if error.blame() != Blame::Clock {
                self.penalize(peer, Misbehaviour::WrongHeaders);
            }
        }
        headers.truncate(ruled.valid);
        let Some(job) = self.job.as_mut() else {
            return;
        };
        if let Some(last) = headers.last() {
            job.last_header = (last.height, last.id());
        }
        job.ctx = Some(ruled.ctx);
        job.headers.extend(headers);
        // A short batch is fine (the responder may cap it): ask on from its end.
        if ruled.error.is_some() || job.last_height() >= job.target.tip_height {
            job.headers_done = true;
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
        if headers.is_empty() && phase == Phase::Download {
            // It has no more headers than these, whatever it claimed: what they back is
            // compared with the claim, and the bodies are fetched if they beat our chain.
            job.headers_done = true;
            return;
        }
        let fault = if headers.len() > count as usize {
            Some(Misbehaviour::TooManyItems)
        } else if headers.is_empty() {
            // No header at a height it claims to have: the claim is backed by nothing.
            (start <= target_height).then_some(Misbehaviour::UnbackedClaim)
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
                let Some(ctx) = self.job.as_ref().and_then(|j| j.ctx.clone()) else {
                    return;
                };
                let ruled = check_header_rules(&headers, ctx, chain);
                self.accept_headers(peer, headers, ruled);
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
        let Some(fork_ctx) = chain.context(&fork_point.1, fork_point.0) else {
            // A fork deeper than the chain can follow (or a block no longer known).
            tracing::debug!(
                ?peer,
                height = fork_point.0,
                "sync: fork point too deep to judge"
            );
            self.abort_job(Target::Exhausted);
            return;
        };
        let new: Vec<BlockHeader> = headers.into_iter().skip(known).collect();
        let ruled = check_header_rules(&new, fork_ctx.clone(), chain);
        let Some(job) = self.job.as_mut() else {
            return;
        };
        tracing::debug!(?peer, height = fork_point.0, hash = %fork_point.1.to_hex(), "sync: fork point found");
        job.phase = Phase::Download;
        job.last_header = fork_point;
        job.ctx = Some(fork_ctx);
        job.next_batch = fork_point.0.saturating_add(1);
        job.next_emit = job.next_batch;
        job.last_progress = now;
        let nothing_new = !full && new.is_empty();
        self.accept_headers(peer, new, ruled);
        if nothing_new && let Some(job) = self.job.as_mut() {
            // It has nothing past blocks we store.
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
