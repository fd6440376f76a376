//! The block side of a round: ranges, their assignment to peers, answers, and the in-order
//! hand-over to import.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Instant;

use talos_chain::Block;

use super::actions::{Action, Misbehaviour, RequestId};
use super::chain_view::ChainView;
use super::job::{Batch, BatchState, Phase};
use super::requests::{Kind, RangeAsk};
use super::{SyncMachine, Target};
use crate::messages::SyncRequest;

/// What an answer to a block range turned out to be.
enum Verdict {
    /// All blocks match the accepted headers.
    Matches,
    /// The peer is at fault.
    Fault(Misbehaviour),
    /// Valid-looking blocks of another chain from a peer not known to be on ours.
    OtherChain,
}

impl<P: Copy + Eq + Hash + Debug> SyncMachine<P> {
    /// Cuts accepted headers into ranges, within the window (never in headers-only mode).
    pub(super) fn plan_batches(&mut self) {
        if self.config.headers_only {
            return;
        }
        let per_request = u64::from(self.config.blocks_per_request);
        let window = self.config.window;
        let local_work = self.local.cumulative_work;
        let Some(job) = self.job.as_mut().filter(|j| j.phase == Phase::Download) else {
            return;
        };
        // Bodies are fetched only for a header chain that, checked, beats ours: a claim alone
        // buys a peer nothing, and every block downloaded is on a branch that becomes best.
        if job.backed_work().is_none_or(|work| work <= local_work) {
            return;
        }
        let window_end = job.import_base().saturating_add(window); // exclusive
        let last = job.last_height();
        while job.next_batch <= last && job.next_batch < window_end {
            let end = last.saturating_add(1).min(window_end);
            let count = (end - job.next_batch).min(per_request);
            let Ok(count) = u32::try_from(count) else {
                return;
            };
            job.batches.insert(job.next_batch, Batch::new(count));
            job.next_batch += u64::from(count);
        }
    }

    /// Whether `peer` can serve heights up to `end` of the round.
    fn peer_has_range(&self, peer: &P, end: u64) -> bool {
        let (Some(job), Some(status)) = (
            self.job.as_ref(),
            self.peers.get(peer).and_then(|p| p.status.as_ref()),
        ) else {
            return false;
        };
        if job.excluded.contains(peer) || status.tip_height < end {
            return false;
        }
        // Only peers shown to be on the round's chain: a claim of more work is no evidence.
        *peer == job.peer || job.is_on_chain(status)
    }

    /// Sends pending ranges, lowest first, each to the least busy peer that has it, preferring
    /// peers that have not failed it.
    pub(super) fn assign_batches(&mut self, now: Instant) {
        let Some(job) = self.job.as_ref() else {
            return;
        };
        let job_id = job.id;
        let pending: Vec<(u64, u32, Vec<P>)> = job
            .batches
            .iter()
            .filter(|(_, b)| matches!(b.state, BatchState::Pending))
            .map(|(start, b)| (*start, b.count, b.tried.clone()))
            .collect();
        for (start, count, tried) in pending {
            let end = start + u64::from(count) - 1;
            let best = self
                .peers
                .iter()
                .filter(|(peer, _)| self.can_send_to(peer) && self.peer_has_range(peer, end))
                .min_by_key(|(peer, state)| (tried.contains(peer), state.in_flight))
                .map(|(peer, _)| *peer);
            let Some(peer) = best else {
                continue;
            };
            let kind = Kind::Blocks(RangeAsk {
                job: job_id,
                start,
                count,
            });
            let request = SyncRequest::BlocksByRange {
                start_height: start,
                count,
            };
            let id = self.send(peer, kind, request, now);
            if let Some(batch) = self.job.as_mut().and_then(|j| j.batches.get_mut(&start)) {
                batch.state = BatchState::InFlight { id };
            }
        }
    }

    /// Puts range `start` of round `job_id`, asked under `id`, back in the queue without
    /// blame (its peer left).
    pub(super) fn requeue_batch(&mut self, job_id: u64, start: u64, id: RequestId) {
        if let Some(batch) = self
            .job
            .as_mut()
            .filter(|j| j.id == job_id)
            .and_then(|j| j.batches.get_mut(&start))
            && matches!(batch.state, BatchState::InFlight { id: i } if i == id)
        {
            batch.state = BatchState::Pending;
        }
    }

    /// Range `start` of round `job_id`, asked of `peer` under `id`, failed: retry it
    /// elsewhere, or drop the round after too many failures.
    pub(super) fn retry_batch(&mut self, job_id: u64, start: u64, id: RequestId, peer: P) {
        let max = self.config.max_retries;
        let Some(batch) = self
            .job
            .as_mut()
            .filter(|j| j.id == job_id)
            .and_then(|j| j.batches.get_mut(&start))
            .filter(|b| matches!(b.state, BatchState::InFlight { id: i } if i == id))
        else {
            return;
        };
        batch.state = BatchState::Pending;
        batch.attempts += 1;
        if !batch.tried.contains(&peer) {
            batch.tried.push(peer);
        }
        if batch.attempts > max {
            tracing::debug!(start, "sync: range failed too often; dropping the round");
            self.abort_job(Target::Unchanged);
        }
    }

    /// Blocks answering the range request `ask`, sent under `id`.
    pub(super) fn on_blocks(
        &mut self,
        peer: P,
        id: RequestId,
        ask: RangeAsk,
        blocks: Vec<Block>,
        now: Instant,
    ) {
        let RangeAsk {
            job: job_id,
            start,
            count,
        } = ask;
        if self.job.as_ref().is_none_or(|j| j.id != job_id) {
            return;
        }
        let verdict = self.judge_blocks(start, count, &blocks);
        match verdict {
            Verdict::Fault(misbehaviour) => {
                self.penalize(peer, misbehaviour);
                self.retry_batch(job_id, start, id, peer);
            }
            Verdict::OtherChain => {
                tracing::debug!(
                    ?peer,
                    start,
                    "sync: peer is on another chain; not asking it"
                );
                if let Some(job) = self.job.as_mut().filter(|j| j.id == job_id) {
                    job.excluded.insert(peer);
                }
                self.retry_batch(job_id, start, id, peer);
            }
            Verdict::Matches => self.accept_blocks(peer, id, ask, blocks, now),
        }
    }

    /// Checks blocks against the accepted headers of heights `start..start + count`.
    fn judge_blocks(&self, start: u64, count: u32, blocks: &[Block]) -> Verdict {
        let Some(job) = self.job.as_ref() else {
            return Verdict::Matches;
        };
        if blocks.len() > count as usize {
            return Verdict::Fault(Misbehaviour::TooManyItems);
        }
        if blocks.is_empty() {
            return Verdict::Fault(Misbehaviour::EmptyResponse);
        }
        for (height, block) in (start..).zip(blocks) {
            let Some(expected) = job.header_at(height) else {
                return Verdict::Fault(Misbehaviour::UnrequestedData);
            };
            if block.header != *expected {
                // Blocks are fetched by height, so a peer that reorganised between serving our
                // headers and serving these bodies answers with its new chain: well-formed
                // blocks at the right heights are "another chain" (the peer leaves this round,
                // unpenalised), only wrong heights are a fault.
                if block.header.height != height {
                    return Verdict::Fault(Misbehaviour::WrongBlocks);
                }
                return Verdict::OtherChain;
            }
            if block.check_body().is_err() {
                // The header is the one we accepted, the body is not the one it commits to:
                // the server's fault alone. The range is fetched again, preferably elsewhere.
                return Verdict::Fault(Misbehaviour::MismatchedBody);
            }
        }
        Verdict::Matches
    }

    /// Stores a matching answer; a short one leaves the rest of the range pending.
    fn accept_blocks(
        &mut self,
        peer: P,
        id: RequestId,
        ask: RangeAsk,
        blocks: Vec<Block>,
        now: Instant,
    ) {
        let RangeAsk {
            job: job_id,
            start,
            count,
        } = ask;
        let Some(job) = self.job.as_mut().filter(|j| j.id == job_id) else {
            return;
        };
        let Some(batch) = job
            .batches
            .get_mut(&start)
            .filter(|b| matches!(b.state, BatchState::InFlight { id: i } if i == id))
        else {
            return;
        };
        let got = u32::try_from(blocks.len()).unwrap_or(count).min(count);
        batch.count = got;
        batch.state = BatchState::Done { peer, blocks };
        if got < count {
            job.batches
                .insert(start + u64::from(got), Batch::new(count - got));
        }
        self.emit_imports(now);
    }

    /// Hands downloaded ranges to import, strictly in height order.
    pub(super) fn emit_imports(&mut self, now: Instant) {
        loop {
            if !self.actions.has_room() {
                return;
            }
            let Some(job) = self.job.as_mut() else {
                return;
            };
            let Some(entry) = job.batches.first_entry() else {
                return;
            };
            if *entry.key() != job.next_emit
                || !matches!(entry.get().state, BatchState::Done { .. })
            {
                return;
            }
            let BatchState::Done { peer, blocks } = entry.remove().state else {
                return;
            };
            job.next_emit += blocks.len() as u64;
            job.emitted_by.push_back((job.next_emit - 1, peer));
            job.last_progress = now;
            self.actions.push(Action::Import { peer, blocks });
        }
    }

    /// Drops accepted headers whose blocks (headers-only mode: headers) are now stored
    /// (handed-over ones only).
    pub(super) fn confirm_imports(&mut self, chain: &impl ChainView, now: Instant) {
        let Some(job) = self.job.as_mut() else {
            return;
        };
        while let Some(header) = job.headers.front() {
            if header.height >= job.next_emit || !chain.has_block(&header.id(), header.height) {
                break;
            }
            job.headers.pop_front();
            job.last_progress = now;
        }
        let base = job.import_base();
        while job.emitted_by.front().is_some_and(|(last, _)| *last < base) {
            job.emitted_by.pop_front();
        }
    }
}
