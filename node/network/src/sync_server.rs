//! Serving inbound sync requests from the store, off the event loop.
//!
//! What to answer is `talos-sync`'s ([`talos_sync::answer`], with its caps and byte budget);
//! this module decides where and how many: every request is first charged to its peer's token
//! buckets ([`RateLimiter`]), every read runs on tokio's blocking pool, at most
//! [`MAX_CONCURRENT_SERVES`] at once and [`MAX_SERVES_PER_PEER`] for one peer (beyond that the
//! caller answers `busy` itself). Finished answers come back to the event loop over a bounded
//! channel (only the swarm can send them), each still holding its slot until it is handed to
//! the swarm, so at most [`MAX_CONCURRENT_SERVES`] answers exist at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use libp2p::PeerId;
use libp2p::request_response::ResponseChannel;
use talos_chain::chain_state::StateAnswer;
use talos_chain::{Block, BlockHeader, ChainStatus, Hash256, ItemProof, Limits};
use talos_storage::{StorageError, Store};
use talos_sync::server::{QuotaExceeded, Quotas, RateLimiter, internal_error};
use talos_sync::{InboundResponse, ServeChain, SyncRequest, SyncResponse};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

mod state;

/// Most answers being read or waiting to be sent at once.
pub const MAX_CONCURRENT_SERVES: usize = 8;

/// Most of those for one peer.
pub const MAX_SERVES_PER_PEER: usize = 2;

/// Capacity of the channel of finished answers.
pub const SERVED_QUEUE: usize = 64;

/// A finished answer for the event loop to send.
pub struct Served {
    /// The requester.
    pub peer: PeerId,
    /// Where the answer goes.
    pub channel: ResponseChannel<InboundResponse>,
    /// The answer.
    pub response: SyncResponse,
    /// The serving slot, freed once the answer is handed to the swarm.
    pub permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("peer", &self.peer)
            .field("response", &self.response.kind_name())
            .finish_non_exhaustive()
    }
}

/// The store as the chain the sync protocol serves from.
pub struct StoreChain<'a> {
    store: &'a dyn Store,
    network_id: u32,
}

impl<'a> StoreChain<'a> {
    /// `store` on network `network_id`.
    pub fn new(store: &'a dyn Store, network_id: u32) -> Self {
        Self { store, network_id }
    }
}

impl ServeChain for StoreChain<'_> {
    type Error = StorageError;

    fn status(&self) -> Result<ChainStatus, StorageError> {
        self.store.chain_status(self.network_id)
    }

    fn best_headers(&self, start: u64, max: usize) -> Result<Vec<BlockHeader>, StorageError> {
        Ok(self
            .store
            .best_headers(start, max)?
            .into_iter()
            .map(|e| e.header)
            .collect())
    }

    fn best_block_at(&self, height: u64) -> Result<Option<Block>, StorageError> {
        self.store.best_block_at(height)
    }

    fn block(&self, id: &Hash256) -> Result<Option<Block>, StorageError> {
        self.store.block(id)
    }

    fn item_proof(&self, id: &Hash256) -> Result<Option<ItemProof>, StorageError> {
        self.store.item_proof(id)
    }

    fn state_proof(
        &self,
        block: &Hash256,
        key: &Hash256,
    ) -> Result<Option<StateAnswer>, StorageError> {
        state::state_answer(self.store, block, key)
    }
}

/// Answers sync requests from the store.
pub struct SyncServer {
    store: Arc<dyn Store>,
    network_id: u32,
    limits: Limits,
    permits: Arc<Semaphore>,
    serving: HashMap<PeerId, usize>,
    quotas: RateLimiter<PeerId>,
    done: mpsc::Sender<Served>,
}

impl std::fmt::Debug for SyncServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncServer")
            .field("free", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

/// The answer to `request` from `store`, or an `internal` error when the store fails (logged).
pub fn answer(
    store: &dyn Store,
    network_id: u32,
    limits: &Limits,
    request: &SyncRequest,
) -> SyncResponse {
    talos_sync::answer(&StoreChain::new(store, network_id), limits, request).unwrap_or_else(|e| {
        tracing::warn!(error = %e, request = request.kind_name(), "sync request failed in the store");
        internal_error()
    })
}

impl SyncServer {
    /// A server reading `store`, sending finished answers to `done`.
    pub fn new(
        store: Arc<dyn Store>,
        network_id: u32,
        limits: Limits,
        done: mpsc::Sender<Served>,
    ) -> Self {
        Self {
            store,
            network_id,
            limits,
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_SERVES)),
            serving: HashMap::new(),
            quotas: RateLimiter::new(Quotas::default()),
            done,
        }
    }

    /// Charges `peer` for `request` (status requests included, which the sync machine
    /// answers): refused when over its quota.
    pub fn charge(
        &mut self,
        peer: PeerId,
        request: &SyncRequest,
        now: Instant,
    ) -> Result<(), QuotaExceeded> {
        self.quotas.check(peer, request, now)
    }

    /// `peer` left: its buckets go.
    pub fn forget(&mut self, peer: &PeerId) {
        self.quotas.forget(peer);
    }

    /// An answer for `peer` was handed to the swarm (its slot is freed with the permit).
    pub fn sent(&mut self, peer: &PeerId) {
        if let Some(n) = self.serving.get_mut(peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.serving.remove(peer);
            }
        }
    }

    /// Starts answering `request`. Returns the channel back when the server, or this peer's
    /// share of it, is saturated so the caller answers `busy` itself.
    pub fn serve(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<InboundResponse>,
    ) -> Result<(), ResponseChannel<InboundResponse>> {
        if self.serving.get(&peer).copied().unwrap_or(0) >= MAX_SERVES_PER_PEER {
            return Err(channel);
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return Err(channel);
        };
        *self.serving.entry(peer).or_default() += 1;
        let store = self.store.clone();
        let network_id = self.network_id;
        let limits = self.limits;
        let done = self.done.clone();
        tokio::task::spawn_blocking(move || {
            let response = answer(store.as_ref(), network_id, &limits, &request);
            // The loop may be gone (shutdown): then nobody needs the answer.
            let _ = done.blocking_send(Served {
                peer,
                channel,
                response,
                permit,
            });
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use talos_chain::NetworkSpec;
    use talos_storage::{ChainStore, MemoryStore};

    use super::*;

    #[test]
    fn answers_status_and_ranges_from_the_store() {
        let spec = NetworkSpec::local();
        let store = MemoryStore::new(&spec.genesis()).unwrap();
        let ask = |request: SyncRequest| answer(&store, spec.network_id, &spec.limits, &request);
        let status = match ask(SyncRequest::Status(
            store.chain_status(spec.network_id).unwrap(),
        )) {
            SyncResponse::Status(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(status.genesis_hash, spec.genesis_hash());
        let headers = ask(SyncRequest::HeadersByRange {
            start_height: 0,
            count: 10,
        });
        assert!(matches!(headers, SyncResponse::Headers(h) if h.len() == 1));
        let blocks = ask(SyncRequest::BlocksByRange {
            start_height: 1,
            count: 10,
        });
        assert!(matches!(blocks, SyncResponse::Blocks(b) if b.is_empty()));
        let by_hash = ask(SyncRequest::BlocksByHash(vec![spec.genesis_hash()]));
        assert!(matches!(by_hash, SyncResponse::Blocks(b) if b.len() == 1));
        let proof = ask(SyncRequest::Proof(spec.genesis_hash()));
        assert_eq!(proof, SyncResponse::Proof(None));
    }
}
