//! Shared helpers of the Talos fuzz targets and the seed generator.

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use talos_chain::item::{Anchor, AuditEvent, DidAnchor, Revocation};
use talos_chain::{
    Block, ChainStatus, Hash256, ItemKind, ItemProof, Limits, NetworkSpec, SignedItem,
    UnsignedItem, Work,
};

/// The `local` network's spec, parsed once.
pub fn spec() -> &'static NetworkSpec {
    static SPEC: OnceLock<NetworkSpec> = OnceLock::new();
    SPEC.get_or_init(NetworkSpec::local)
}

/// The limits every target decodes with: the `local` network's.
pub fn limits() -> &'static Limits {
    &spec().limits
}

/// `n` items signed on the local network, cycling through the four kinds.
pub fn items(n: u64) -> Vec<SignedItem> {
    let key = SigningKey::from_bytes(&[0x5a; 32]);
    (0..n)
        .map(|nonce| {
            let kind = match nonce % 4 {
                0 => ItemKind::Anchor(Anchor {
                    content_hash: Hash256::sha256(b"content"),
                    label: "greeting".into(),
                }),
                1 => ItemKind::AuditEvent(AuditEvent {
                    subject: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into(),
                    action: "tool.call".into(),
                    outcome: "ok".into(),
                    details_hash: Hash256::sha256(b"details"),
                }),
                2 => ItemKind::DidAnchor(DidAnchor {
                    did: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK".into(),
                    document_hash: Hash256::sha256(b"document"),
                }),
                _ => ItemKind::Revocation(Revocation {
                    capability_id: Hash256::sha256(b"capability"),
                    reason: "key leaked".into(),
                }),
            };
            UnsignedItem {
                author: key.verifying_key(),
                nonce,
                timestamp_ms: spec().genesis_timestamp_ms + 1_000 * nonce,
                kind,
            }
            .sign(&key, spec().network_id)
        })
        .collect()
}

/// A block at `height` on top of genesis carrying `n` items, with a consistent header.
pub fn block(height: u64, n: u64) -> Block {
    let mut block = spec().genesis();
    block.header.height = height;
    block.header.prev_hash = spec().genesis_hash();
    block.header.timestamp_ms = block
        .header
        .timestamp_ms
        .saturating_add(height.saturating_mul(1_000));
    block.items = items(n);
    block.header.item_count = u32::try_from(n).unwrap_or(u32::MAX);
    block.header.merkle_root = block.compute_merkle_root();
    block
}

/// The SPV proof of item `index` of `block`, if it has one.
pub fn item_proof(block: &Block, index: usize) -> Option<ItemProof> {
    Some(ItemProof {
        item: block.items.get(index)?.clone(),
        header: block.header,
        proof: block.item_proof(index)?,
    })
}

/// A status of the local network with its tip at `block`.
pub fn status(block: &Block, work: u64) -> ChainStatus {
    ChainStatus {
        network_id: spec().network_id,
        genesis_hash: spec().genesis_hash(),
        tip_hash: block.id(),
        tip_height: block.header.height,
        cumulative_work: Work::from_be_slice(&work.to_be_bytes()).unwrap_or_default(),
    }
}
