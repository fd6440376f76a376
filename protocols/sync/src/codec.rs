//! The bounded protobuf codec of the sync protocol.
//!
//! Decoding bytes from a peer checks, in this order:
//!
//! 1. the byte length against [`MAX_REQUEST_BYTES`] or [`max_response_bytes`];
//! 2. a pre-scan ([`talos_chain::wire::scan::for_each_field`]) that counts the repeated fields
//!    at every level, summed over repeated occurrences of the enclosing message (which prost
//!    merges), and the size of each nested element, without allocating: hashes per
//!    `BlocksByHash`, headers and blocks per response, items per block and per response, proof
//!    path hashes, state proof siblings (each exactly 32 bytes) and the size of a state answer's
//!    leaf and record;
//! 3. prost decoding;
//! 4. each embedded chain message (carried as `bytes`, see `sync.proto`) through the chain
//!    crate's bounded decoders ([`talos_chain::wire`]: field lengths, item kinds, author keys,
//!    item sizes), plus the sync rules: a `oneof kind` must be set, counts are in `1..=cap`,
//!    ranges do not overflow, hashes are 32 bytes, a state proof has at most
//!    [`talos_chain::state::MAX_PROOF_DEPTH`] siblings and its record decodes
//!    ([`talos_chain::chain_state::StateRecord::decode`]).
//!
//! Nothing here panics on any input. Encoding is infallible.

use prost::Message;
use talos_chain::wire::scan::for_each_field;
use talos_chain::wire::{
    self, DecodeError, MAX_HEADER_WIRE_BYTES, MAX_PROOF_PATH, MAX_STATUS_WIRE_BYTES,
    max_block_wire_bytes, max_item_wire_bytes, max_proof_wire_bytes,
};
use talos_chain::{Hash256, Limits};
use talos_proto::sync as pb;

use crate::error::SyncDecodeError;
use crate::limits::{
    MAX_BLOCKS_PER_RESPONSE, MAX_ERROR_CODE_BYTES, MAX_ERROR_MESSAGE_BYTES, MAX_HASHES_PER_REQUEST,
    MAX_HEADERS_PER_RESPONSE, MAX_REQUEST_BYTES, max_items_per_response, max_response_bytes,
};
use crate::messages::{ErrorCode, SyncRequest, SyncResponse};

mod state_proof;

/// Field numbers of `sync.proto`, for the pre-scan.
mod field {
    /// `SyncRequest.blocks_by_hash`.
    pub(super) const REQUEST_BLOCKS_BY_HASH: u32 = 4;
    /// `BlocksByHash.hashes`.
    pub(super) const HASHES: u32 = 1;
    /// `SyncResponse.status`.
    pub(super) const RESPONSE_STATUS: u32 = 1;
    /// `SyncResponse.headers`.
    pub(super) const RESPONSE_HEADERS: u32 = 2;
    /// `SyncResponse.blocks`.
    pub(super) const RESPONSE_BLOCKS: u32 = 3;
    /// `SyncResponse.proof`.
    pub(super) const RESPONSE_PROOF: u32 = 4;
    /// `SyncResponse.error`.
    pub(super) const RESPONSE_ERROR: u32 = 5;
    /// `SyncResponse.state_proof`.
    pub(super) const RESPONSE_STATE_PROOF: u32 = 6;
    /// `Headers.headers`, `Blocks.blocks`, `ProofResponse.proof`.
    pub(super) const LIST: u32 = 1;
    /// `talos.chain.v1.Block.items`.
    pub(super) const BLOCK_ITEMS: u32 = 2;
    /// `talos.chain.v1.ItemProof.proof`.
    pub(super) const ITEM_PROOF_PROOF: u32 = 3;
    /// `talos.chain.v1.MerkleProof.path`.
    pub(super) const MERKLE_PATH: u32 = 3;
}

/// Protobuf framing allowed around the two strings of a `SyncError`.
const ERROR_WIRE_OVERHEAD: usize = 32;

/// Encodes a request.
pub fn encode_request(request: &SyncRequest) -> Vec<u8> {
    use pb::sync_request::Kind;
    let kind = match request {
        SyncRequest::Status(status) => Kind::Status(pb::StatusRequest {
            status: wire::encode_status(status),
        }),
        SyncRequest::HeadersByRange {
            start_height,
            count,
        } => Kind::HeadersByRange(pb::HeadersByRange {
            start_height: *start_height,
            count: *count,
        }),
        SyncRequest::BlocksByRange {
            start_height,
            count,
        } => Kind::BlocksByRange(pb::BlocksByRange {
            start_height: *start_height,
            count: *count,
        }),
        SyncRequest::BlocksByHash(hashes) => Kind::BlocksByHash(pb::BlocksByHash {
            hashes: hashes.iter().map(|h| h.0.to_vec()).collect(),
        }),
        SyncRequest::Proof(item_id) => Kind::Proof(pb::ProofRequest {
            item_id: item_id.0.to_vec(),
        }),
        SyncRequest::StateProof { block, key } => Kind::StateProof(pb::StateProofRequest {
            block: block.0.to_vec(),
            key: key.0.to_vec(),
        }),
    };
    pb::SyncRequest { kind: Some(kind) }.encode_to_vec()
}

/// Decodes a request from a peer.
pub fn decode_request(bytes: &[u8]) -> Result<SyncRequest, SyncDecodeError> {
    check_len("sync request", bytes, MAX_REQUEST_BYTES)?;
    scan_request(bytes)?;
    request_from_wire(pb::SyncRequest::decode(bytes)?)
}

/// Encodes a response.
pub fn encode_response(response: &SyncResponse) -> Vec<u8> {
    use pb::sync_response::Kind;
    let kind = match response {
        SyncResponse::Status(status) => Kind::Status(wire::encode_status(status)),
        SyncResponse::Headers(headers) => Kind::Headers(pb::Headers {
            headers: headers.iter().map(wire::encode_header).collect(),
        }),
        SyncResponse::Blocks(blocks) => Kind::Blocks(pb::Blocks {
            blocks: blocks.iter().map(wire::encode_block).collect(),
        }),
        SyncResponse::Proof(proof) => Kind::Proof(pb::ProofResponse {
            proof: proof.as_deref().map(wire::encode_item_proof),
        }),
        SyncResponse::StateProof(answer) => Kind::StateProof(pb::StateProofResponse {
            answer: answer.as_deref().map(state_proof::encode_answer),
        }),
        SyncResponse::Error { code, message } => Kind::Error(pb::SyncError {
            code: code.as_str().to_owned(),
            message: message.clone(),
        }),
    };
    pb::SyncResponse { kind: Some(kind) }.encode_to_vec()
}

/// Decodes a response from a peer on a network with these limits.
pub fn decode_response(bytes: &[u8], limits: &Limits) -> Result<SyncResponse, SyncDecodeError> {
    check_len("sync response", bytes, max_response_bytes(limits))?;
    scan_response(bytes, limits)?;
    response_from_wire(pb::SyncResponse::decode(bytes)?, limits)
}

fn check_len(what: &'static str, bytes: &[u8], limit: usize) -> Result<(), DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge {
            what,
            limit,
            actual: bytes.len(),
        });
    }
    Ok(())
}

/// Counts elements over every occurrence of their enclosing messages.
struct Counter {
    count: usize,
    max: usize,
    what: &'static str,
}

impl Counter {
    fn new(max: usize, what: &'static str) -> Self {
        Self {
            count: 0,
            max,
            what,
        }
    }

    fn add(&mut self) -> Result<(), DecodeError> {
        self.count += 1;
        if self.count > self.max {
            return Err(DecodeError::TooMany {
                what: self.what,
                max: self.max,
            });
        }
        Ok(())
    }
}

/// Visits every occurrence of a length-delimited field, without a cap on occurrences (callers
/// cap what the occurrences contain).
fn each<'a>(
    buf: &'a [u8],
    field: u32,
    visit: impl FnMut(&'a [u8]) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    for_each_field(buf, field, usize::MAX, "fields", visit).map(drop)
}

fn scan_request(bytes: &[u8]) -> Result<(), DecodeError> {
    let mut hashes = Counter::new(MAX_HASHES_PER_REQUEST, "hashes in a request");
    each(bytes, field::REQUEST_BLOCKS_BY_HASH, |by_hash| {
        each(by_hash, field::HASHES, |_| hashes.add())
    })
}

fn scan_response(bytes: &[u8], limits: &Limits) -> Result<(), DecodeError> {
    let mut headers = Counter::new(MAX_HEADERS_PER_RESPONSE as usize, "headers in a response");
    each(bytes, field::RESPONSE_HEADERS, |list| {
        each(list, field::LIST, |header| {
            headers.add()?;
            check_len("header in a response", header, MAX_HEADER_WIRE_BYTES)
        })
    })?;

    let mut blocks = Counter::new(MAX_BLOCKS_PER_RESPONSE as usize, "blocks in a response");
    let mut items = Counter::new(max_items_per_response(limits), "items in a response");
    let (max_block, max_item) = (max_block_wire_bytes(limits), max_item_wire_bytes(limits));
    let per_block = limits.max_items_per_block as usize;
    each(bytes, field::RESPONSE_BLOCKS, |list| {
        each(list, field::LIST, |block| {
            blocks.add()?;
            check_len("block in a response", block, max_block)?;
            for_each_field(
                block,
                field::BLOCK_ITEMS,
                per_block,
                "items in a block",
                |item| {
                    items.add()?;
                    check_len("item in a response", item, max_item)
                },
            )
            .map(drop)
        })
    })?;

    let mut path = Counter::new(MAX_PROOF_PATH, "proof path hashes");
    let max_proof = max_proof_wire_bytes(limits);
    each(bytes, field::RESPONSE_PROOF, |response| {
        each(response, field::LIST, |proof| {
            check_len("item proof in a response", proof, max_proof)?;
            each(proof, field::ITEM_PROOF_PROOF, |merkle| {
                each(merkle, field::MERKLE_PATH, |_| path.add())
            })
        })
    })?;

    state_proof::scan(bytes)?;

    each(bytes, field::RESPONSE_STATUS, |status| {
        check_len("status in a response", status, MAX_STATUS_WIRE_BYTES)
    })?;
    let max_error = MAX_ERROR_CODE_BYTES + MAX_ERROR_MESSAGE_BYTES + ERROR_WIRE_OVERHEAD;
    each(bytes, field::RESPONSE_ERROR, |error| {
        check_len("sync error", error, max_error)
    })
}

fn hash(field: &'static str, bytes: &[u8]) -> Result<Hash256, DecodeError> {
    Hash256::from_slice(bytes).ok_or(DecodeError::BadLength {
        field,
        expected: 32,
        actual: bytes.len(),
    })
}

/// Checks a range request's count is in `1..=max` and its end fits in a `u64`.
fn check_range(
    what: &'static str,
    start_height: u64,
    count: u32,
    max: u32,
) -> Result<(), SyncDecodeError> {
    if count == 0 {
        return Err(SyncDecodeError::ZeroCount(what));
    }
    if count > max {
        return Err(SyncDecodeError::CountOverCap {
            what,
            count: count.into(),
            max: max.into(),
        });
    }
    if start_height.checked_add(count.into()).is_none() {
        return Err(SyncDecodeError::RangeOverflow {
            start_height,
            count,
        });
    }
    Ok(())
}

fn request_from_wire(request: pb::SyncRequest) -> Result<SyncRequest, SyncDecodeError> {
    use pb::sync_request::Kind;
    let kind = request
        .kind
        .ok_or(SyncDecodeError::MissingKind("sync request"))?;
    Ok(match kind {
        Kind::Status(s) => {
            if s.status.is_empty() {
                return Err(DecodeError::Missing("status_request.status").into());
            }
            SyncRequest::Status(wire::decode_status(&s.status)?)
        }
        Kind::HeadersByRange(r) => {
            check_range(
                "headers_by_range.count",
                r.start_height,
                r.count,
                MAX_HEADERS_PER_RESPONSE,
            )?;
            SyncRequest::HeadersByRange {
                start_height: r.start_height,
                count: r.count,
            }
        }
        Kind::BlocksByRange(r) => {
            check_range(
                "blocks_by_range.count",
                r.start_height,
                r.count,
                MAX_BLOCKS_PER_RESPONSE,
            )?;
            SyncRequest::BlocksByRange {
                start_height: r.start_height,
                count: r.count,
            }
        }
        Kind::BlocksByHash(b) => {
            if b.hashes.is_empty() {
                return Err(SyncDecodeError::ZeroCount("blocks_by_hash.hashes"));
            }
            if b.hashes.len() > MAX_HASHES_PER_REQUEST {
                return Err(SyncDecodeError::CountOverCap {
                    what: "blocks_by_hash.hashes",
                    count: b.hashes.len() as u64,
                    max: MAX_HASHES_PER_REQUEST as u64,
                });
            }
            SyncRequest::BlocksByHash(
                b.hashes
                    .iter()
                    .map(|h| hash("blocks_by_hash.hashes", h))
                    .collect::<Result<_, _>>()?,
            )
        }
        Kind::Proof(p) => SyncRequest::Proof(hash("proof_request.item_id", &p.item_id)?),
        Kind::StateProof(r) => SyncRequest::StateProof {
            block: hash("state_proof_request.block", &r.block)?,
            key: hash("state_proof_request.key", &r.key)?,
        },
    })
}

fn response_from_wire(
    response: pb::SyncResponse,
    limits: &Limits,
) -> Result<SyncResponse, SyncDecodeError> {
    use pb::sync_response::Kind;
    let kind = response
        .kind
        .ok_or(SyncDecodeError::MissingKind("sync response"))?;
    Ok(match kind {
        Kind::Status(status) => SyncResponse::Status(wire::decode_status(&status)?),
        Kind::Headers(list) => {
            // Also enforced by the pre-scan; kept so this conversion is safe on its own.
            if list.headers.len() > MAX_HEADERS_PER_RESPONSE as usize {
                return Err(DecodeError::TooMany {
                    what: "headers in a response",
                    max: MAX_HEADERS_PER_RESPONSE as usize,
                }
                .into());
            }
            SyncResponse::Headers(
                list.headers
                    .iter()
                    .map(|h| wire::decode_header(h))
                    .collect::<Result<_, _>>()?,
            )
        }
        Kind::Blocks(list) => {
            if list.blocks.len() > MAX_BLOCKS_PER_RESPONSE as usize {
                return Err(DecodeError::TooMany {
                    what: "blocks in a response",
                    max: MAX_BLOCKS_PER_RESPONSE as usize,
                }
                .into());
            }
            SyncResponse::Blocks(
                list.blocks
                    .iter()
                    .map(|b| wire::decode_block(b, limits))
                    .collect::<Result<_, _>>()?,
            )
        }
        Kind::Proof(p) => SyncResponse::Proof(
            p.proof
                .map(|p| wire::decode_item_proof(&p, limits).map(Box::new))
                .transpose()?,
        ),
        Kind::StateProof(p) => SyncResponse::StateProof(
            p.answer
                .map(|a| state_proof::answer_from_wire(a).map(Box::new))
                .transpose()?,
        ),
        Kind::Error(e) => {
            if e.code.is_empty() {
                return Err(DecodeError::Missing("sync_error.code").into());
            }
            check_len("sync error code", e.code.as_bytes(), MAX_ERROR_CODE_BYTES)?;
            check_len(
                "sync error message",
                e.message.as_bytes(),
                MAX_ERROR_MESSAGE_BYTES,
            )?;
            SyncResponse::Error {
                code: ErrorCode::from_wire(&e.code),
                message: e.message,
            }
        }
    })
}

#[cfg(test)]
mod tests;
