//! Encode/decode of gossip payloads.
//!
//! A block message's data is the block's protobuf encoding
//! ([`talos_chain::wire::encode_block`]); an item message's data is the signed item's
//! ([`talos_chain::wire::encode_item`]). Decoding uses the chain crate's bounded decoders with
//! the network's limits: the byte length is checked first, then the item count (a pre-scan),
//! then prost, then every field. Nothing is validated beyond the encoding here; validation is
//! the chain service's job.

use talos_chain::wire::{self, DecodeError, max_block_wire_bytes, max_item_wire_bytes};
use talos_chain::{Block, Limits, SignedItem};

use crate::topics::TopicKind;

/// What gossipsub's `max_transmit_size` allows on top of the largest payload: the RPC
/// envelope (signature, public key, source, sequence number, topic, framing). Generous, so a
/// maximum-size block is never refused by the transport.
pub const TRANSMIT_HEADROOM_BYTES: usize = 8 * 1024;

/// Why a gossip message's data is not a valid payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GossipDecodeError {
    /// The data is not a valid block or item encoding (or is over the network's caps).
    #[error("bad {kind} payload: {source}")]
    Wire {
        /// The topic kind the data arrived on.
        kind: TopicKind,
        /// The decoder's reason.
        source: DecodeError,
    },
}

impl GossipDecodeError {
    /// Stable error code: the chain decoder's code (`too_large`, `protobuf`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Wire { source, .. } => source.code(),
        }
    }
}

/// A decoded gossip payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GossipPayload {
    /// A block from the blocks topic.
    Block(Block),
    /// A signed item from the items topic (signature not yet verified). Boxed: an item is
    /// several times larger than a block's inline part.
    Item(Box<SignedItem>),
}

/// The data of a block message.
pub fn encode_block(block: &Block) -> Vec<u8> {
    wire::encode_block(block)
}

/// The data of an item message.
pub fn encode_item(item: &SignedItem) -> Vec<u8> {
    wire::encode_item(item)
}

/// Decodes the data of a block message, bounded by `limits`.
pub fn decode_block(data: &[u8], limits: &Limits) -> Result<Block, GossipDecodeError> {
    wire::decode_block(data, limits).map_err(|source| GossipDecodeError::Wire {
        kind: TopicKind::Blocks,
        source,
    })
}

/// Decodes the data of an item message, bounded by `limits`.
pub fn decode_item(data: &[u8], limits: &Limits) -> Result<SignedItem, GossipDecodeError> {
    wire::decode_item(data, limits).map_err(|source| GossipDecodeError::Wire {
        kind: TopicKind::Items,
        source,
    })
}

/// Decodes the data of a message that arrived on a topic of `kind`.
pub fn decode_payload(
    kind: TopicKind,
    data: &[u8],
    limits: &Limits,
) -> Result<GossipPayload, GossipDecodeError> {
    match kind {
        TopicKind::Blocks => decode_block(data, limits).map(GossipPayload::Block),
        TopicKind::Items => decode_item(data, limits).map(|i| GossipPayload::Item(Box::new(i))),
    }
}

/// The `max_transmit_size` gossipsub needs on a network with these limits: the largest block
/// (or item) encoding plus [`TRANSMIT_HEADROOM_BYTES`].
pub fn max_transmit_size(limits: &Limits) -> usize {
    max_block_wire_bytes(limits)
        .max(max_item_wire_bytes(limits))
        .saturating_add(TRANSMIT_HEADROOM_BYTES)
}

#[cfg(test)]
mod tests {
    use talos_chain::NetworkSpec;
    use talos_chain::testkit::{key, labelled_item};

    use super::*;

    fn item(spec: &NetworkSpec, nonce: u64, label: String) -> SignedItem {
        labelled_item(spec, &key(7), nonce, &label)
    }

    #[test]
    fn block_round_trips() {
        let spec = NetworkSpec::local();
        let mut block = spec.genesis();
        block.items.push(item(&spec, 1, "hello".into()));
        let data = encode_block(&block);
        assert_eq!(decode_block(&data, &spec.limits), Ok(block.clone()));
        assert_eq!(
            decode_payload(TopicKind::Blocks, &data, &spec.limits),
            Ok(GossipPayload::Block(block))
        );
    }

    #[test]
    fn item_round_trips() {
        let spec = NetworkSpec::local();
        let it = item(&spec, 3, "x".into());
        let data = encode_item(&it);
        assert_eq!(decode_item(&data, &spec.limits), Ok(it.clone()));
        assert_eq!(
            decode_payload(TopicKind::Items, &data, &spec.limits),
            Ok(GossipPayload::Item(Box::new(it)))
        );
    }

    #[test]
    fn junk_and_oversized_data_are_refused() {
        let spec = NetworkSpec::local();
        let junk = [0xffu8; 40];
        let e = decode_block(&junk, &spec.limits).unwrap_err();
        assert!(matches!(
            e,
            GossipDecodeError::Wire {
                kind: TopicKind::Blocks,
                ..
            }
        ));
        assert!(decode_item(&junk, &spec.limits).is_err());

        let huge = vec![0u8; max_block_wire_bytes(&spec.limits) + 1];
        assert_eq!(
            decode_block(&huge, &spec.limits).unwrap_err().code(),
            "too_large"
        );
        let huge_item = vec![0u8; max_item_wire_bytes(&spec.limits) + 1];
        assert_eq!(
            decode_item(&huge_item, &spec.limits).unwrap_err().code(),
            "too_large"
        );
    }

    #[test]
    fn an_item_over_the_item_limit_is_refused() {
        let mut spec = NetworkSpec::local();
        spec.limits.max_item_bytes = 200;
        let it = item(&spec, 1, "y".repeat(300));
        let e = decode_item(&encode_item(&it), &spec.limits).unwrap_err();
        assert!(matches!(e.code(), "too_large" | "item_too_large"));
    }

    #[test]
    fn a_block_payload_on_the_items_topic_is_refused() {
        let spec = NetworkSpec::local();
        let data = encode_block(&spec.genesis());
        assert!(decode_payload(TopicKind::Items, &data, &spec.limits).is_err());
    }

    #[test]
    fn transmit_size_holds_the_largest_block_with_headroom() {
        let limits = NetworkSpec::local().limits;
        let max = max_transmit_size(&limits);
        assert!(max >= max_block_wire_bytes(&limits) + TRANSMIT_HEADROOM_BYTES);
        assert!(max >= max_item_wire_bytes(&limits) + TRANSMIT_HEADROOM_BYTES);
    }
}
