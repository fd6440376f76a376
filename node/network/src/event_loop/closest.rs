//! Kademlia `get_closest_peers` queries for messaging: the node's closest-peer queries
//! ([`crate::NetCommand::ClosestPeers`]) and the lookups of peers to dial that no behaviour
//! knows an address of.

use libp2p::kad::{self, GetClosestPeersError, GetClosestPeersOk, KBucketKey, QueryId};
use tokio::sync::oneshot;
use tracing::debug;

use super::NetLoop;
use crate::config::Role;
use crate::messaging::{ClosePeer, Closest, MAX_LOOKUPS};

impl NetLoop {
    /// Starts a closest-peer query for the node ([`crate::NetCommand::ClosestPeers`]); with
    /// [`MAX_LOOKUPS`] in flight already, answers from the local routing table at once.
    pub(super) fn closest_peers(
        &mut self,
        key: Vec<u8>,
        count: usize,
        reply: oneshot::Sender<Vec<ClosePeer>>,
    ) {
        let closest = Closest { key, count, reply };
        if count == 0 || self.messaging.closest.len() >= MAX_LOOKUPS {
            let known = self.routing_table();
            self.answer_closest(closest, known);
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_closest_peers(closest.key.clone());
        self.messaging.closest.insert(id, closest);
    }

    /// Every peer of the routing table with its addresses.
    fn routing_table(&mut self) -> Vec<kad::PeerInfo> {
        let mut peers = Vec::new();
        for bucket in self.swarm.behaviour_mut().kad.kbuckets() {
            for entry in bucket.iter() {
                peers.push(kad::PeerInfo {
                    peer_id: *entry.node.key.preimage(),
                    addrs: entry.node.value.iter().cloned().collect(),
                });
            }
        }
        peers
    }

    /// A `get_closest_peers` query is over (a timeout still carries what it found): the
    /// answer to a closest-peer query, or the addresses of a peer to dial.
    pub(super) fn on_closest_progress(
        &mut self,
        id: QueryId,
        result: Result<GetClosestPeersOk, GetClosestPeersError>,
    ) {
        let found = match result {
            Ok(ok) => ok.peers,
            Err(GetClosestPeersError::Timeout { peers, .. }) => peers,
        };
        if let Some(closest) = self.messaging.closest.remove(&id) {
            self.answer_closest(closest, found);
            return;
        }
        let Some(target) = self.messaging.outbound.lookup_of(&id) else {
            return;
        };
        let addrs = found
            .into_iter()
            .find(|info| info.peer_id == target)
            .map(|info| info.addrs)
            .unwrap_or_default();
        debug!(peer = %target, found = addrs.len(), "peer lookup over");
        if let Some(peer) = self.messaging.outbound.lookup_done(&id, addrs) {
            self.pump_messaging(peer);
        }
    }

    /// Replies with the `count` peers of `found` (and this node, if it serves the DHT)
    /// closest to the key, nearest first.
    fn answer_closest(&mut self, closest: Closest, found: Vec<kad::PeerInfo>) {
        let Closest { key, count, reply } = closest;
        let local = *self.swarm.local_peer_id();
        let mut peers: Vec<ClosePeer> = found
            .into_iter()
            .filter(|info| info.peer_id != local)
            .map(|info| ClosePeer {
                peer: info.peer_id,
                addrs: info.addrs,
            })
            .collect();
        if self.settings.role != Role::Light {
            peers.push(ClosePeer {
                peer: local,
                addrs: self.listen_addrs.clone(),
            });
        }
        let target = KBucketKey::new(key);
        peers.sort_by_cached_key(|p| target.distance(&KBucketKey::from(p.peer)));
        // Sorted by distance, one peer's duplicates are neighbours.
        peers.dedup_by_key(|p| p.peer);
        peers.truncate(count);
        let _ = reply.send(peers);
    }
}
