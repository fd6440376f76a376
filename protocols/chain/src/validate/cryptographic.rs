//! Layer 2: proof of work, the body's commitment (item count, Merkle root), duplicate ids,
//! signatures — cheapest first, so junk costs its sender a proof of work before it costs the
//! validator a Merkle tree or a signature check.

use std::collections::HashSet;

use crate::block::Block;
use crate::hash::Hash256;
use crate::item::{self, SignedItem};
use crate::merkle;
use crate::pow::Target;
use crate::spec::NetworkSpec;

use super::error::BlockError;

/// Checks the proof of work against the header's own (already range-checked) target and
/// returns the block id.
pub(super) fn check_work(block: &Block, target: &Target) -> Result<Hash256, BlockError> {
    let id = block.header.id();
    if target.is_met_by(&id) {
        Ok(id)
    } else {
        Err(BlockError::InsufficientWork {
            id,
            target: block.header.target,
        })
    }
}

/// Checks that the body is the one the header commits to: as many items as the header counts,
/// and the Merkle root over their ids (cached in each item, never rehashed). Returns the ids.
/// Every later check judges the block itself; a failure here judges only this copy's body.
pub(super) fn check_commitment(block: &Block) -> Result<Vec<Hash256>, BlockError> {
    let count = block.items.len();
    if usize::try_from(block.header.item_count).ok() != Some(count) {
        return Err(BlockError::ItemCountMismatch {
            header: block.header.item_count,
            actual: count,
        });
    }
    let ids: Vec<Hash256> = block.items.iter().map(SignedItem::id).collect();
    let computed = merkle::root(&ids);
    if computed != block.header.merkle_root {
        return Err(BlockError::MerkleRootMismatch {
            header: block.header.merkle_root,
            computed,
        });
    }
    Ok(ids)
}

/// Rejects an item id that appears twice (the header committed to both copies).
pub(super) fn check_duplicates(ids: &[Hash256]) -> Result<(), BlockError> {
    let mut seen = HashSet::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        if !seen.insert(*id) {
            return Err(BlockError::DuplicateItem { index, id: *id });
        }
    }
    Ok(())
}

/// Rejects small-order author keys, then batch-verifies every signature.
///
/// Single and batch verification follow ZIP 215 and agree on every signature (see
/// [`item::verify_batch`]). ZIP 215 itself accepts small-order keys, under which anyone can
/// forge; Talos rejects them as policy everywhere an item enters (wire decoding,
/// [`super::validate_item`], here), at the cost of three point doublings per item.
pub(super) fn check_signatures(block: &Block, spec: &NetworkSpec) -> Result<(), BlockError> {
    if let Some(index) = block.items.iter().position(|i| i.author().is_weak()) {
        return Err(BlockError::WeakAuthorKey { index });
    }
    item::verify_batch(&block.items, spec.network_id)
        .map_err(|e| BlockError::BadSignature { index: e.index })
}
