//! The node as the local API's backend: [`talos_api::NodeApi`] over [`NodeHandle`], with
//! store reads on the blocking pool and chain events turned into the API's JSON events.

use futures::{Stream, StreamExt};
use talos_api::types::{EventJson, NodeStatus, PeerJson, SyncState};
use talos_api::{
    BackendError, BlockKey, ChainPosition, EventOrLag, FoundItem, NodeApi, SubmitRejection,
};
use talos_chain::{Block, BlockHeader, Hash256, ItemProof, SignedItem};
use talos_chain_service::{ChainEvent, SubmitError};
use talos_storage::ChainTip;
use talos_sync::SyncStatus;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use talos_api::light::{LightAnswerJson, LightQuestion};
use talos_light::saved::SavedProof;
use talos_network::PeerInfo;
use talos_network::light::FullHeaders;

use crate::handle::{HandleError, NodeHandle};
use crate::light::judge_saved;
use crate::resources::process_rss_bytes;

impl From<HandleError> for BackendError {
    fn from(e: HandleError) -> Self {
        match e {
            HandleError::Stopped => Self::Unavailable,
            HandleError::Timeout => Self::Timeout,
            HandleError::Storage(e) => Self::Storage(e),
        }
    }
}

/// Runs a store read on the blocking pool (sled reads may touch the disk).
async fn blocking<T, F>(handle: &NodeHandle, f: F) -> Result<T, BackendError>
where
    T: Send + 'static,
    F: FnOnce(&NodeHandle) -> Result<T, HandleError> + Send + 'static,
{
    let handle = handle.clone();
    tokio::task::spawn_blocking(move || f(&handle))
        .await
        .map_err(|_| BackendError::Unavailable)?
        .map_err(BackendError::from)
}

pub(crate) fn sync_state(status: SyncStatus) -> SyncState {
    match status {
        SyncStatus::Idle => SyncState::Idle,
        SyncStatus::Syncing { target_height } => SyncState::Syncing { target_height },
    }
}

/// A chain event as the API's JSON event.
pub fn event_json(event: &ChainEvent) -> EventJson {
    match event {
        ChainEvent::NewTip {
            id,
            height,
            reorg_depth,
        } => EventJson::NewTip {
            id: id.to_hex(),
            height: *height,
            reorg_depth: *reorg_depth,
        },
        ChainEvent::BlockImported { id, height, source } => EventJson::BlockImported {
            id: id.to_hex(),
            height: *height,
            source: source.as_str().to_owned(),
        },
        ChainEvent::NewItem { id } => EventJson::NewItem { id: id.to_hex() },
    }
}

impl NodeApi for NodeHandle {
    async fn status(&self) -> Result<NodeStatus, BackendError> {
        let status = NodeHandle::status(self).await?;
        Ok(NodeStatus {
            network: status.info.network,
            role: status.info.role.as_str().to_owned(),
            peer_id: status.info.peer_id.to_string(),
            did: status.info.did,
            listen_addrs: status
                .listen_addrs
                .iter()
                .map(ToString::to_string)
                .collect(),
            tip_id: status.tip.id.to_hex(),
            tip_height: status.tip.height,
            cumulative_work: status.tip.cumulative_work.to_string(),
            peers: status.peers,
            mempool_items: status.mempool_items,
            sync: sync_state(status.sync),
            mining: status.info.mining,
            rss_bytes: process_rss_bytes(),
            disk_bytes: None,
            headers_stored: None,
        })
    }

    async fn peers(&self) -> Result<Vec<PeerJson>, BackendError> {
        Ok(NodeHandle::peers(self)
            .await?
            .iter()
            .map(peer_json)
            .collect())
    }

    async fn head(&self) -> Result<(ChainTip, BlockHeader), BackendError> {
        blocking(self, |h| {
            let tip = h.tip()?;
            let entry = h.header(&tip.id)?;
            Ok((tip, entry))
        })
        .await
        .and_then(|(tip, entry)| match entry {
            Some(entry) => Ok((tip, entry.header)),
            // The tip's header is always stored; a store that lost it is corrupt.
            None => Err(BackendError::Storage(
                talos_storage::StorageError::NotFound {
                    what: "tip header",
                    id: tip.id,
                },
            )),
        })
    }

    async fn block(&self, key: BlockKey) -> Result<Option<(Block, ChainPosition)>, BackendError> {
        blocking(self, move |h| {
            let block = match key {
                BlockKey::Height(height) => h.block_at(height)?,
                BlockKey::Id(id) => h.block(&id)?,
            };
            let Some(block) = block else {
                return Ok(None);
            };
            let position = if h.is_best_chain(&block.id())? {
                ChainPosition::Best
            } else {
                ChainPosition::Side
            };
            Ok(Some((block, position)))
        })
        .await
    }

    async fn item(&self, id: Hash256) -> Result<Option<FoundItem>, BackendError> {
        let confirmed = blocking(self, move |h| {
            let found = h.item(&id)?;
            let tip = h.tip()?;
            Ok(found.map(|(item, location)| FoundItem::Confirmed {
                item,
                location,
                tip_height: tip.height,
            }))
        })
        .await?;
        if confirmed.is_some() {
            return Ok(confirmed);
        }
        Ok(self.mempool_item(id).await?.map(FoundItem::Pending))
    }

    async fn proof(&self, id: Hash256) -> Result<Option<ItemProof>, BackendError> {
        blocking(self, move |h| h.proof(&id)).await
    }

    async fn submit(&self, item: SignedItem) -> Result<Hash256, SubmitRejection> {
        match self.submit_item(item).await {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(SubmitError::Refused(e))) => Err(SubmitRejection::Refused(e)),
            Ok(Err(SubmitError::Storage(e))) => Err(BackendError::Storage(e).into()),
            Err(e) => Err(BackendError::from(e).into()),
        }
    }

    fn events(&self) -> impl Stream<Item = EventOrLag> + Send + Unpin + use<> {
        BroadcastStream::new(self.subscribe()).map(|item| match item {
            Ok(event) => Ok(event_json(&event)),
            Err(BroadcastStreamRecvError::Lagged(missed)) => Err(missed),
        })
    }

    async fn headers(&self, from: u64, limit: usize) -> Result<Vec<BlockHeader>, BackendError> {
        blocking(self, move |h| {
            Ok(h.store()
                .best_headers(from, limit)?
                .into_iter()
                .map(|e| e.header)
                .collect())
        })
        .await
    }

    async fn light_query(&self, _question: LightQuestion) -> Result<LightAnswerJson, BackendError> {
        Err(BackendError::WrongRole {
            role: self.info().role.as_str(),
        })
    }

    /// A full node checks a saved proof against its own headers.
    async fn verify_saved(
        &self,
        proof: SavedProof,
        min_confirmations: u64,
    ) -> Result<LightAnswerJson, BackendError> {
        let handle = self.clone();
        tokio::task::spawn_blocking(move || {
            judge_saved(
                &FullHeaders(&**handle.store()),
                &proof,
                handle.spec(),
                min_confirmations,
            )
        })
        .await
        .map_err(|_| BackendError::Unavailable)?
    }

    async fn send_messages(
        &self,
        request: talos_api::agent::SendRequest,
    ) -> Result<talos_api::agent::SendResponse, BackendError> {
        crate::api_agent::send(self, request).await
    }

    async fn inbox(
        &self,
        query: talos_api::agent::InboxQuery,
    ) -> Result<talos_api::agent::InboxJson, BackendError> {
        crate::api_agent::inbox(self, query).await
    }

    async fn delete_messages(
        &self,
        through: u64,
    ) -> Result<talos_api::agent::DeletedJson, BackendError> {
        let deleted = crate::api_agent::agent(self)?.delete_inbox(through).await?;
        Ok(talos_api::agent::DeletedJson { deleted })
    }

    fn messages(
        &self,
    ) -> impl Stream<Item = Result<talos_api::agent::InboxMessageJson, u64>> + Send + Unpin + use<>
    {
        crate::api_agent::messages(self)
    }

    async fn sessions(&self) -> Result<talos_api::agent::SessionsJson, BackendError> {
        crate::api_agent::sessions(self).await
    }

    async fn publish_did(&self) -> Result<talos_api::agent::DidPublishJson, BackendError> {
        crate::api_agent::publish_did(self).await
    }

    async fn resolve_did(
        &self,
        did: String,
    ) -> Result<talos_api::agent::DidRecordJson, BackendError> {
        crate::api_agent::resolve_did(self, did).await
    }
}

/// A connected peer as the API's JSON.
pub(crate) fn peer_json(p: &PeerInfo) -> PeerJson {
    PeerJson {
        peer_id: p.peer_id.to_string(),
        addrs: p.addrs.iter().map(ToString::to_string).collect(),
        agent: p.agent.clone(),
        gossip_score: p.gossip_score,
        tip_height: p.tip_height,
    }
}
