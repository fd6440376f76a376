//! Unit tests: one rejection test per [`BlockError`] variant, layer ordering, the happy path,
//! and single-item admission. Helpers shared by the submodules live here; chain-building
//! helpers in [`super::testutil`].

mod admission;
mod codes;
mod consensus;
mod cryptographic;
mod semantic;
mod structural;

use std::collections::HashSet;

use ed25519_dalek::{Signature, VerifyingKey};

use super::testutil::{
    EASY, accept, child, child_header, easy_spec, item, key, labelled_item, mine, now_for, remine,
    unmine,
};
use super::*;
use crate::block::Block;
use crate::hash::Hash256;
use crate::item::{Anchor, ItemKind, SignedItem, UnsignedItem};
use crate::pow::{CompactTarget, TargetError};
use crate::spec::NetworkSpec;

fn items(spec: &NetworkSpec, n: u64) -> Vec<SignedItem> {
    let k = key(1);
    (0..n).map(|i| item(spec, &k, i)).collect()
}

fn good_block(spec: &NetworkSpec) -> Block {
    child(spec, &ParentContext::for_genesis(spec), items(spec, 3))
}

fn check_err(spec: &NetworkSpec, block: Block) -> BlockError {
    block.check(spec).unwrap_err()
}

fn validate_err(
    spec: &NetworkSpec,
    ctx: &ParentContext,
    chain: &impl ItemLookup<Error = std::convert::Infallible>,
    block: Block,
) -> BlockError {
    let now = now_for(&block);
    block
        .check(spec)
        .unwrap()
        .validate(spec, ctx, chain, now)
        .unwrap_err()
        .into_invalid()
}

/// A key of small order: the identity point.
fn weak_key() -> VerifyingKey {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    VerifyingKey::from_bytes(&bytes).unwrap()
}

// ---------------- happy path ----------------

#[test]
fn a_chain_of_blocks_validates_and_accumulates_work() {
    let spec = easy_spec();
    let mut ctx = ParentContext::for_genesis(&spec);
    assert_eq!(ctx.cumulative_work, genesis_work(&spec));
    let k = key(7);
    for height in 1..=6u64 {
        let block = child(&spec, &ctx, vec![item(&spec, &k, height)]);
        let expected_id = block.id();
        let valid = accept(&spec, &ctx, block);
        assert_eq!(valid.id(), expected_id);
        assert_eq!(valid.header().height, height);
        assert_eq!(valid.item_ids(), &[valid.block().items[0].id()]);
        assert_eq!(
            valid.cumulative_work(),
            ctx.cumulative_work.saturating_add(valid.work())
        );
        ctx = ctx.child_context(&valid);
        assert_eq!(ctx.grandparent_timestamp.is_some(), height >= 1);
    }
    assert_eq!(ctx.header.height, 6);
}

#[test]
fn an_empty_block_validates() {
    let spec = easy_spec();
    let ctx = ParentContext::for_genesis(&spec);
    let valid = accept(&spec, &ctx, child(&spec, &ctx, Vec::new()));
    let block = valid.clone().into_block();
    assert!(block.items.is_empty());
    assert_eq!(valid.block(), &block);
}

#[test]
fn checked_block_caches_id_and_item_ids() {
    let spec = easy_spec();
    let block = good_block(&spec);
    let (id, ids): (_, Vec<_>) = (block.id(), block.items.iter().map(|i| i.id()).collect());
    let checked = block.clone().check(&spec).unwrap();
    assert_eq!(checked.id(), id);
    assert_eq!(checked.item_ids(), ids.as_slice());
    assert_eq!(checked.header(), &block.header);
    assert_eq!(checked.block(), &block);
    assert_eq!(checked.into_block(), block);
}
