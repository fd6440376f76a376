//! Which peers to drop when there are too many: protection by what peers did, never by what
//! they claim.
//!
//! Like Bitcoin Core's inbound eviction, a few peers are protected in each of several classes
//! an attacker cannot buy cheaply all at once: those that delivered the most blocks we
//! imported, those with the lowest ping, and those connected longest. Of the rest, peers that
//! dialed us go before peers we dialed (our outbound choices are not for others to displace),
//! then the worst local score, the lowest gossip score, the fewest deliveries, the newest.

use std::collections::HashSet;

use libp2p::PeerId;

use super::{PeerEntry, PeerManager};

/// Peers protected in each class (deliveries, latency, age).
pub const PROTECT_PER_CLASS: usize = 4;

/// A request to get back under a connection limit.
#[derive(Debug)]
pub struct Eviction<'a> {
    /// Above this many peers, some are dropped.
    pub limit: usize,
    /// How many remain afterwards.
    pub keep: usize,
    /// Never dropped (bootnodes).
    pub protected: &'a HashSet<PeerId>,
}

impl PeerManager {
    /// The peers to disconnect for `eviction`; `gossip_score` reads gossipsub's score.
    pub fn excess(
        &self,
        eviction: &Eviction<'_>,
        gossip_score: impl Fn(&PeerId) -> f64,
    ) -> Vec<PeerId> {
        if self.peers.len() <= eviction.limit {
            return Vec::new();
        }
        let mut protected = eviction.protected.clone();
        protected.extend(self.top(|e| (e.delivered > 0).then_some(u64::MAX - e.delivered)));
        protected.extend(self.top(|e| {
            e.rtt
                .map(|rtt| u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX))
        }));
        let oldest = self.peers.values().map(|e| e.connected_at).min();
        protected.extend(self.top(|e| {
            let age = oldest.map(|o| e.connected_at.saturating_duration_since(o));
            age.map(|a| u64::try_from(a.as_micros()).unwrap_or(u64::MAX))
        }));
        let mut candidates: Vec<(&PeerId, &PeerEntry, f64)> = self
            .peers
            .iter()
            .filter(|(peer, _)| !protected.contains(peer))
            .map(|(peer, entry)| (peer, entry, gossip_score(peer)))
            .collect();
        candidates.sort_by(|a, b| {
            (b.1.inbound.cmp(&a.1.inbound))
                .then(a.1.score.cmp(&b.1.score))
                .then(a.2.total_cmp(&b.2))
                .then(a.1.delivered.cmp(&b.1.delivered))
                .then(b.1.connected_at.cmp(&a.1.connected_at))
        });
        let surplus = self.peers.len().saturating_sub(eviction.keep);
        candidates
            .into_iter()
            .take(surplus)
            .map(|(peer, _, _)| *peer)
            .collect()
    }

    /// The [`PROTECT_PER_CLASS`] peers with the lowest `key` (peers without one are not in
    /// the class).
    fn top(&self, key: impl Fn(&PeerEntry) -> Option<u64>) -> Vec<PeerId> {
        let mut ranked: Vec<(u64, PeerId)> = self
            .peers
            .iter()
            .filter_map(|(peer, entry)| Some((key(entry)?, *peer)))
            .collect();
        ranked.sort_unstable();
        ranked
            .into_iter()
            .take(PROTECT_PER_CLASS)
            .map(|(_, peer)| peer)
            .collect()
    }
}
