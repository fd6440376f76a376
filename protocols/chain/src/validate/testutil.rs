//! Helpers of the validation tests; the shared ones (easy spec, items, mined children) come
//! from [`crate::testkit`].

use crate::block::Block;
use crate::header::BlockHeader;
use crate::spec::NetworkSpec;

use super::{ParentContext, ValidBlock, ValidateError};

pub(crate) use crate::testkit::{EASY, child, child_header, easy_spec, item, key, labelled_item};

/// Increments the nonce until the header meets its own target.
pub(crate) fn mine(header: BlockHeader) -> BlockHeader {
    crate::testkit::mine_header(&header)
}

/// Increments the nonce until the header does NOT meet its own target.
pub(crate) fn unmine(mut header: BlockHeader) -> BlockHeader {
    while header.meets_own_target() {
        header.nonce = header.nonce.wrapping_add(1);
    }
    header
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
        .and_then(|c| {
            c.validate(spec, ctx, &(), now)
                .map_err(ValidateError::into_invalid)
        })
        .unwrap()
}
