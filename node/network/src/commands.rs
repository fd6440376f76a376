//! What the node's handle asks the network task, and the answers.

use libp2p::{Multiaddr, PeerId};
use talos_messaging::{MailboxRequest, MsgRequest};
use talos_sync::{SyncRequest, SyncStatus};
use tokio::sync::oneshot;

use crate::messaging::{ClosePeer, MailboxResult, MsgResult};
use crate::queries::QueryResult;

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
    /// Store an agent's DID record (its encoding, `talos_identity::DidRecord::encode`) here
    /// and put it to the closest peers; the reply says how many acknowledged it.
    PublishDid {
        /// The DID the record is of (it names the record key; a record of another DID is
        /// refused).
        did: String,
        /// The encoded record.
        record: Vec<u8>,
        /// The outcome.
        reply: oneshot::Sender<crate::did::PublishResult>,
    },
    /// Find the best valid DID record of `did` (this node's store and the DHT).
    ResolveDid {
        /// The `did:key`.
        did: String,
        /// The record, validated under its key.
        reply: oneshot::Sender<crate::did::ResolveResult>,
    },
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
    /// A full node lied to our light client: penalize it ([`crate::policy::Offence::LightLie`]).
    ReportLie {
        /// The liar.
        peer: PeerId,
        /// What it did.
        lie: talos_light::LieKind,
    },
    /// Send `request` to one connected peer and reply with its answer (see
    /// [`crate::queries`]): for a light client, `SyncRequest::Proof(item)` or
    /// `SyncRequest::StateProof { block, key }`. The reply comes once the peer answers or the
    /// request fails, within the request timeout plus 5 s (15 s by default): the response,
    /// always of the kind that answers `request` (a `Proof` for a `Proof`, a `StateProof` for a
    /// `StateProof`, …) and not verified, or a [`crate::queries::QueryFailure`] (refused,
    /// undecodable, another kind, timeout, not connected, too many in flight). A peer that
    /// answers with undecodable bytes or another kind of response is penalized. Answers never
    /// reach the sync machine.
    ///
    /// From the node, over the command sender `net`:
    ///
    /// ```ignore
    /// let (reply, answer) = oneshot::channel();
    /// let request = SyncRequest::StateProof { block, key };
    /// net.send(NetCommand::Ask { peer, request, reply }).await?;
    /// match answer.await? {
    ///     Ok(SyncResponse::StateProof(Some(answer))) => answer.verify(&state_root, &key),
    ///     Ok(SyncResponse::StateProof(None)) => /* the peer does not know the block */,
    ///     Ok(_) => unreachable!("answers are of the kind asked for"),
    ///     Err(failure) => /* QueryFailure */,
    /// }
    /// ```
    Ask {
        /// The peer (it must be connected: asking never dials).
        peer: PeerId,
        /// The request.
        request: SyncRequest,
        /// Its answer, or why there is none.
        reply: oneshot::Sender<QueryResult>,
    },
    /// Send a msg-protocol request to `peer`; dial it first when not connected, with `addrs`
    /// (e.g. from its DID document) and whatever Kademlia knows, running a Kademlia
    /// `get_closest_peers(peer)` lookup for addresses when none is known (see
    /// [`crate::messaging`]).
    SendMsg {
        /// The peer.
        peer: PeerId,
        /// Addresses to dial it with, if it is not connected.
        addrs: Vec<Multiaddr>,
        /// The request.
        request: MsgRequest,
        /// Its answer, or why there is none.
        reply: oneshot::Sender<MsgResult>,
    },
    /// Send a mailbox-protocol request to `peer` (same dialing rules as
    /// [`NetCommand::SendMsg`]).
    SendMailbox {
        /// The peer (a full or bootstrap node: light clients keep no mailboxes).
        peer: PeerId,
        /// Addresses to dial it with, if it is not connected.
        addrs: Vec<Multiaddr>,
        /// The request.
        request: MailboxRequest,
        /// Its answer, or why there is none.
        reply: oneshot::Sender<MailboxResult>,
    },
    /// The `count` peers closest to `key` by Kademlia XOR distance (a `get_closest_peers`
    /// query), including this node itself when it is a full or bootstrap node (with its listen
    /// addresses), sorted nearest first. Only DHT-server peers (full and bootstrap nodes) can
    /// appear: light clients are Kademlia clients. The list may be shorter than `count` (at
    /// most Kademlia's k = 20 peers and this node); an empty DHT gives at most this node.
    ClosestPeers {
        /// The key (hashed with SHA-256 into Kademlia's key space, as record keys are).
        key: Vec<u8>,
        /// How many peers at most.
        count: usize,
        /// The peers, nearest first.
        reply: oneshot::Sender<Vec<ClosePeer>>,
    },
}
