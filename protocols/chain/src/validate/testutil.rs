//! Shared test helpers: an easy-target spec, signed items, and blocks mined on a parent.

use ed25519_dalek::SigningKey;

use crate::block::Block;
use crate::hash::Hash256;
use crate::header::{BlockHeader, HEADER_VERSION};
use crate::item::{Anchor, ItemKind, SignedItem, UnsignedItem};
use crate::merkle;
use crate::pow::CompactTarget;
use crate::spec::NetworkSpec;

use super::{ParentContext, ValidBlock};

/// The easiest target: about one hash in two meets it.
pub(crate) const EASY: CompactTarget = CompactTarget(0x207f_ffff);

/// The `local` spec with the easiest genesis target and limit, so mining takes ~2 hashes.
pub(crate) fn easy_spec() -> NetworkSpec {
    let mut spec = NetworkSpec::local();
    spec.genesis_target = EASY;
    spec.retarget.pow_limit = EASY;
    spec
}

/// A deterministic signing key.
pub(crate) fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// An anchor item by `key` with `nonce`, signed for `spec`'s network.
pub(crate) fn item(spec: &NetworkSpec, key: &SigningKey, nonce: u64) -> SignedItem {
    labelled_item(spec, key, nonce, "test")
}

/// Like [`item`] with a chosen label (to vary content or size).
pub(crate) fn labelled_item(
    spec: &NetworkSpec,
    key: &SigningKey,
    nonce: u64,
    label: &str,
) -> SignedItem {
    UnsignedItem {
        author: key.verifying_key(),
        nonce,
        timestamp_ms: spec.genesis_timestamp_ms,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(&nonce.to_be_bytes()),
            label: label.into(),
        }),
    }
    .sign(key, spec.network_id)
}

/// Increments the nonce until the header meets its own target.
pub(crate) fn mine(mut header: BlockHeader) -> BlockHeader {
    for _ in 0..10_000_000u32 {
        if header.meets_own_target() {
            return header;
        }
        header.nonce = header.nonce.wrapping_add(1);
    }
    panic!("target too hard for a test: {:?}", header.target);
}

/// Increments the nonce until the header does NOT meet its own target.
pub(crate) fn unmine(mut header: BlockHeader) -> BlockHeader {
    while header.meets_own_target() {
        header.nonce = header.nonce.wrapping_add(1);
    }
    header
}

/// The correct, unmined header of a child of `ctx` carrying `items`, one second after it.
pub(crate) fn child_header(
    spec: &NetworkSpec,
    ctx: &ParentContext,
    items: &[SignedItem],
) -> BlockHeader {
    let ids: Vec<Hash256> = items.iter().map(SignedItem::id).collect();
    BlockHeader {
        version: HEADER_VERSION,
        network_id: spec.network_id,
        height: ctx.header.height + 1,
        prev_hash: ctx.id,
        merkle_root: merkle::root(&ids),
        item_count: u32::try_from(items.len()).unwrap(),
        timestamp_ms: ctx.header.timestamp_ms + spec.retarget.block_interval_ms,
        target: ctx.expected_target(spec),
        nonce: 0,
    }
}

/// A valid, mined child of `ctx` carrying `items`.
pub(crate) fn child(spec: &NetworkSpec, ctx: &ParentContext, items: Vec<SignedItem>) -> Block {
    Block {
        header: mine(child_header(spec, ctx, &items)),
        items,
    }
}

/// Re-mines a block after its header was edited.
pub(crate) fn remine(mut block: Block) -> Block {
    block.header = mine(block.header);
    block
}

/// A clock reading at which `block` is not in the future.
pub(crate) fn now_for(block: &Block) -> u64 {
    block.header.timestamp_ms
}

/// Checks and validates `block` on `ctx` against an empty chain, panicking on rejection.
pub(crate) fn accept(spec: &NetworkSpec, ctx: &ParentContext, block: Block) -> ValidBlock {
    let now = now_for(&block);
    block
        .check(spec)
        .and_then(|c| c.validate(spec, ctx, &(), now))
        .unwrap()
}
