//! Peer upkeep on the loop: penalties and bans as the peer manager decides them, gossip score
//! polling, pruning excess connections, redialing bootnodes.

use std::collections::HashSet;
use std::time::Instant;

use libp2p::{Multiaddr, PeerId};
use tracing::{debug, info, warn};

use super::NetLoop;
use crate::behaviour::GRAYLIST_THRESHOLD;
use crate::config::Role;
use crate::peers::Eviction;
use crate::policy::Offence;

impl NetLoop {
    pub(super) fn on_score_tick(&mut self) {
        let now = Instant::now();
        let low: Vec<(PeerId, f64)> = self
            .peers
            .iter()
            .filter_map(|(peer, _)| {
                let score = self.swarm.behaviour().gossipsub.peer_score(peer)?;
                (score < GRAYLIST_THRESHOLD).then_some((*peer, score))
            })
            .collect();
        for (peer, score) in low {
            debug!(%peer, score, "gossip score below the graylist threshold");
            self.ban(peer, &Offence::GossipScore);
        }
        self.prune_excess_peers();
        self.redial_bootnodes();
        self.peers.decay();
        let (peers, ips) = self.peers.expire_bans(now);
        for peer in peers {
            info!(%peer, "ban expired");
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        }
        for ip in ips {
            info!(%ip, "address ban expired");
            self.swarm.behaviour_mut().gate.limits_mut().unban(&ip);
        }
    }

    /// Disconnects peers above the limit (`target_peers` × 3/2, × 4 for a bootnode) down to
    /// `target_peers`, sparing bootnodes and the peers the peer manager protects for what they
    /// did (deliveries, latency, age; see [`crate::peers::Eviction`]), never for what they
    /// claim, and the peers this node has messaging requests out to (its own errands: cut,
    /// they would fail over to mailboxes for nothing). Kademlia queries connect to many peers; without this every node of a small
    /// network ends up connected to every other.
    fn prune_excess_peers(&mut self) {
        let target = self.settings.target_peers.max(1);
        let limit = match self.settings.role {
            Role::Bootstrap => target * 4,
            Role::Full | Role::Light => target + target / 2,
        };
        let gossipsub = &self.swarm.behaviour().gossipsub;
        let protected: HashSet<PeerId> = self
            .settings
            .bootnodes
            .iter()
            .map(|(peer, _)| *peer)
            .chain(self.messaging.outbound.peers().copied())
            .collect();
        let eviction = Eviction {
            limit,
            keep: target,
            protected: &protected,
        };
        let excess = self
            .peers
            .excess(&eviction, |p| gossipsub.peer_score(p).unwrap_or(0.0));
        for peer in excess {
            debug!(%peer, "disconnecting an excess peer");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    /// Bootnodes keep each other connected (they are the network's backbone, which is also
    /// how a healed partition finds itself again); another node redials its bootnodes only
    /// when it has fewer than half its target peers. (Redialing whenever it held no bootnode
    /// fought the bootnodes' own pruning: a dial/prune loop.)
    fn redial_bootnodes(&mut self) {
        let now = Instant::now();
        let local = *self.swarm.local_peer_id();
        let short = self.peers.len() < self.settings.target_peers.div_ceil(2);
        if self.settings.role != Role::Bootstrap && !short {
            return;
        }
        let due: Vec<Multiaddr> = self
            .settings
            .bootnodes
            .iter()
            .filter(|(peer, _)| {
                *peer != local && !self.swarm.is_connected(peer) && !self.peers.is_banned(peer, now)
            })
            .map(|(_, addr)| addr.clone())
            .collect();
        for addr in due {
            debug!(%addr, "redialing a bootnode");
            if let Err(e) = self.swarm.dial(addr.clone()) {
                debug!(%addr, error = %e, "bootnode redial failed");
            }
        }
    }

    /// Lowers `peer`'s score for `offence`; bans it when the score falls too low.
    pub(super) fn penalize(&mut self, peer: PeerId, offence: Offence) {
        debug!(%peer, reason = offence.code(), detail = offence.detail(), "peer penalized");
        self.metrics.penalized(&offence);
        if self.peers.penalize(&peer, &offence) {
            self.ban(peer, &offence);
        }
    }

    /// Bans `peer` (closes its connections and refuses new ones until the ban expires). An
    /// address whose peers keep getting banned is banned with it: every peer connected from
    /// it is dropped, and no connection from or to it is accepted until the ban expires.
    pub(super) fn ban(&mut self, peer: PeerId, offence: &Offence) {
        let now = Instant::now();
        let (fresh, ips) = self.peers.ban(peer, now);
        if fresh {
            warn!(%peer, reason = offence.code(), detail = offence.detail(), "peer banned");
            self.metrics.banned(offence);
        }
        let behaviour = self.swarm.behaviour_mut();
        behaviour.blocked.block_peer(peer);
        behaviour.kad.remove_peer(&peer);
        if ips.is_empty() {
            return;
        }
        let until = self.peers.ip_ban_until(now);
        let gate = self.swarm.behaviour_mut().gate.limits_mut();
        let ips: Vec<_> = ips.into_iter().filter(|ip| gate.ban(*ip, until)).collect();
        for ip in &ips {
            warn!(%ip, "address banned: repeat offender");
        }
        let on_banned_ips: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, e)| e.ips.iter().any(|ip| ips.contains(ip)))
            .map(|(p, _)| *p)
            .collect();
        for other in on_banned_ips {
            let _ = self.swarm.disconnect_peer_id(other);
        }
    }
}
