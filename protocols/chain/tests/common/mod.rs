//! Helpers shared by the integration tests and the benches (`#[path]`-included there):
//! an easy-target spec, signed items, mined blocks.
#![allow(dead_code, unreachable_pub)]

use talos_chain::header::HEADER_VERSION;
use talos_chain::item::Anchor;
use talos_chain::{
    Block, BlockHeader, CompactTarget, Hash256, ItemKind, NetworkSpec, ParentContext, SignedItem,
    SigningKey, UnsignedItem, merkle,
};

/// About one hash in two meets it.
pub const EASY: CompactTarget = CompactTarget(0x207f_ffff);

/// The `local` spec with the easiest genesis target and limit.
pub fn easy_spec() -> NetworkSpec {
    let mut spec = NetworkSpec::local();
    spec.genesis_target = EASY;
    spec.retarget.pow_limit = EASY;
    spec
}

/// A deterministic key.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A signed anchor item.
pub fn item(spec: &NetworkSpec, key: &SigningKey, nonce: u64) -> SignedItem {
    UnsignedItem {
        author: key.verifying_key(),
        nonce,
        timestamp_ms: spec.genesis_timestamp_ms,
        kind: ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(&nonce.to_be_bytes()),
            label: "bench".into(),
        }),
    }
    .sign(key, spec.network_id)
}

/// Increments the nonce until the header meets its own target.
pub fn mine(mut header: BlockHeader) -> BlockHeader {
    while !header.meets_own_target() {
        header.nonce = header.nonce.wrapping_add(1);
    }
    header
}

/// A valid mined child of `ctx` with `items`, one block interval after its parent.
pub fn child(spec: &NetworkSpec, ctx: &ParentContext, items: Vec<SignedItem>) -> Block {
    let ids: Vec<Hash256> = items.iter().map(SignedItem::id).collect();
    let header = BlockHeader {
        version: HEADER_VERSION,
        network_id: spec.network_id,
        height: ctx.header.height + 1,
        prev_hash: ctx.id,
        merkle_root: merkle::root(&ids),
        item_count: u32::try_from(items.len()).unwrap(),
        timestamp_ms: ctx.header.timestamp_ms + spec.retarget.block_interval_ms,
        target: ctx.expected_target(spec),
        nonce: 0,
    };
    Block {
        header: mine(header),
        items,
    }
}
