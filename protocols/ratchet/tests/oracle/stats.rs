//! Counts over all schedules.

use std::collections::BTreeMap;

/// Counts over all schedules, to show they cover what they are meant to.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    /// Messages sent (first messages included).
    pub(crate) sent: usize,
    /// Genuine deliveries (all accepted by both).
    pub(crate) delivered: usize,
    /// Genuine deliveries not of the oldest message in flight.
    pub(crate) reordered: usize,
    /// Genuine deliveries of a message whose chain is older than the receiver's newest.
    pub(crate) across_ratchet: usize,
    /// Genuine deliveries that used a stored skipped key.
    pub(crate) from_skipped: usize,
    /// Messages dropped for good.
    pub(crate) dropped: usize,
    /// Replays, tampered copies and reflections (all rejected by both).
    pub(crate) replays: usize,
    /// Tampered copies delivered.
    pub(crate) tampered: usize,
    /// Reflected messages delivered.
    pub(crate) reflected: usize,
    /// Most skipped keys one party held at once.
    pub(crate) max_skipped: usize,
    /// Rejections by kind in ours.
    pub(crate) ours_errors: BTreeMap<&'static str, usize>,
    /// Rejections by kind in the oracle.
    pub(crate) oracle_errors: BTreeMap<String, usize>,
}

impl Stats {
    /// Adds `other`'s counts to these.
    pub(crate) fn add(&mut self, other: &Self) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.reordered += other.reordered;
        self.across_ratchet += other.across_ratchet;
        self.from_skipped += other.from_skipped;
        self.dropped += other.dropped;
        self.replays += other.replays;
        self.tampered += other.tampered;
        self.reflected += other.reflected;
        self.max_skipped = self.max_skipped.max(other.max_skipped);
        for (kind, count) in &other.ours_errors {
            *self.ours_errors.entry(*kind).or_default() += count;
        }
        for (kind, count) in &other.oracle_errors {
            *self.oracle_errors.entry(kind.clone()).or_default() += count;
        }
    }
}
