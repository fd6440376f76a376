//! The answering half of the sync protocol, sans-IO: what a node sends back for each request,
//! read from a [`ServeChain`] the node implements over its store.
//!
//! [`answer`] respects every cap the requester's decoder enforces (see [`crate::limits`]):
//! at most [`MAX_HEADERS_PER_RESPONSE`] headers and [`MAX_BLOCKS_PER_RESPONSE`] blocks, and
//! blocks are added in order only while the encoded response stays within
//! [`max_response_bytes`] (always at least the first block, which the cap is sized to carry).
//! The node decides where the reads run (off the swarm's task: they may touch the disk) and how
//! many at once; status requests are answered by the [`crate::SyncMachine`], which also checks
//! the peer's network. Every request, status included, is first charged to its peer's
//! [`RateLimiter`] bucket; one over quota is answered [`busy`] and costs the peer.

mod quota;
mod state;
#[cfg(test)]
mod state_tests;
#[cfg(test)]
mod tests;

pub use quota::{Quota, QuotaExceeded, QuotaKind, Quotas, RateLimiter};
pub use state::{StateServeError, prove_state};

use talos_chain::chain_state::StateAnswer;
use talos_chain::wire::MAX_HEADER_WIRE_BYTES;
use talos_chain::{Block, BlockHeader, ChainStatus, Hash256, ItemProof, Limits};

use crate::limits::{
    MAX_BLOCKS_PER_RESPONSE, MAX_ERROR_MESSAGE_BYTES, MAX_HEADERS_PER_RESPONSE,
    RESPONSE_FRAMING_BYTES, max_response_bytes,
};
use crate::messages::{ErrorCode, SyncRequest, SyncResponse};

/// Longest message this crate puts in an error response.
const ERROR_MESSAGE_BYTES: usize = if MAX_ERROR_MESSAGE_BYTES < 256 {
    MAX_ERROR_MESSAGE_BYTES
} else {
    256
};

/// What answering requests reads from the local chain. The node implements it over its store;
/// every read may fail (then the peer gets an `internal` error, and the node logs the cause).
pub trait ServeChain {
    /// Why a read failed.
    type Error;
    /// The local best tip as a status.
    fn status(&self) -> Result<ChainStatus, Self::Error>;
    /// Up to `max` best-chain headers from height `start`, in height order.
    fn best_headers(&self, start: u64, max: usize) -> Result<Vec<BlockHeader>, Self::Error>;
    /// The best chain's block at `height`.
    fn best_block_at(&self, height: u64) -> Result<Option<Block>, Self::Error>;
    /// A stored block by id, on any chain.
    fn block(&self, id: &Hash256) -> Result<Option<Block>, Self::Error>;
    /// The SPV proof of a best-chain item.
    fn item_proof(&self, id: &Hash256) -> Result<Option<ItemProof>, Self::Error>;
    /// The proof of state key `key` under the state root of the stored block `block` (any
    /// branch), with the key's record when it is present; `None` when the block is unknown.
    /// An honest answer verifies ([`StateAnswer::verify`]) against that block's header;
    /// [`prove_state`] builds one from a node source and a record lookup.
    fn state_proof(
        &self,
        block: &Hash256,
        key: &Hash256,
    ) -> Result<Option<StateAnswer>, Self::Error>;
}

/// An error response with a message cut to a bounded length (at a character boundary).
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> SyncResponse {
    let mut message = message.into();
    if message.len() > ERROR_MESSAGE_BYTES {
        let mut end = ERROR_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    SyncResponse::Error { code, message }
}

/// Upper bound of a block's size inside a `Blocks` response: the same bound the requester's
/// per-block cap uses, plus the list element's key and length.
fn block_wire_bound(block: &Block) -> usize {
    block.encoded_len() + block.items.len() * 32 + MAX_HEADER_WIRE_BYTES + 16
}

/// Blocks in order while they fit `budget` bytes (the first one always goes).
fn take_within_budget<C: ServeChain>(
    budget: usize,
    mut next: impl FnMut() -> Result<Option<Option<Block>>, C::Error>,
) -> Result<Vec<Block>, C::Error> {
    let mut blocks = Vec::new();
    let mut bytes = 0usize;
    // `next` yields `None` at the end, `Some(None)` for a hole to skip.
    while let Some(found) = next()? {
        let Some(block) = found else {
            continue;
        };
        bytes = bytes.saturating_add(block_wire_bound(&block));
        if bytes > budget && !blocks.is_empty() {
            break;
        }
        blocks.push(block);
    }
    Ok(blocks)
}

/// The answer to `request` from `chain` on a network with these limits. A failed read is
/// returned as such: the caller logs it and answers [`internal_error`].
pub fn answer<C: ServeChain>(
    chain: &C,
    limits: &Limits,
    request: &SyncRequest,
) -> Result<SyncResponse, C::Error> {
    let budget = max_response_bytes(limits).saturating_sub(RESPONSE_FRAMING_BYTES);
    Ok(match request {
        SyncRequest::Status(_) => SyncResponse::Status(chain.status()?),
        SyncRequest::HeadersByRange {
            start_height,
            count,
        } => {
            let max = (*count).min(MAX_HEADERS_PER_RESPONSE) as usize;
            SyncResponse::Headers(chain.best_headers(*start_height, max)?)
        }
        SyncRequest::BlocksByRange {
            start_height,
            count,
        } => {
            let max = u64::from((*count).min(MAX_BLOCKS_PER_RESPONSE));
            let mut heights = (*start_height..=u64::MAX).take(max as usize);
            SyncResponse::Blocks(take_within_budget::<C>(budget, || {
                match heights.next() {
                    // A height past the tip ends the range.
                    Some(h) => Ok(chain.best_block_at(h)?.map(Some)),
                    None => Ok(None),
                }
            })?)
        }
        SyncRequest::BlocksByHash(ids) => {
            let mut ids = ids.iter().take(MAX_BLOCKS_PER_RESPONSE as usize);
            SyncResponse::Blocks(take_within_budget::<C>(budget, || match ids.next() {
                // An unknown id is skipped.
                Some(id) => Ok(Some(chain.block(id)?)),
                None => Ok(None),
            })?)
        }
        SyncRequest::Proof(id) => SyncResponse::Proof(chain.item_proof(id)?.map(Box::new)),
        // At most `MAX_PROOF_DEPTH` siblings: far below every response cap.
        SyncRequest::StateProof { block, key } => {
            SyncResponse::StateProof(chain.state_proof(block, key)?.map(Box::new))
        }
    })
}

/// The answer when the chain could not be read.
pub fn internal_error() -> SyncResponse {
    error_response(ErrorCode::Internal, "storage error")
}

/// The answer when the node is answering as many requests as it allows.
pub fn busy() -> SyncResponse {
    error_response(ErrorCode::Busy, "try again later")
}
