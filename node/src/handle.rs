//! The cloneable handle through which the local API, the CLI's tests and the simulator talk to
//! a running node: commands over bounded channels with oneshot replies, reads straight from the
//! store, and a bounded broadcast of chain events.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use talos_chain::{Block, Hash256, ItemProof, SignedItem};
use talos_chain_service::{ChainCommand, ChainEvent, MineError, SubmitError};
use talos_network::{NetCommand, PeerInfo, Role};

use crate::netclient::NetClient;
use talos_storage::{ChainTip, HeaderEntry, ItemLocation, StorageError, Store};
use talos_sync::SyncStatus;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

/// How long a handle call waits for the node before giving up.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`NodeHandle::mine_block`] waits (mining at a real target can take a while).
pub const MINE_TIMEOUT: Duration = Duration::from_secs(120);

/// Capacity of the event broadcast; slow subscribers lag (and are told so) rather than holding
/// memory.
pub const EVENT_CAPACITY: usize = 1024;

/// Why a handle call failed.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The node is shutting down or gone.
    #[error("the node is not running")]
    Stopped,
    /// The node did not answer within [`CALL_TIMEOUT`].
    #[error("the node did not answer in time")]
    Timeout,
    /// The store failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
}

/// Static facts about the running node.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// Network name.
    pub network: String,
    /// Network id.
    pub network_id: u32,
    /// Role.
    pub role: Role,
    /// PeerId.
    pub peer_id: PeerId,
    /// `did:key` of the node key.
    pub did: String,
    /// Whether the node mines.
    pub mining: bool,
}

/// The node's view of itself.
#[derive(Clone, Debug)]
pub struct NodeStatus {
    /// Static facts.
    pub info: NodeInfo,
    /// Addresses the swarm listens on.
    pub listen_addrs: Vec<Multiaddr>,
    /// The best tip.
    pub tip: ChainTip,
    /// Connected peers.
    pub peers: usize,
    /// Items in the mempool.
    pub mempool_items: usize,
    /// What sync is doing.
    pub sync: SyncStatus,
}

/// A cloneable handle to a running node.
#[derive(Clone)]
pub struct NodeHandle {
    info: Arc<NodeInfo>,
    spec: Arc<talos_chain::NetworkSpec>,
    store: Arc<dyn Store>,
    chain: mpsc::Sender<ChainCommand>,
    net: NetClient,
    events: broadcast::Sender<ChainEvent>,
    shutdown: Arc<Notify>,
    stop_requested: Arc<AtomicBool>,
    agent: Option<crate::agent::AgentClient>,
}

impl std::fmt::Debug for NodeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeHandle")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Sends a command and waits up to `answer_within` for the reply.
pub(crate) async fn call_within<C, T>(
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

pub(crate) async fn call<C, T>(
    tx: &mpsc::Sender<C>,
    make: impl FnOnce(oneshot::Sender<T>) -> C,
) -> Result<T, HandleError> {
    call_within(tx, CALL_TIMEOUT, make).await
}

/// The parts a handle talks to.
pub(crate) struct HandleParts {
    pub(crate) info: NodeInfo,
    pub(crate) spec: talos_chain::NetworkSpec,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) chain: mpsc::Sender<ChainCommand>,
    pub(crate) net: mpsc::Sender<NetCommand>,
    pub(crate) events: broadcast::Sender<ChainEvent>,
    pub(crate) shutdown: Arc<Notify>,
    pub(crate) agent: Option<crate::agent::AgentClient>,
}

impl NodeHandle {
    /// Assembles a handle; called once by the node when it starts.
    pub(crate) fn new(parts: HandleParts) -> Self {
        Self {
            info: Arc::new(parts.info),
            spec: Arc::new(parts.spec),
            store: parts.store,
            chain: parts.chain,
            net: NetClient::new(parts.net),
            events: parts.events,
            shutdown: parts.shutdown,
            stop_requested: Arc::new(AtomicBool::new(false)),
            agent: parts.agent,
        }
    }

    /// Static facts.
    pub fn info(&self) -> &NodeInfo {
        &self.info
    }

    /// The network's spec.
    pub fn spec(&self) -> &talos_chain::NetworkSpec {
        &self.spec
    }

    /// The store (read-only use: every write goes through the chain service).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The messaging agent (full and bootstrap nodes).
    pub fn agent(&self) -> Option<&crate::agent::AgentClient> {
        self.agent.as_ref()
    }

    /// Subscribes to chain events.
    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    /// Asks the node to stop (storage is flushed on every commit, so nothing is lost).
    pub fn shutdown(&self) {
        self.stop_requested.store(true, Ordering::SeqCst);
        self.notify_stop();
    }

    /// Tells every part to stop, without recording a request (a part ended by itself).
    pub(crate) fn notify_stop(&self) {
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
    }

    /// Whether [`NodeHandle::shutdown`] was called.
    pub fn stop_requested(&self) -> bool {
        self.stop_requested.load(Ordering::SeqCst)
    }

    /// The best tip.
    pub fn tip(&self) -> Result<ChainTip, HandleError> {
        Ok(self.store.tip()?)
    }

    /// A stored header by id.
    pub fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>, HandleError> {
        Ok(self.store.header(id)?)
    }

    /// A best-chain block by height.
    pub fn block_at(&self, height: u64) -> Result<Option<Block>, HandleError> {
        Ok(self.store.best_block_at(height)?)
    }

    /// A block by id (any chain).
    pub fn block(&self, id: &Hash256) -> Result<Option<Block>, HandleError> {
        Ok(self.store.block(id)?)
    }

    /// Whether a stored block is on the best chain.
    pub fn is_best_chain(&self, id: &Hash256) -> Result<bool, HandleError> {
        Ok(self.store.is_best_chain(id)?)
    }

    /// A best-chain item and where it is.
    pub fn item(&self, id: &Hash256) -> Result<Option<(SignedItem, ItemLocation)>, HandleError> {
        Ok(self.store.item(id)?)
    }

    /// The SPV proof of a best-chain item.
    pub fn proof(&self, id: &Hash256) -> Result<Option<ItemProof>, HandleError> {
        Ok(self.store.item_proof(id)?)
    }

    /// Submits an item to the mempool.
    pub async fn submit_item(
        &self,
        item: SignedItem,
    ) -> Result<Result<Hash256, SubmitError>, HandleError> {
        call(&self.chain, |reply| ChainCommand::SubmitItem {
            item: Box::new(item),
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

    /// Items in the mempool.
    pub async fn mempool_len(&self) -> Result<usize, HandleError> {
        call(&self.chain, |reply| ChainCommand::MempoolLen { reply }).await
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, HandleError> {
        self.net.peers().await
    }

    /// Peers banned now (misbehaviour, another network).
    pub async fn banned_peers(&self) -> Result<Vec<PeerId>, HandleError> {
        self.net.banned().await
    }

    /// Listen addresses.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, HandleError> {
        self.net.listen_addrs().await
    }

    /// What sync is doing.
    pub async fn sync_state(&self) -> Result<SyncStatus, HandleError> {
        self.net.sync_state().await
    }

    /// Dials an address.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), HandleError> {
        self.net.dial(addr).await
    }

    /// The node's status.
    pub async fn status(&self) -> Result<NodeStatus, HandleError> {
        Ok(NodeStatus {
            info: (*self.info).clone(),
            listen_addrs: self.listen_addrs().await?,
            tip: self.tip()?,
            peers: self.peers().await?.len(),
            mempool_items: self.mempool_len().await?,
            sync: self.sync_state().await?,
        })
    }
}
