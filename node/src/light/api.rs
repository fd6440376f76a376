//! The light client as the local API's backend: [`NodeApi`] over [`LightHandle`]. Questions
//! about blocks, items and the mempool get `404 wrong_role` (a light client holds none); the
//! light endpoints are answered from the header store and the full nodes asked.

use futures::{Stream, StreamExt};
use talos_api::light::{LightAnswerJson, LightQuestion};
use talos_api::types::{EventJson, NodeStatus, PeerJson};
use talos_api::{
    BackendError, BlockKey, ChainPosition, EventOrLag, FoundItem, NodeApi, SubmitRejection,
};
use talos_chain::{Block, BlockHeader, Hash256, ItemProof, SignedItem};
use talos_light::saved::SavedProof;
use talos_network::light::{LightEvent, LightHeaders};
use talos_storage::{ChainTip, StorageError};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::LightHandle;
use super::answer::judge_saved;
use crate::api::{peer_json, sync_state};
use crate::resources::process_rss_bytes;

const WRONG_ROLE: BackendError = BackendError::WrongRole { role: "light" };

/// Runs a header-store read on the blocking pool.
async fn blocking<T, F>(handle: &LightHandle, f: F) -> Result<T, BackendError>
where
    T: Send + 'static,
    F: FnOnce(&LightHandle) -> Result<T, StorageError> + Send + 'static,
{
    let handle = handle.clone();
    tokio::task::spawn_blocking(move || f(&handle))
        .await
        .map_err(|_| BackendError::Unavailable)?
        .map_err(BackendError::Storage)
}

/// A light event as the API's JSON event.
pub fn light_event_json(event: &LightEvent) -> EventJson {
    match event {
        LightEvent::NewHeader { id, height } => EventJson::NewHeader {
            id: id.to_hex(),
            height: *height,
        },
        LightEvent::NewTip {
            id,
            height,
            reorg_depth,
        } => EventJson::NewTip {
            id: id.to_hex(),
            height: *height,
            reorg_depth: *reorg_depth,
        },
    }
}

impl NodeApi for LightHandle {
    async fn status(&self) -> Result<NodeStatus, BackendError> {
        let (tip, stats, disk) = blocking(self, |h| {
            Ok((h.headers().tip()?, h.headers().stats()?, h.disk_bytes()))
        })
        .await?;
        let net = self.net();
        let info = self.info();
        Ok(NodeStatus {
            network: info.network.clone(),
            role: info.role.as_str().to_owned(),
            peer_id: info.peer_id.to_string(),
            did: info.did.clone(),
            listen_addrs: net
                .listen_addrs()
                .await?
                .iter()
                .map(ToString::to_string)
                .collect(),
            tip_id: tip.id.to_hex(),
            tip_height: tip.height,
            cumulative_work: tip.cumulative_work.to_string(),
            peers: net.peers().await?.len(),
            mempool_items: 0,
            sync: sync_state(net.sync_state().await?),
            mining: false,
            rss_bytes: process_rss_bytes(),
            disk_bytes: Some(disk),
            headers_stored: Some(stats.headers),
        })
    }

    async fn peers(&self) -> Result<Vec<PeerJson>, BackendError> {
        Ok(self.net().peers().await?.iter().map(peer_json).collect())
    }

    async fn head(&self) -> Result<(ChainTip, BlockHeader), BackendError> {
        blocking(self, |h| {
            let tip = h.headers().tip()?;
            let entry = h
                .headers()
                .header(&tip.id, tip.height)?
                .ok_or(StorageError::NotFound {
                    what: "tip header",
                    id: tip.id,
                })?;
            Ok((tip, entry.header))
        })
        .await
    }

    async fn block(&self, _key: BlockKey) -> Result<Option<(Block, ChainPosition)>, BackendError> {
        Err(WRONG_ROLE)
    }

    async fn item(&self, _id: Hash256) -> Result<Option<FoundItem>, BackendError> {
        Err(WRONG_ROLE)
    }

    async fn proof(&self, _id: Hash256) -> Result<Option<ItemProof>, BackendError> {
        Err(WRONG_ROLE)
    }

    async fn submit(&self, _item: SignedItem) -> Result<Hash256, SubmitRejection> {
        Err(WRONG_ROLE.into())
    }

    fn events(&self) -> impl Stream<Item = EventOrLag> + Send + Unpin + use<> {
        BroadcastStream::new(self.subscribe()).map(|item| match item {
            Ok(event) => Ok(light_event_json(&event)),
            Err(BroadcastStreamRecvError::Lagged(missed)) => Err(missed),
        })
    }

    async fn headers(&self, from: u64, limit: usize) -> Result<Vec<BlockHeader>, BackendError> {
        blocking(self, move |h| {
            Ok(h.headers()
                .best_headers(from, limit)?
                .into_iter()
                .map(|e| e.header)
                .collect())
        })
        .await
    }

    async fn light_query(&self, question: LightQuestion) -> Result<LightAnswerJson, BackendError> {
        super::query::answer(self, question).await
    }

    async fn verify_saved(
        &self,
        proof: SavedProof,
        min_confirmations: u64,
    ) -> Result<LightAnswerJson, BackendError> {
        let spec = self.spec().clone();
        let handle = self.clone();
        tokio::task::spawn_blocking(move || {
            judge_saved(
                &LightHeaders(&**handle.headers()),
                &proof,
                &spec,
                min_confirmations,
            )
        })
        .await
        .map_err(|_| BackendError::Unavailable)?
    }
}
