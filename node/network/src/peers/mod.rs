//! The peer manager: what we know about each connected peer, its local misbehaviour score,
//! bans with expiry, and which peers to drop when there are too many.
//!
//! The local score starts at 0 and only goes down through [`Offence`]s, by what
//! [`crate::policy`] says each costs (recovering slowly toward 0 on every
//! [`PeerManager::decay`]); at [`BAN_SCORE`] or below the peer is banned. Gossipsub's own score
//! is polled separately and bans a peer below the graylist threshold (see
//! [`crate::behaviour::GRAYLIST_THRESHOLD`]). The event loop applies a ban with
//! `allow_block_list::block_peer` and lifts it when it expires.
//!
//! Nothing resets by reconnecting: the score of a peer that leaves with a penalty is kept
//! (for the [`MAX_DEPARTED`] most recent such peers, decaying as if it had stayed) and given
//! back when it returns. Bans are bounded in number ([`bans::MAX_BANS`]), and an address whose
//! peers keep getting banned is banned itself ([`bans::IP_BAN_STRIKES`]), whatever identity
//! it uses next.

mod bans;
mod eviction;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};

use crate::policy::{Offence, Penalty};

pub use bans::{IP_BAN_STRIKES, MAX_BANS};
pub use eviction::{Eviction, PROTECT_PER_CLASS};

/// At or below this local score a peer is banned.
pub const BAN_SCORE: i32 = -100;

/// Most penalized peers whose score is remembered after they leave.
pub const MAX_DEPARTED: usize = 4_096;

/// Most addresses remembered per peer.
const MAX_ADDRS: usize = 8;

/// What we know about one peer.
#[derive(Clone, Debug)]
pub struct PeerEntry {
    /// Addresses (its listen addresses from identify, or the address we dialed).
    pub addrs: Vec<Multiaddr>,
    /// The IP addresses its open connections come from.
    pub ips: Vec<IpAddr>,
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
    /// Whether its first connection was inbound (it dialed us).
    pub inbound: bool,
    /// When its first connection opened.
    pub connected_at: Instant,
    /// Blocks it delivered that we imported (gossip first deliveries and sync answers).
    pub delivered: u64,
    /// Its last ping round trip.
    pub rtt: Option<Duration>,
}

impl PeerEntry {
    fn new(inbound: bool, now: Instant) -> Self {
        Self {
            addrs: Vec::new(),
            ips: Vec::new(),
            agent: None,
            tip_height: None,
            score: 0,
            connections: 0,
            speaks_sync: false,
            inbound,
            connected_at: now,
            delivered: 0,
            rtt: None,
        }
    }

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

/// The IP address a multiaddr starts with, if it does.
pub fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    use libp2p::multiaddr::Protocol;
    match addr.iter().next()? {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

/// Connected peers, their scores, the scores of penalized peers that left, and bans.
#[derive(Debug)]
pub struct PeerManager {
    peers: HashMap<PeerId, PeerEntry>,
    departed: HashMap<PeerId, i32>,
    departed_order: VecDeque<PeerId>,
    bans: bans::Bans,
}

impl PeerManager {
    /// No peers yet; bans last `ban_duration`.
    pub fn new(ban_duration: Duration) -> Self {
        Self {
            peers: HashMap::new(),
            departed: HashMap::new(),
            departed_order: VecDeque::new(),
            bans: bans::Bans::new(ban_duration),
        }
    }

    /// A connection to `peer` from or to `remote` was established (`inbound` when it dialed
    /// us). A peer that left with a penalty gets its score back.
    pub fn connected(
        &mut self,
        peer: PeerId,
        remote: &Multiaddr,
        inbound: bool,
        now: Instant,
    ) -> &mut PeerEntry {
        let departed = &mut self.departed;
        let entry = self.peers.entry(peer).or_insert_with(|| {
            let mut entry = PeerEntry::new(inbound, now);
            entry.score = departed.remove(&peer).unwrap_or(0);
            entry
        });
        entry.connections += 1;
        if let Some(ip) = ip_of(remote)
            && !entry.ips.contains(&ip)
        {
            entry.ips.push(ip);
        }
        entry
    }

    /// A connection to `peer` closed; `remaining` connections are left. With the last one
    /// the entry goes, and a negative score is remembered for its return.
    pub fn disconnected(&mut self, peer: &PeerId, remaining: u32) {
        if remaining > 0 {
            if let Some(e) = self.peers.get_mut(peer) {
                e.connections = remaining;
            }
            return;
        }
        if let Some(entry) = self.peers.remove(peer)
            && entry.score < 0
        {
            self.remember(*peer, entry.score);
        }
    }

    fn remember(&mut self, peer: PeerId, score: i32) {
        if self.departed.insert(peer, score).is_none() {
            self.departed_order.push_back(peer);
        }
        while self.departed.len() > MAX_DEPARTED {
            let Some(old) = self.departed_order.pop_front() else {
                break;
            };
            self.departed.remove(&old);
        }
    }

    /// The remembered score of a peer that is not connected.
    pub fn departed_score(&self, peer: &PeerId) -> Option<i32> {
        self.departed.get(peer).copied()
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

    /// Credits `peer` with a block it delivered that we imported.
    pub fn credit_delivery(&mut self, peer: &PeerId) {
        if let Some(entry) = self.peers.get_mut(peer) {
            entry.delivered = entry.delivered.saturating_add(1);
        }
    }

    /// Records a ping round trip.
    pub fn record_rtt(&mut self, peer: &PeerId, rtt: Duration) {
        if let Some(entry) = self.peers.get_mut(peer) {
            entry.rtt = Some(rtt);
        }
    }

    /// Lowers `peer`'s local score for `offence`. Returns true when the peer must now be
    /// banned (score at or below [`BAN_SCORE`], or an offence that bans at once).
    pub fn penalize(&mut self, peer: &PeerId, offence: &Offence) -> bool {
        let points = match offence.penalty() {
            Penalty::None => return false,
            Penalty::Ban => return true,
            Penalty::Score(points) => i32::try_from(points).unwrap_or(i32::MAX),
        };
        // An offence reported after the peer left counts against its remembered score (an
        // entry is made only for a peer already remembered, so late reports cannot grow
        // the manager).
        let score = if let Some(entry) = self.peers.get_mut(peer) {
            entry.score = entry.score.saturating_sub(points);
            entry.score
        } else if let Some(score) = self.departed.get_mut(peer) {
            *score = score.saturating_sub(points);
            *score
        } else {
            points.saturating_neg()
        };
        score <= BAN_SCORE
    }

    /// Records a ban of `peer` from `now` and a strike against each address it connected
    /// from. Returns whether the ban is new, and the addresses that now have enough strikes
    /// to be banned themselves (each once).
    pub fn ban(&mut self, peer: PeerId, now: Instant) -> (bool, Vec<IpAddr>) {
        let ips = self
            .peers
            .get(&peer)
            .map(|e| e.ips.clone())
            .unwrap_or_default();
        self.bans.ban(peer, &ips, now)
    }

    /// Whether `peer` is banned at `now`.
    pub fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.bans.is_banned(peer, now)
    }

    /// Peers banned at `now`.
    pub fn banned(&self, now: Instant) -> Vec<PeerId> {
        self.bans.banned(now)
    }

    /// Until when a banned address stays banned.
    pub fn ip_ban_until(&self, now: Instant) -> Instant {
        self.bans.until(now)
    }

    /// Removes and returns the bans (peers and addresses) that expired by `now`.
    pub fn expire_bans(&mut self, now: Instant) -> (Vec<PeerId>, Vec<IpAddr>) {
        self.bans.expire(now)
    }

    /// Moves every local score, of connected and departed peers alike, a tenth of the way
    /// back toward 0 (rounding toward 0); departed peers back at 0 are forgotten.
    pub fn decay(&mut self) {
        for e in self.peers.values_mut() {
            e.score = decayed(e.score);
        }
        for score in self.departed.values_mut() {
            *score = decayed(*score);
        }
        self.departed.retain(|_, score| *score < 0);
        let departed = &self.departed;
        self.departed_order.retain(|p| departed.contains_key(p));
    }
}

fn decayed(score: i32) -> i32 {
    let score = score - score / 10;
    if score > -10 {
        (score + 1).min(0)
    } else {
        score
    }
}
