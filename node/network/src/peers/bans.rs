//! Bans by peer id and by address, bounded in number, with strikes that turn repeat offenders'
//! addresses into address bans.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// Most peer bans (and, separately, address bans) held at once; past it, the ban that would
/// expire first gives way.
pub const MAX_BANS: usize = 4_096;

/// Peers banned from one address within [`STRIKE_WINDOW`] before the address is banned.
pub const IP_BAN_STRIKES: usize = 3;

/// How long a strike against an address counts.
const STRIKE_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Most addresses with strikes remembered.
const MAX_STRUCK: usize = 4_096;

#[derive(Debug)]
pub(super) struct Bans {
    duration: Duration,
    peers: HashMap<PeerId, Instant>,
    ips: HashMap<IpAddr, Instant>,
    strikes: HashMap<IpAddr, Vec<Instant>>,
}

impl Bans {
    pub(super) fn new(duration: Duration) -> Self {
        Self {
            duration,
            peers: HashMap::new(),
            ips: HashMap::new(),
            strikes: HashMap::new(),
        }
    }

    /// When a ban made at `now` ends.
    pub(super) fn until(&self, now: Instant) -> Instant {
        now + self.duration
    }

    /// Bans `peer`, striking each of `ips`; returns whether the ban is new and the addresses
    /// banned as a result.
    pub(super) fn ban(
        &mut self,
        peer: PeerId,
        ips: &[IpAddr],
        now: Instant,
    ) -> (bool, Vec<IpAddr>) {
        let fresh = !self.is_banned(&peer, now);
        let until = self.until(now);
        insert_bounded(&mut self.peers, peer, until);
        if !fresh {
            return (false, Vec::new());
        }
        let mut banned = Vec::new();
        for ip in ips {
            if self.strike(*ip, now) && self.ips.get(ip).is_none_or(|t| *t <= now) {
                insert_bounded(&mut self.ips, *ip, until);
                banned.push(*ip);
            }
        }
        (true, banned)
    }

    /// Adds a strike against `ip`; true once it has [`IP_BAN_STRIKES`] within the window.
    fn strike(&mut self, ip: IpAddr, now: Instant) -> bool {
        if !self.strikes.contains_key(&ip) && self.strikes.len() >= MAX_STRUCK {
            let cutoff = now.checked_sub(STRIKE_WINDOW);
            self.strikes
                .retain(|_, s| s.last().is_some_and(|t| cutoff.is_none_or(|c| *t > c)));
            if self.strikes.len() >= MAX_STRUCK {
                return false;
            }
        }
        let strikes = self.strikes.entry(ip).or_default();
        strikes.retain(|t| now.saturating_duration_since(*t) < STRIKE_WINDOW);
        strikes.push(now);
        strikes.len() >= IP_BAN_STRIKES
    }

    pub(super) fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.peers.get(peer).is_some_and(|until| *until > now)
    }

    pub(super) fn banned(&self, now: Instant) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(p, _)| *p)
            .collect()
    }

    pub(super) fn expire(&mut self, now: Instant) -> (Vec<PeerId>, Vec<IpAddr>) {
        (expire(&mut self.peers, now), expire(&mut self.ips, now))
    }
}

/// Inserts `key` until `until`; over [`MAX_BANS`], the entry ending first is dropped.
fn insert_bounded<K: std::hash::Hash + Eq + Copy>(
    map: &mut HashMap<K, Instant>,
    key: K,
    until: Instant,
) {
    map.insert(key, until);
    if map.len() > MAX_BANS
        && let Some(first) = map.iter().min_by_key(|(_, t)| **t).map(|(k, _)| *k)
    {
        map.remove(&first);
    }
}

fn expire<K: std::hash::Hash + Eq + Copy>(map: &mut HashMap<K, Instant>, now: Instant) -> Vec<K> {
    let expired: Vec<K> = map
        .iter()
        .filter(|(_, until)| **until <= now)
        .map(|(k, _)| *k)
        .collect();
    for k in &expired {
        map.remove(k);
    }
    expired
}
