//! Proptest strategies for chain values, shared by the property tests of every crate that
//! encodes them (`talos-chain`'s wire codec, `talos-sync`'s codec).

use ed25519_dalek::SigningKey;
use proptest::prelude::*;

use crate::item::{Anchor, AuditEvent, DidAnchor, Revocation};
use crate::merkle::MerkleProof;
use crate::wire::MAX_PROOF_PATH;
use crate::{
    Block, BlockHeader, ChainStatus, CompactTarget, Hash256, ItemKind, ItemProof, SignedItem,
    UnsignedItem, Work,
};

/// Any 32-byte hash.
pub fn hash() -> impl Strategy<Value = Hash256> {
    any::<[u8; 32]>().prop_map(Hash256)
}

/// Any work value (big-endian bytes of any length up to 32).
pub fn work() -> impl Strategy<Value = Work> {
    proptest::collection::vec(any::<u8>(), 0..=32)
        .prop_map(|bytes| Work::from_be_slice(&bytes).unwrap_or_default())
}

/// Any chain status.
pub fn status() -> impl Strategy<Value = ChainStatus> {
    (any::<u32>(), hash(), hash(), any::<u64>(), work()).prop_map(
        |(network_id, genesis_hash, tip_hash, tip_height, cumulative_work)| ChainStatus {
            network_id,
            genesis_hash,
            tip_hash,
            tip_height,
            cumulative_work,
        },
    )
}

/// Any header (fields unconstrained: valid encodings, mostly invalid blocks).
pub fn header() -> impl Strategy<Value = BlockHeader> {
    (
        (any::<u32>(), any::<u32>(), any::<u64>(), hash(), hash()),
        (
            hash(),
            any::<u32>(),
            any::<u64>(),
            any::<u32>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (version, network_id, height, prev_hash, merkle_root),
                (state_root, item_count, timestamp_ms, target, nonce),
            )| BlockHeader {
                version,
                network_id,
                height,
                prev_hash,
                merkle_root,
                state_root,
                item_count,
                timestamp_ms,
                target: CompactTarget(target),
                nonce,
            },
        )
}

/// Printable strings of up to `max` characters, including multi-byte UTF-8.
pub fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("\\PC{{0,{max}}}"))
        .unwrap_or_else(|e| panic!("text strategy: {e}"))
}

/// Any item kind, strings up to `max_text` characters.
pub fn kind(max_text: usize) -> impl Strategy<Value = ItemKind> {
    let t = move || text(max_text);
    prop_oneof![
        (hash(), t()).prop_map(|(content_hash, label)| ItemKind::Anchor(Anchor {
            content_hash,
            label
        })),
        (t(), t(), t(), hash()).prop_map(|(subject, action, outcome, details_hash)| {
            ItemKind::AuditEvent(AuditEvent {
                subject,
                action,
                outcome,
                details_hash,
            })
        }),
        (t(), hash())
            .prop_map(|(did, document_hash)| ItemKind::DidAnchor(DidAnchor { did, document_hash })),
        (hash(), t()).prop_map(|(capability_id, reason)| ItemKind::Revocation(Revocation {
            capability_id,
            reason
        })),
    ]
}

/// An item signed with a key from an arbitrary seed, with the network it was signed for.
pub fn signed_item(max_text: usize) -> impl Strategy<Value = (SignedItem, u32)> {
    (
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u64>(),
        kind(max_text),
        any::<u32>(),
    )
        .prop_map(|(seed, nonce, timestamp_ms, kind, network_id)| {
            let key = SigningKey::from_bytes(&seed);
            let item = UnsignedItem {
                author: key.verifying_key(),
                nonce,
                timestamp_ms,
                kind,
            }
            .sign(&key, network_id);
            (item, network_id)
        })
}

/// A signed item (see [`signed_item`]).
pub fn item(max_text: usize) -> impl Strategy<Value = SignedItem> {
    signed_item(max_text).prop_map(|(item, _)| item)
}

/// A block of up to `max_items - 1` items whose header commits to them (count and root).
pub fn block(max_items: usize, max_text: usize) -> impl Strategy<Value = Block> {
    (
        header(),
        proptest::collection::vec(item(max_text), 0..max_items),
    )
        .prop_map(|(header, items)| {
            let mut block = Block { header, items };
            block.header.item_count = u32::try_from(block.items.len()).unwrap_or(u32::MAX);
            block.header.merkle_root = block.compute_merkle_root();
            block
        })
}

/// An arbitrary, generally invalid, SPV proof (encodable; not verifiable).
pub fn any_item_proof(max_text: usize) -> impl Strategy<Value = ItemProof> {
    (
        item(max_text),
        header(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(hash(), 0..=MAX_PROOF_PATH),
    )
        .prop_map(|(item, header, leaf_index, tree_size, path)| ItemProof {
            item,
            header,
            proof: MerkleProof {
                leaf_index,
                tree_size,
                path,
            },
        })
}
