//! Semantic layer rejections (replays).

use super::*;

#[test]
fn rejects_item_already_in_chain() {
    let spec = easy_spec();
    let ctx = ParentContext::for_genesis(&spec);
    let all = items(&spec, 3);
    let mut chain = MemoryItemIndex::new();
    chain.add_item(&all[1]);
    let id = all[1].id();
    let b = child(&spec, &ctx, all);
    assert_eq!(
        validate_err(&spec, &ctx, &chain, b),
        BlockError::ItemAlreadyInChain { index: 1, id }
    );
}

#[test]
fn rejects_nonce_already_used_in_chain() {
    let spec = easy_spec();
    let ctx = ParentContext::for_genesis(&spec);
    let k = key(5);
    let mut chain = MemoryItemIndex::new();
    chain.add_item(&labelled_item(&spec, &k, 42, "earlier"));
    let b = child(
        &spec,
        &ctx,
        vec![item(&spec, &k, 41), labelled_item(&spec, &k, 42, "later")],
    );
    assert_eq!(
        validate_err(&spec, &ctx, &chain, b),
        BlockError::NonceAlreadyUsed {
            index: 1,
            nonce: 42
        }
    );
}

#[test]
fn rejects_nonce_used_twice_in_block() {
    let spec = easy_spec();
    let ctx = ParentContext::for_genesis(&spec);
    let k = key(6);
    let b = child(
        &spec,
        &ctx,
        vec![
            labelled_item(&spec, &k, 8, "a"),
            item(&spec, &key(7), 8),
            labelled_item(&spec, &k, 8, "b"),
        ],
    );
    assert_eq!(
        validate_err(&spec, &ctx, &(), b),
        BlockError::DuplicateNonce { index: 2, nonce: 8 }
    );
}

#[test]
fn a_block_replayed_on_its_own_chain_is_rejected() {
    let spec = easy_spec();
    let g = ParentContext::for_genesis(&spec);
    let first = accept(&spec, &g, child(&spec, &g, items(&spec, 2)));
    let mut chain = MemoryItemIndex::new();
    chain.add_block(first.block());
    assert_eq!(chain.len(), 2);
    let ctx = g.child_context(&first);
    let replay = child(&spec, &ctx, first.block().items.clone());
    assert_eq!(
        validate_err(&spec, &ctx, &chain, replay).layer(),
        ErrorLayer::Semantic
    );
}
