//! Protobuf wire encoding of chain types, and the bounded decoders for bytes from the network
//! or from disk.
//!
//! Every decoder checks, in this order: the byte length against a cap derived from the
//! network's limits, the count of repeated elements (a pre-scan, no allocation), the protobuf
//! framing (prost), every field's length and range (`TryFrom`), and finally item sizes. Nothing
//! here panics on any input.

mod convert;
pub mod scan;

pub use convert::MAX_PROOF_PATH;

use convert::{FromWire, ToWire};

use prost::Message;
use talos_proto::chain as pb;

use crate::block::Block;
use crate::header::BlockHeader;
use crate::item::SignedItem;
use crate::spec::Limits;
use crate::spv::ItemProof;
use crate::status::ChainStatus;

/// Largest encoded header (the real size is under 130 bytes).
pub const MAX_HEADER_WIRE_BYTES: usize = 256;
/// Protobuf framing allowed on top of an item's canonical size.
pub const ITEM_WIRE_OVERHEAD: usize = 256;
/// Largest encoded network status.
pub const MAX_STATUS_WIRE_BYTES: usize = 256;

/// Why bytes are not a valid encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// More bytes than the cap for this message.
    #[error("{what} is {actual} bytes, over the limit of {limit}")]
    TooLarge {
        /// Which message.
        what: &'static str,
        /// The cap.
        limit: usize,
        /// The size seen.
        actual: usize,
    },
    /// More repeated elements than allowed.
    #[error("more than {max} {what}")]
    TooMany {
        /// Which elements.
        what: &'static str,
        /// The cap.
        max: usize,
    },
    /// Broken protobuf framing found by the pre-scan.
    #[error("malformed protobuf: {0}")]
    Malformed(&'static str),
    /// prost could not decode the message.
    #[error("protobuf decode failed: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// A required field is absent.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A fixed-size field has the wrong length.
    #[error("{field} is {actual} bytes, expected {expected}")]
    BadLength {
        /// Field name.
        field: &'static str,
        /// Expected length.
        expected: usize,
        /// Length seen.
        actual: usize,
    },
    /// The item has no kind this version knows.
    #[error("unknown or missing item kind")]
    UnknownItemKind,
    /// The author key is not a valid Ed25519 point.
    #[error("author key is not a valid Ed25519 public key")]
    BadAuthorKey,
    /// The author key is a small-order (weak) point.
    #[error("author key is a weak Ed25519 key")]
    WeakAuthorKey,
    /// An item's canonical size is over the network's item limit.
    #[error("item is {size} bytes, over the limit of {limit}")]
    ItemTooLarge {
        /// Canonical size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl DecodeError {
    /// Stable error code (metrics label, API error code).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::TooMany { .. } => "too_many",
            Self::Malformed(_) => "malformed",
            Self::Protobuf(_) => "protobuf",
            Self::Missing(_) => "missing_field",
            Self::BadLength { .. } => "bad_length",
            Self::UnknownItemKind => "unknown_item_kind",
            Self::BadAuthorKey => "bad_author_key",
            Self::WeakAuthorKey => "weak_author_key",
            Self::ItemTooLarge { .. } => "item_too_large",
        }
    }
}

/// Cap on an encoded item for these limits.
pub fn max_item_wire_bytes(limits: &Limits) -> usize {
    limits.max_item_bytes + ITEM_WIRE_OVERHEAD
}

/// Cap on an encoded block for these limits: the canonical cap plus protobuf framing per item.
pub fn max_block_wire_bytes(limits: &Limits) -> usize {
    limits.max_block_bytes + limits.max_items_per_block as usize * 32 + MAX_HEADER_WIRE_BYTES
}

/// Cap on an encoded SPV proof for these limits.
pub fn max_proof_wire_bytes(limits: &Limits) -> usize {
    max_item_wire_bytes(limits) + MAX_HEADER_WIRE_BYTES + MAX_PROOF_PATH * 40 + 64
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

fn check_item_size(item: &SignedItem, limits: &Limits) -> Result<(), DecodeError> {
    if item.encoded_len() > limits.max_item_bytes {
        return Err(DecodeError::ItemTooLarge {
            size: item.encoded_len(),
            limit: limits.max_item_bytes,
        });
    }
    Ok(())
}

/// Pre-scans an encoded block: at most `max_items_per_block` items, sound framing.
pub fn scan_block(bytes: &[u8], limits: &Limits) -> Result<(), DecodeError> {
    scan::for_each_field(
        bytes,
        2,
        limits.max_items_per_block as usize,
        "items in a block",
        |_| Ok(()),
    )
    .map(drop)
}

/// Converts a decoded wire block, applying the item limits.
fn block_from_wire(block: pb::Block, limits: &Limits) -> Result<Block, DecodeError> {
    if block.items.len() > limits.max_items_per_block as usize {
        return Err(DecodeError::TooMany {
            what: "items in a block",
            max: limits.max_items_per_block as usize,
        });
    }
    let block = Block::from_wire(block)?;
    block
        .items
        .iter()
        .try_for_each(|i| check_item_size(i, limits))?;
    Ok(block)
}

/// Encodes a header.
pub fn encode_header(header: &BlockHeader) -> Vec<u8> {
    header.to_wire().encode_to_vec()
}

/// Decodes a header.
pub fn decode_header(bytes: &[u8]) -> Result<BlockHeader, DecodeError> {
    check_len("header", bytes, MAX_HEADER_WIRE_BYTES)?;
    BlockHeader::from_wire(pb::BlockHeader::decode(bytes)?)
}

/// Encodes a signed item.
pub fn encode_item(item: &SignedItem) -> Vec<u8> {
    item.to_wire().encode_to_vec()
}

/// Decodes a signed item (signature not verified).
pub fn decode_item(bytes: &[u8], limits: &Limits) -> Result<SignedItem, DecodeError> {
    check_len("item", bytes, max_item_wire_bytes(limits))?;
    let item = SignedItem::from_wire(pb::SignedItem::decode(bytes)?)?;
    check_item_size(&item, limits)?;
    Ok(item)
}

/// Encodes a block.
pub fn encode_block(block: &Block) -> Vec<u8> {
    block.to_wire().encode_to_vec()
}

/// Decodes a block (nothing validated beyond the encoding and size limits).
pub fn decode_block(bytes: &[u8], limits: &Limits) -> Result<Block, DecodeError> {
    check_len("block", bytes, max_block_wire_bytes(limits))?;
    scan_block(bytes, limits)?;
    block_from_wire(pb::Block::decode(bytes)?, limits)
}

/// Encodes an SPV proof.
pub fn encode_item_proof(proof: &ItemProof) -> Vec<u8> {
    proof.to_wire().encode_to_vec()
}

/// Decodes an SPV proof (not verified).
pub fn decode_item_proof(bytes: &[u8], limits: &Limits) -> Result<ItemProof, DecodeError> {
    check_len("item proof", bytes, max_proof_wire_bytes(limits))?;
    // Field 3 is the Merkle proof; its field 3 is the path.
    scan::for_each_field(bytes, 3, 1, "merkle proofs", |proof| {
        scan::for_each_field(proof, 3, MAX_PROOF_PATH, "proof path hashes", |_| Ok(())).map(drop)
    })?;
    let proof = ItemProof::from_wire(pb::ItemProof::decode(bytes)?)?;
    check_item_size(&proof.item, limits)?;
    Ok(proof)
}

/// Encodes a chain status.
pub fn encode_status(status: &ChainStatus) -> Vec<u8> {
    status.to_wire().encode_to_vec()
}

/// Decodes a chain status.
pub fn decode_status(bytes: &[u8]) -> Result<ChainStatus, DecodeError> {
    check_len("status", bytes, MAX_STATUS_WIRE_BYTES)?;
    ChainStatus::from_wire(pb::NetworkStatus::decode(bytes)?)
}

#[cfg(test)]
mod tests;
