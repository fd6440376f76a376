//! The peer manager: what we know about each connected peer, its local misbehaviour score,
//! bans with expiry, and which peers to drop when there are too many.
//!
//! The local score starts at 0 and only goes down through [`Offence`]s, by what
//! [`crate::policy`] says each costs (recovering slowly toward 0 on every
//! [`PeerManager::decay`]); at [`BAN_SCORE`] or below the peer is banned. Gossipsub's own score
//! is polled separately and bans a peer below the graylist threshold (see
//! [`crate::behaviour::GRAYLIST_THRESHOLD`]). The event loop applies a ban with
//! `allow_block_list::block_peer` and lifts it when it expires.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

use crate::policy::{Offence, Penalty};

/// At or below this local score a peer is banned.
pub const BAN_SCORE: i32 = -100;

/// Most addresses remembered per peer.
const MAX_ADDRS: usize = 8;

/// What we know about one peer.
#[derive(Clone, Debug, Default)]
pub struct PeerEntry {
    /// Addresses (its listen addresses from identify, or the address we dialed).
    pub addrs: Vec<Multiaddr>,
    /// Agent version from identify.
    pub agent: Option<String>,
    /// Tip height from its status.
    pub tip_height: Option<u64>,
    /// Local misbehaviour score (≤ 0).
    pub score: i32,
    /// Open connections.
    pub connections: u32,
    /// Whether identify listed our sync protocol.
    pub speaks_sync: bool,
}

impl PeerEntry {
    /// Remembers an address (bounded, no duplicates).
    pub fn add_addr(&mut self, addr: Multiaddr) {
        if !self.addrs.contains(&addr) {
            if self.addrs.len() >= MAX_ADDRS {
                self.addrs.remove(0);
            }
            self.addrs.push(addr);
        }
    }
}

/// Connected peers, their scores, and active bans.
#[derive(Debug)]
pub struct PeerManager {
    peers: HashMap<PeerId, PeerEntry>,
    bans: HashMap<PeerId, Instant>,
    ban_duration: Duration,
}

impl PeerManager {
    /// No peers yet; bans last `ban_duration`.
    pub fn new(ban_duration: Duration) -> Self {
        Self {
            peers: HashMap::new(),
            bans: HashMap::new(),
            ban_duration,
        }
    }

    /// A connection to `peer` was established.
    pub fn connected(&mut self, peer: PeerId) -> &mut PeerEntry {
        let entry = self.peers.entry(peer).or_default();
        entry.connections += 1;
        entry
    }

    /// A connection to `peer` closed; `remaining` connections are left. The entry is
    /// forgotten with the last one (scores of banned peers live on in the ban).
    pub fn disconnected(&mut self, peer: &PeerId, remaining: u32) {
        if remaining == 0 {
            self.peers.remove(peer);
        } else if let Some(e) = self.peers.get_mut(peer) {
            e.connections = remaining;
        }
    }

    /// The entry of a connected peer.
    pub fn get(&self, peer: &PeerId) -> Option<&PeerEntry> {
        self.peers.get(peer)
    }

    /// The entry of a connected peer, mutably.
    pub fn get_mut(&mut self, peer: &PeerId) -> Option<&mut PeerEntry> {
        self.peers.get_mut(peer)
    }

    /// Connected peers.
    pub fn iter(&self) -> impl Iterator<Item = (&PeerId, &PeerEntry)> {
        self.peers.iter()
    }

    /// Number of connected peers.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is connected.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Lowers `peer`'s local score for `offence`. Returns true when the peer must now be
    /// banned (score at or below [`BAN_SCORE`], or an offence that bans at once).
    pub fn penalize(&mut self, peer: &PeerId, offence: &Offence) -> bool {
        let points = match offence.penalty() {
            Penalty::None => return false,
            Penalty::Ban => return true,
            Penalty::Score(points) => i32::try_from(points).unwrap_or(i32::MAX),
        };
        // A peer no longer connected is judged on this offence alone (no entry is created for
        // it, so offences reported after a disconnect cannot grow the manager).
        let score = match self.peers.get_mut(peer) {
            Some(entry) => {
                entry.score = entry.score.saturating_sub(points);
                entry.score
            }
            None => points.saturating_neg(),
        };
        score <= BAN_SCORE
    }

    /// Records a ban of `peer` from `now`; returns false when it was already banned.
    pub fn ban(&mut self, peer: PeerId, now: Instant) -> bool {
        let fresh = !self.is_banned(&peer, now);
        self.bans.insert(peer, now + self.ban_duration);
        fresh
    }

    /// Whether `peer` is banned at `now`.
    pub fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.bans.get(peer).is_some_and(|until| *until > now)
    }

    /// Peers banned at `now`.
    pub fn banned(&self, now: Instant) -> Vec<PeerId> {
        self.bans
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(p, _)| *p)
            .collect()
    }

    /// The peers to disconnect so that `keep` remain, when more than `limit` are connected:
    /// never one in `protected`, worst local score first, then lowest `gossip_score`.
    pub fn excess(
        &self,
        limit: usize,
        keep: usize,
        protected: &std::collections::HashSet<PeerId>,
        gossip_score: impl Fn(&PeerId) -> f64,
    ) -> Vec<PeerId> {
        if self.peers.len() <= limit {
            return Vec::new();
        }
        let mut candidates: Vec<(i32, f64, PeerId)> = self
            .peers
            .iter()
            .filter(|(peer, _)| !protected.contains(peer))
            .map(|(peer, entry)| (entry.score, gossip_score(peer), *peer))
            .collect();
        candidates.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let surplus = self.peers.len().saturating_sub(keep);
        candidates
            .into_iter()
            .take(surplus)
            .map(|(_, _, p)| p)
            .collect()
    }

    /// Removes and returns the bans that expired by `now`.
    pub fn expire_bans(&mut self, now: Instant) -> Vec<PeerId> {
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for p in &expired {
            self.bans.remove(p);
        }
        expired
    }

    /// Moves every local score a tenth of the way back toward 0 (rounding toward 0).
    pub fn decay(&mut self) {
        for e in self.peers.values_mut() {
            e.score -= e.score / 10;
            if e.score > -10 {
                e.score = (e.score + 1).min(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use talos_sync::Misbehaviour;

    const BAD_REQUEST: Offence = Offence::Sync(Misbehaviour::UnrequestedData);

    #[test]
    fn excess_peers_spare_the_protected_and_go_worst_first() {
        let mut book = PeerManager::new(Duration::from_secs(60));
        let peers: Vec<PeerId> = (0..6).map(|_| PeerId::random()).collect();
        for p in &peers {
            book.connected(*p);
        }
        book.penalize(&peers[3], &BAD_REQUEST);
        let protected: std::collections::HashSet<PeerId> = [peers[0], peers[1]].into();
        let score = |p: &PeerId| if *p == peers[5] { -1.0 } else { 0.0 };
        assert!(
            book.excess(6, 2, &protected, score).is_empty(),
            "not above the limit"
        );
        let out = book.excess(4, 3, &protected, score);
        assert_eq!(out.len(), 3, "down to keep");
        assert_eq!(out[0], peers[3], "worst local score first");
        assert_eq!(out[1], peers[5], "then lowest gossip score");
        assert!(!out.contains(&peers[0]) && !out.contains(&peers[1]));
        // Fewer unprotected peers than the surplus: only those go.
        assert_eq!(book.excess(1, 0, &protected, score).len(), 4);
    }

    #[test]
    fn offences_accumulate_to_a_ban() {
        let mut book = PeerManager::new(Duration::from_secs(60));
        let p = PeerId::random();
        book.connected(p);
        let invalid_block = Offence::InvalidBlock(talos_chain_service::Rejection::InvalidAncestor);
        assert!(!book.penalize(&p, &invalid_block));
        assert!(book.penalize(&p, &Offence::Sync(Misbehaviour::WrongBlocks)));
        assert!(book.penalize(&PeerId::random(), &Offence::WrongNetwork));
        // Unknown peers are judged on the one offence and not remembered.
        let gone = PeerId::random();
        assert!(!book.penalize(&gone, &invalid_block));
        assert!(book.get(&gone).is_none());
        // An offence that is nobody's fault costs nothing.
        let ahead = Offence::InvalidBlock(talos_chain_service::Rejection::Rule(
            talos_chain::BlockError::TimestampTooFarInFuture {
                timestamp_ms: 2,
                max_ms: 1,
            },
        ));
        let q = PeerId::random();
        book.connected(q);
        assert!(!book.penalize(&q, &ahead));
        assert_eq!(book.get(&q).unwrap().score, 0);
    }

    #[test]
    fn bans_expire() {
        let mut book = PeerManager::new(Duration::from_secs(60));
        let p = PeerId::random();
        let now = Instant::now();
        assert!(book.ban(p, now));
        assert!(!book.ban(p, now));
        assert!(book.is_banned(&p, now + Duration::from_secs(59)));
        assert!(book.expire_bans(now + Duration::from_secs(30)).is_empty());
        assert_eq!(book.expire_bans(now + Duration::from_secs(61)), vec![p]);
        assert!(!book.is_banned(&p, now + Duration::from_secs(61)));
    }

    #[test]
    fn scores_recover() {
        let mut book = PeerManager::new(Duration::from_secs(60));
        let p = PeerId::random();
        book.connected(p);
        book.penalize(
            &p,
            &Offence::InvalidBlock(talos_chain_service::Rejection::InvalidAncestor),
        );
        for _ in 0..100 {
            book.decay();
        }
        assert_eq!(book.get(&p).unwrap().score, 0);
    }

    #[test]
    fn entries_live_while_connected() {
        let mut book = PeerManager::new(Duration::from_secs(60));
        let p = PeerId::random();
        book.connected(p);
        book.connected(p);
        book.disconnected(&p, 1);
        assert_eq!(book.get(&p).unwrap().connections, 1);
        book.disconnected(&p, 0);
        assert!(book.get(&p).is_none());
        let mut e = PeerEntry::default();
        for i in 0..20u16 {
            e.add_addr(format!("/ip4/127.0.0.1/tcp/{i}").parse().unwrap());
        }
        assert_eq!(e.addrs.len(), MAX_ADDRS);
    }
}
