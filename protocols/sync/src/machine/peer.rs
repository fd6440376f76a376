//! What the machine knows about each connected peer.

use std::time::{Duration, Instant};

use talos_chain::{ChainStatus, Hash256};

/// One connected peer.
#[derive(Clone, Debug, Default)]
pub(crate) struct PeerState {
    /// Its latest status, once it told us.
    pub(crate) status: Option<ChainStatus>,
    /// Header, block and orphan requests in flight to it (status requests not counted).
    pub(crate) in_flight: usize,
    /// Whether a status request to it is in flight.
    pub(crate) status_in_flight: bool,
    /// When we last asked for its status.
    pub(crate) last_status_request: Option<Instant>,
    /// A tip it advertised that a sync round could not use (stalled, nothing new, invalid,
    /// or less work than claimed): it is not picked as a sync target again until its tip
    /// changes or `retry_at` passes.
    pub(crate) exhausted_tip: Option<Hash256>,
    /// When an exhausted tip may be followed again (backing off with each failed round).
    pub(crate) retry_at: Option<Instant>,
    /// Rounds it was the target of that ended without backing its claim (stalled, false
    /// headers, less work than claimed, invalid blocks). Rounds go to the peer with the fewest
    /// first, so a liar cannot keep the round from peers that deliver.
    pub(crate) failed_rounds: u32,
}

impl PeerState {
    /// Its status when it advertises more work than `local` and is not exhausted at that tip
    /// (or its back-off passed at `now`).
    pub(crate) fn ahead_of(&self, local: &ChainStatus, now: Instant) -> Option<&ChainStatus> {
        let status = self.status.as_ref()?;
        let exhausted =
            self.exhausted_tip == Some(status.tip_hash) && self.retry_at.is_none_or(|at| now < at);
        let ahead = status.cumulative_work > local.cumulative_work && !exhausted;
        ahead.then_some(status)
    }

    /// Marks its current round target exhausted at `now`: one more failed round, and a
    /// back-off of `base` doubled per failed round (at most 64 times `base`).
    pub(crate) fn exhaust(&mut self, tip: Hash256, now: Option<Instant>, base: Duration) {
        self.exhausted_tip = Some(tip);
        self.failed_rounds = self.failed_rounds.saturating_add(1);
        let factor = 1u32 << self.failed_rounds.saturating_sub(1).min(6);
        self.retry_at = now.map(|now| now + base.saturating_mul(factor));
    }

    /// Whether a status request is due at `now`.
    pub(crate) fn status_due(&self, now: Instant, interval: std::time::Duration) -> bool {
        !self.status_in_flight
            && self
                .last_status_request
                .is_none_or(|t| now.saturating_duration_since(t) >= interval)
    }
}
