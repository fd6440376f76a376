//! [`NodeApi`]: what the API needs from a node. The node implements it over its handle; the
//! API knows nothing else about it (the same routes can serve a light client later).

use std::future::Future;

use futures::Stream;
use talos_chain::{Block, BlockHeader, Hash256, ItemProof, MempoolError, SignedItem};
use talos_storage::{ChainTip, ItemLocation, StorageError};

use talos_light::saved::SavedProof;

use crate::agent::{
    DeletedJson, DidPublishJson, DidRecordJson, InboxJson, InboxMessageJson, InboxQuery,
    SendRequest, SendResponse, SessionsJson,
};
use crate::light::{LightAnswerJson, LightQuestion};
use crate::types::{EventJson, NodeStatus, PeerJson};

/// The error of a role without a messaging agent.
fn no_agent() -> BackendError {
    BackendError::WrongRole { role: "light" }
}

/// Why the node could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The node is stopping or gone.
    #[error("the node is not running")]
    Unavailable,
    /// The node did not answer in time.
    #[error("the node did not answer in time")]
    Timeout,
    /// The store failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// This node's role does not answer the question (e.g. a full node asked a light client's
    /// question).
    #[error("a {role} node does not answer this")]
    WrongRole {
        /// The node's role.
        role: &'static str,
    },
    /// The question cannot be asked (e.g. a DID that names no key).
    #[error("{0}")]
    BadQuestion(String),
    /// What was asked for does not exist (e.g. no DID record found).
    #[error("{0}")]
    NotFound(String),
    /// The node will not do it (a message that cannot be sealed or sent).
    #[error("{message}")]
    Refused {
        /// Stable snake_case code.
        code: &'static str,
        /// Why.
        message: String,
    },
}

/// Why a submitted item was not pooled.
#[derive(Debug, thiserror::Error)]
pub enum SubmitRejection {
    /// The mempool refused it.
    #[error(transparent)]
    Refused(#[from] MempoolError),
    /// The node could not judge it.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// A block asked for by height (best chain) or id (any chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKey {
    /// A best-chain height.
    Height(u64),
    /// A block id.
    Id(Hash256),
}

/// Where a stored block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainPosition {
    /// On the best chain.
    Best,
    /// On a side branch.
    Side,
}

/// An item looked up by id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FoundItem {
    /// In the best chain, at `location`, with the tip at `tip_height`.
    Confirmed {
        /// The item.
        item: SignedItem,
        /// Where it is.
        location: ItemLocation,
        /// The best tip's height.
        tip_height: u64,
    },
    /// In the mempool.
    Pending(SignedItem),
}

/// What a subscriber receives: an event, or the number of events it missed by lagging.
pub type EventOrLag = Result<EventJson, u64>;

/// The node as the API sees it. Methods may read the store: implementations keep blocking
/// reads off the async workers.
pub trait NodeApi: Clone + Send + Sync + 'static {
    /// The node's status.
    fn status(&self) -> impl Future<Output = Result<NodeStatus, BackendError>> + Send;
    /// Connected peers.
    fn peers(&self) -> impl Future<Output = Result<Vec<PeerJson>, BackendError>> + Send;
    /// The best tip and its header.
    fn head(&self) -> impl Future<Output = Result<(ChainTip, BlockHeader), BackendError>> + Send;
    /// A block and where it is.
    fn block(
        &self,
        key: BlockKey,
    ) -> impl Future<Output = Result<Option<(Block, ChainPosition)>, BackendError>> + Send;
    /// A confirmed or pending item.
    fn item(
        &self,
        id: Hash256,
    ) -> impl Future<Output = Result<Option<FoundItem>, BackendError>> + Send;
    /// The SPV proof of a best-chain item.
    fn proof(
        &self,
        id: Hash256,
    ) -> impl Future<Output = Result<Option<ItemProof>, BackendError>> + Send;
    /// Submits an item to the mempool (then it is gossiped).
    fn submit(
        &self,
        item: SignedItem,
    ) -> impl Future<Output = Result<Hash256, SubmitRejection>> + Send;
    /// Events from now on (a bounded buffer per subscriber).
    fn events(&self) -> impl Stream<Item = EventOrLag> + Send + Unpin + use<Self>;
    /// Best-chain headers from `from`, at most `limit`.
    fn headers(
        &self,
        from: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<BlockHeader>, BackendError>> + Send;
    /// Asks full nodes a light client's question and judges their proofs.
    fn light_query(
        &self,
        question: LightQuestion,
    ) -> impl Future<Output = Result<LightAnswerJson, BackendError>> + Send;
    /// Checks a saved proof against the local header chain.
    fn verify_saved(
        &self,
        proof: SavedProof,
        min_confirmations: u64,
    ) -> impl Future<Output = Result<LightAnswerJson, BackendError>> + Send;

    /// Seals and queues messages (agent messaging; full and bootstrap nodes).
    fn send_messages(
        &self,
        request: SendRequest,
    ) -> impl Future<Output = Result<SendResponse, BackendError>> + Send {
        let _ = request;
        async { Err(no_agent()) }
    }
    /// Received messages.
    fn inbox(
        &self,
        query: InboxQuery,
    ) -> impl Future<Output = Result<InboxJson, BackendError>> + Send {
        let _ = query;
        async { Err(no_agent()) }
    }
    /// Deletes received messages numbered up to `through`.
    fn delete_messages(
        &self,
        through: u64,
    ) -> impl Future<Output = Result<DeletedJson, BackendError>> + Send {
        let _ = through;
        async { Err(no_agent()) }
    }
    /// Messages received from now on (a bounded buffer per subscriber; `Err` counts missed).
    fn messages(
        &self,
    ) -> impl Stream<Item = Result<InboxMessageJson, u64>> + Send + Unpin + use<Self> {
        futures::stream::empty()
    }
    /// The agent's conversations.
    fn sessions(&self) -> impl Future<Output = Result<SessionsJson, BackendError>> + Send {
        async { Err(no_agent()) }
    }
    /// Publishes the agent's DID record now.
    fn publish_did(&self) -> impl Future<Output = Result<DidPublishJson, BackendError>> + Send {
        async { Err(no_agent()) }
    }
    /// Resolves a DID record (local store and DHT).
    fn resolve_did(
        &self,
        did: String,
    ) -> impl Future<Output = Result<DidRecordJson, BackendError>> + Send {
        let _ = did;
        async { Err(no_agent()) }
    }
}
