//! Serving inbound sync requests from the store, off the event loop.
//!
//! The event loop hands every valid request to [`SyncServer::serve`], which answers at once
//! when no store read is needed (malformed or over-budget requests, a busy server) and
//! otherwise runs the read on tokio's blocking pool, bounded by a semaphore. Finished answers
//! come back to the event loop over a bounded channel (only the swarm can send them).

use std::sync::Arc;

use libp2p::PeerId;
use libp2p::request_response::ResponseChannel;
use talos_chain::wire::MAX_HEADER_WIRE_BYTES;
use talos_chain::{Block, ChainStatus, Limits};
use talos_storage::Store;
use talos_sync::limits::{
    MAX_BLOCKS_PER_RESPONSE, MAX_HEADERS_PER_RESPONSE, RESPONSE_FRAMING_BYTES, max_response_bytes,
};
use talos_sync::{ErrorCode, InboundResponse, SyncRequest, SyncResponse};
use tokio::sync::{Semaphore, mpsc};

/// Most store reads serving peers at once.
pub const MAX_CONCURRENT_SERVES: usize = 8;

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
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Served")
            .field("peer", &self.peer)
            .field("response", &self.response.kind_name())
            .finish_non_exhaustive()
    }
}

/// Answers sync requests from the store.
pub struct SyncServer {
    store: Arc<dyn Store>,
    network_id: u32,
    limits: Limits,
    permits: Arc<Semaphore>,
    done: mpsc::Sender<Served>,
}

/// An error response.
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> SyncResponse {
    let mut message = message.into();
    message.truncate(talos_sync::limits::MAX_ERROR_MESSAGE_BYTES.min(256));
    SyncResponse::Error { code, message }
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
            done,
        }
    }

    /// Our status (a cheap store read; used for outbound status requests too).
    pub fn local_status(&self) -> Result<ChainStatus, talos_storage::StorageError> {
        self.store.chain_status(self.network_id)
    }

    /// Starts answering `request`. Returns the channel back when the server is saturated so
    /// the caller answers `Busy` itself.
    pub fn serve(
        &self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<InboundResponse>,
    ) -> Result<(), ResponseChannel<InboundResponse>> {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return Err(channel);
        };
        let store = self.store.clone();
        let network_id = self.network_id;
        let limits = self.limits;
        let done = self.done.clone();
        tokio::task::spawn_blocking(move || {
            let response = answer(store.as_ref(), network_id, &limits, &request);
            drop(permit);
            // The loop may be gone (shutdown): then nobody needs the answer.
            let _ = done.blocking_send(Served {
                peer,
                channel,
                response,
            });
        });
        Ok(())
    }
}

/// Upper bound of a block's size inside a `Blocks` response (the same bound the decoder's
/// per-block cap uses, plus the list element's key and length).
fn block_wire_bound(block: &Block) -> usize {
    block.encoded_len() + block.items.len() * 32 + MAX_HEADER_WIRE_BYTES + 16
}

/// The answer to `request` from `store` (blocking).
pub fn answer(
    store: &dyn Store,
    network_id: u32,
    limits: &Limits,
    request: &SyncRequest,
) -> SyncResponse {
    match try_answer(store, network_id, limits, request) {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(error = %e, request = request.kind_name(), "sync request failed in the store");
            error_response(ErrorCode::Internal, "storage error")
        }
    }
}

fn try_answer(
    store: &dyn Store,
    network_id: u32,
    limits: &Limits,
    request: &SyncRequest,
) -> Result<SyncResponse, talos_storage::StorageError> {
    let budget = max_response_bytes(limits).saturating_sub(RESPONSE_FRAMING_BYTES);
    Ok(match request {
        SyncRequest::Status(_) => SyncResponse::Status(store.chain_status(network_id)?),
        SyncRequest::HeadersByRange {
            start_height,
            count,
        } => {
            let max = (*count).min(MAX_HEADERS_PER_RESPONSE) as usize;
            SyncResponse::Headers(
                store
                    .best_headers(*start_height, max)?
                    .into_iter()
                    .map(|e| e.header)
                    .collect(),
            )
        }
        SyncRequest::BlocksByRange {
            start_height,
            count,
        } => {
            let max = u64::from((*count).min(MAX_BLOCKS_PER_RESPONSE));
            let mut blocks = Vec::new();
            let mut bytes = 0usize;
            for height in (*start_height..=u64::MAX).take(max as usize) {
                let Some(block) = store.best_block_at(height)? else {
                    break;
                };
                bytes = bytes.saturating_add(block_wire_bound(&block));
                if bytes > budget && !blocks.is_empty() {
                    break;
                }
                blocks.push(block);
            }
            SyncResponse::Blocks(blocks)
        }
        SyncRequest::BlocksByHash(ids) => {
            let mut blocks = Vec::new();
            let mut bytes = 0usize;
            for id in ids.iter().take(MAX_BLOCKS_PER_RESPONSE as usize) {
                let Some(block) = store.block(id)? else {
                    continue;
                };
                bytes = bytes.saturating_add(block_wire_bound(&block));
                if bytes > budget && !blocks.is_empty() {
                    break;
                }
                blocks.push(block);
            }
            SyncResponse::Blocks(blocks)
        }
        SyncRequest::Proof(id) => SyncResponse::Proof(store.item_proof(id)?.map(Box::new)),
    })
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
        let status = match answer(
            &store,
            spec.network_id,
            &spec.limits,
            &SyncRequest::Status(store.chain_status(spec.network_id).unwrap()),
        ) {
            SyncResponse::Status(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(status.genesis_hash, spec.genesis_hash());
        let headers = answer(
            &store,
            spec.network_id,
            &spec.limits,
            &SyncRequest::HeadersByRange {
                start_height: 0,
                count: 10,
            },
        );
        assert!(matches!(headers, SyncResponse::Headers(h) if h.len() == 1));
        let blocks = answer(
            &store,
            spec.network_id,
            &spec.limits,
            &SyncRequest::BlocksByRange {
                start_height: 1,
                count: 10,
            },
        );
        assert!(matches!(blocks, SyncResponse::Blocks(b) if b.is_empty()));
        let by_hash = answer(
            &store,
            spec.network_id,
            &spec.limits,
            &SyncRequest::BlocksByHash(vec![spec.genesis_hash()]),
        );
        assert!(matches!(by_hash, SyncResponse::Blocks(b) if b.len() == 1));
        let proof = answer(
            &store,
            spec.network_id,
            &spec.limits,
            &SyncRequest::Proof(spec.genesis_hash()),
        );
        assert_eq!(proof, SyncResponse::Proof(None));
    }

    #[test]
    fn error_messages_are_bounded() {
        let r = error_response(ErrorCode::BadRequest, "x".repeat(10_000));
        assert!(matches!(r, SyncResponse::Error { message, .. } if message.len() <= 256));
    }
}
