//! The cloneable handle through which the CLI's local API, tests and the simulator talk to a
//! running node: commands over bounded channels with oneshot replies, reads straight from the
//! store, and a bounded broadcast of node events.

use std::sync::Arc;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use serde::Serialize;
use talos_chain::{Block, Hash256, ItemProof, SignedItem};
use talos_storage::{ChainTip, ItemLocation, Store};
use tokio::sync::{broadcast, mpsc, oneshot};

/// How long a handle call waits for the node before giving up.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`NodeHandle::mine_block`] waits (mining at a real target can take a while).
pub const MINE_TIMEOUT: Duration = Duration::from_secs(120);

/// Capacity of the node event broadcast; slow subscribers lag (and are told so) rather than
/// holding memory.
pub const EVENT_CAPACITY: usize = 1024;

/// Capacity of each command channel.
pub const COMMAND_CAPACITY: usize = 256;

/// Something that happened in the node, for subscribers (SSE, tests, simulator).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeEvent {
    /// The best tip changed.
    NewTip {
        /// New tip id (hex).
        id: Hash256Hex,
        /// New tip height.
        height: u64,
        /// Blocks disconnected by this change (0 for a plain extension).
        reorg_depth: u64,
    },
    /// A block was validated and stored (best chain or side branch).
    BlockImported {
        /// Block id (hex).
        id: Hash256Hex,
        /// Its height.
        height: u64,
        /// Where it came from: `gossip`, `sync` or `mined`.
        source: &'static str,
    },
    /// An item entered the mempool.
    NewItem {
        /// Item id (hex).
        id: Hash256Hex,
    },
}

/// A hash serialized as lower-case hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hash256Hex(pub Hash256);

impl Serialize for Hash256Hex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_hex())
    }
}

/// What sync is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No peer is ahead of us.
    Idle,
    /// Downloading headers/blocks from peers ahead of us.
    Syncing {
        /// Best height a peer has announced.
        target_height: u64,
    },
}

/// The node's view of itself.
#[derive(Clone, Debug, Serialize)]
pub struct NodeStatus {
    /// Network name.
    pub network: String,
    /// Role (`bootstrap` or `full`).
    pub role: String,
    /// libp2p PeerId.
    pub peer_id: String,
    /// The same key as a `did:key`.
    pub did: String,
    /// Addresses the swarm listens on.
    pub listen_addrs: Vec<String>,
    /// Best tip id (hex).
    pub tip_id: String,
    /// Best tip height.
    pub tip_height: u64,
    /// Cumulative work of the best chain (decimal).
    pub cumulative_work: String,
    /// Connected peers.
    pub peers: usize,
    /// Items in the mempool.
    pub mempool_items: usize,
    /// Sync state.
    pub sync: SyncState,
    /// Whether this node mines.
    pub mining: bool,
}

/// One connected peer.
#[derive(Clone, Debug, Serialize)]
pub struct PeerInfo {
    /// PeerId.
    pub peer_id: String,
    /// Addresses we know for it.
    pub addrs: Vec<String>,
    /// Its agent version from identify, if received.
    pub agent: Option<String>,
    /// Its gossipsub score, if any.
    pub gossip_score: Option<f64>,
    /// Its announced tip height, if its status was received.
    pub tip_height: Option<u64>,
}

/// Why an item was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SubmitError {
    /// Stable code (`talos_chain::MempoolError::code`).
    pub code: &'static str,
    /// Human detail.
    pub message: String,
}

/// Why [`NodeHandle::mine_block`] produced no block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MineError {
    /// Too many blocks are already requested.
    #[error("too many mining requests pending")]
    Busy,
    /// The mined block was refused by the node's own import pipeline.
    #[error("the mined block was refused: {0}")]
    Refused(&'static str),
}

/// Commands served by the chain service (import pipeline, mempool, miner).
// Commands are moved through a channel once; boxing the item would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ChainCommand {
    /// Validate and add an item to the mempool, then gossip it.
    SubmitItem {
        /// The item.
        item: SignedItem,
        /// The verdict.
        reply: oneshot::Sender<Result<Hash256, SubmitError>>,
    },
    /// Mine one block on the best tip now (also when the node does not mine continuously);
    /// the reply comes once the block is imported.
    MineBlock {
        /// The new block's id, or why none was mined.
        reply: oneshot::Sender<Result<Hash256, MineError>>,
    },
    /// Mempool size.
    MempoolLen {
        /// Count.
        reply: oneshot::Sender<usize>,
    },
    /// A mempool item by id.
    MempoolItem {
        /// Item id.
        id: Hash256,
        /// The item, if pending.
        reply: oneshot::Sender<Option<SignedItem>>,
    },
}

/// Commands served by the network task (swarm event loop).
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
    /// Sync state.
    SyncState {
        /// The state.
        reply: oneshot::Sender<SyncState>,
    },
    /// Dial an address.
    Dial {
        /// Where.
        addr: Multiaddr,
    },
}

/// Why a handle call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// The node is shutting down or gone.
    #[error("the node is not running")]
    Stopped,
    /// The node did not answer within [`CALL_TIMEOUT`].
    #[error("the node did not answer in time")]
    Timeout,
    /// The store failed.
    #[error("storage: {0}")]
    Storage(String),
}

/// Static facts about the running node.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// Network name.
    pub network: String,
    /// Network id.
    pub network_id: u32,
    /// Role name.
    pub role: String,
    /// PeerId.
    pub peer_id: PeerId,
    /// `did:key` of the node key.
    pub did: String,
    /// Whether the node mines.
    pub mining: bool,
}

/// A cloneable handle to a running node.
#[derive(Clone)]
pub struct NodeHandle {
    info: Arc<NodeInfo>,
    store: Arc<dyn Store>,
    chain: mpsc::Sender<ChainCommand>,
    net: mpsc::Sender<NetCommand>,
    events: broadcast::Sender<NodeEvent>,
    shutdown: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

async fn call<C, T>(
    tx: &mpsc::Sender<C>,
    make: impl FnOnce(oneshot::Sender<T>) -> C,
) -> Result<T, HandleError> {
    call_within(tx, CALL_TIMEOUT, make).await
}

/// Sends a command and waits up to `answer_within` for the reply.
async fn call_within<C, T>(
    tx: &mpsc::Sender<C>,
    answer_within: Duration,
    make: impl FnOnce(oneshot::Sender<T>) -> C,
) -> Result<T, HandleError> {
    let (reply, rx) = oneshot::channel();
    tokio::time::timeout(CALL_TIMEOUT, tx.send(make(reply)))
        .await
        .map_err(|_| HandleError::Timeout)?
        .map_err(|_| HandleError::Stopped)?;
    tokio::time::timeout(answer_within, rx)
        .await
        .map_err(|_| HandleError::Timeout)?
        .map_err(|_| HandleError::Stopped)
}

fn storage<T>(r: talos_storage::Result<T>) -> Result<T, HandleError> {
    r.map_err(|e| HandleError::Storage(e.to_string()))
}

impl NodeHandle {
    /// Assembles a handle; called once by the node when it starts.
    pub fn new(
        info: NodeInfo,
        store: Arc<dyn Store>,
        chain: mpsc::Sender<ChainCommand>,
        net: mpsc::Sender<NetCommand>,
        events: broadcast::Sender<NodeEvent>,
        shutdown: Arc<tokio::sync::Notify>,
    ) -> Self {
        Self {
            info: Arc::new(info),
            store,
            chain,
            net,
            events,
            shutdown,
        }
    }

    /// Static facts.
    pub fn info(&self) -> &NodeInfo {
        &self.info
    }

    /// The store (read-only use: every write goes through the chain service).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Subscribes to node events.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// Asks the node to stop (flushes storage on the way out).
    pub fn shutdown(&self) {
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
    }

    /// The best tip.
    pub fn tip(&self) -> Result<ChainTip, HandleError> {
        storage(self.store.tip())
    }

    /// A best-chain block by height.
    pub fn block_at(&self, height: u64) -> Result<Option<Block>, HandleError> {
        storage(self.store.best_block_at(height))
    }

    /// A block by id (any chain).
    pub fn block(&self, id: &Hash256) -> Result<Option<Block>, HandleError> {
        storage(self.store.block(id))
    }

    /// A best-chain item and where it is.
    pub fn item(&self, id: &Hash256) -> Result<Option<(SignedItem, ItemLocation)>, HandleError> {
        storage(self.store.item(id))
    }

    /// The SPV proof of a best-chain item.
    pub fn proof(&self, id: &Hash256) -> Result<Option<ItemProof>, HandleError> {
        storage(self.store.item_proof(id))
    }

    /// Submits an item to the mempool.
    pub async fn submit_item(
        &self,
        item: SignedItem,
    ) -> Result<Result<Hash256, SubmitError>, HandleError> {
        call(&self.chain, |reply| ChainCommand::SubmitItem {
            item,
            reply,
        })
        .await
    }

    /// Mines one block on the best tip (with the pending items that fit) and imports it; for
    /// the simulator's block schedule and for tests. The node announces the block as it does
    /// any block it mines.
    pub async fn mine_block(&self) -> Result<Result<Hash256, MineError>, HandleError> {
        call_within(&self.chain, MINE_TIMEOUT, |reply| ChainCommand::MineBlock {
            reply,
        })
        .await
    }

    /// A pending (mempool) item.
    pub async fn mempool_item(&self, id: Hash256) -> Result<Option<SignedItem>, HandleError> {
        call(&self.chain, |reply| ChainCommand::MempoolItem { id, reply }).await
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, HandleError> {
        call(&self.net, |reply| NetCommand::Peers { reply }).await
    }

    /// Peers banned now (misbehaviour, another network).
    pub async fn banned_peers(&self) -> Result<Vec<PeerId>, HandleError> {
        call(&self.net, |reply| NetCommand::Banned { reply }).await
    }

    /// Listen addresses.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, HandleError> {
        call(&self.net, |reply| NetCommand::ListenAddrs { reply }).await
    }

    /// Dials an address.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), HandleError> {
        self.net
            .send(NetCommand::Dial { addr })
            .await
            .map_err(|_| HandleError::Stopped)
    }

    /// The node's status.
    pub async fn status(&self) -> Result<NodeStatus, HandleError> {
        let tip = self.tip()?;
        let peers = self.peers().await?;
        let listen = self.listen_addrs().await?;
        let sync = call(&self.net, |reply| NetCommand::SyncState { reply }).await?;
        let mempool_items = call(&self.chain, |reply| ChainCommand::MempoolLen { reply }).await?;
        Ok(NodeStatus {
            network: self.info.network.clone(),
            role: self.info.role.clone(),
            peer_id: self.info.peer_id.to_string(),
            did: self.info.did.clone(),
            listen_addrs: listen.iter().map(ToString::to_string).collect(),
            tip_id: tip.id.to_hex(),
            tip_height: tip.height,
            cumulative_work: tip.cumulative_work.to_string(),
            peers: peers.len(),
            mempool_items,
            sync,
            mining: self.info.mining,
        })
    }
}
