//! What the machine knows about each connected peer.

use std::time::Instant;

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
    /// A tip it advertised that a sync round could not use (nothing new, invalid, or less
    /// work than claimed): it is not picked as a sync target again until its tip changes.
    pub(crate) exhausted_tip: Option<Hash256>,
}

impl PeerState {
    /// Its status when it advertises more work than `local` and is not exhausted at that tip.
    pub(crate) fn ahead_of(&self, local: &ChainStatus) -> Option<&ChainStatus> {
        let status = self.status.as_ref()?;
        let ahead = status.cumulative_work > local.cumulative_work
            && self.exhausted_tip != Some(status.tip_hash);
        ahead.then_some(status)
    }

    /// Whether a status request is due at `now`.
    pub(crate) fn status_due(&self, now: Instant, interval: std::time::Duration) -> bool {
        !self.status_in_flight
            && self
                .last_status_request
                .is_none_or(|t| now.saturating_duration_since(t) >= interval)
    }
}
