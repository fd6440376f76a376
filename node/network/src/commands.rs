//! What the node's handle asks the network task, and the answers.

use libp2p::{Multiaddr, PeerId};
use talos_sync::SyncStatus;
use tokio::sync::oneshot;

/// Capacity of the command queue into the network task.
pub const COMMAND_QUEUE: usize = 256;

/// One connected peer.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerInfo {
    /// Its id.
    pub peer_id: PeerId,
    /// Addresses we know for it.
    pub addrs: Vec<Multiaddr>,
    /// Its agent version from identify, if received.
    pub agent: Option<String>,
    /// Its gossipsub score, if any.
    pub gossip_score: Option<f64>,
    /// Its announced tip height, if its status was received.
    pub tip_height: Option<u64>,
}

/// Commands served by the network task.
#[derive(Debug)]
pub enum NetCommand {
    /// Connected peers.
    Peers {
        /// The peers.
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    /// Listen addresses.
    ListenAddrs {
        /// The addresses.
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    /// Peers banned now.
    Banned {
        /// Their ids.
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    /// What sync is doing.
    SyncState {
        /// The state.
        reply: oneshot::Sender<SyncStatus>,
    },
    /// Dial an address.
    Dial {
        /// Where.
        addr: Multiaddr,
    },
}
