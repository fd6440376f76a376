//! Headers-only mode ([`crate::SyncConfig::headers_only`]): accepted headers go to the header
//! store instead of having their bodies fetched.

use std::fmt::Debug;
use std::hash::Hash;
use std::time::Instant;

use talos_chain::BlockHeader;

use super::SyncMachine;
use super::actions::Action;
use super::job::Phase;

impl<P: Copy + Eq + Hash + Debug> SyncMachine<P> {
    /// Hands accepted headers not yet handed over to import, in height order, in chunks of at
    /// most [`crate::SyncConfig::headers_per_request`] while the action queue has room: only
    /// once their checked work beats the local tip's, the condition under which a full node
    /// plans bodies. Until then they stay in the round's bounded memory.
    pub(super) fn emit_headers(&mut self, now: Instant) {
        if !self.config.headers_only {
            return;
        }
        let per_chunk = self.config.headers_per_request as usize;
        let local_work = self.local.cumulative_work;
        while self.actions.has_room() {
            let Some(job) = self.job.as_mut().filter(|j| j.phase == Phase::Download) else {
                return;
            };
            if job.backed_work().is_none_or(|work| work <= local_work) {
                return;
            }
            let Some(first) = job.headers.front().map(|h| h.height) else {
                return;
            };
            // Headers below `next_emit` were handed over and wait to be seen stored.
            let skip = usize::try_from(job.next_emit.saturating_sub(first)).unwrap_or(usize::MAX);
            let chunk: Vec<BlockHeader> = job
                .headers
                .iter()
                .skip(skip)
                .take(per_chunk)
                .copied()
                .collect();
            let Some(last) = chunk.last().map(|h| h.height) else {
                return;
            };
            job.next_emit = last.saturating_add(1);
            job.emitted_by.push_back((last, job.peer));
            job.last_progress = now;
            let peer = job.peer;
            self.actions.push(Action::ImportHeaders {
                peer,
                headers: chunk,
            });
        }
    }
}
