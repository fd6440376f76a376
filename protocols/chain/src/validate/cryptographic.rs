//! Layer 2: proof of work, duplicate ids, Merkle root, signatures — cheapest first, so junk
//! costs its sender a proof of work before it costs the validator a Merkle tree or a
//! signature check.

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

/// Collects the item ids (cached in each item, never rehashed), rejecting duplicates.
pub(super) fn item_ids(items: &[SignedItem]) -> Result<Vec<Hash256>, BlockError> {
    let mut ids = Vec::with_capacity(items.len());
    let mut seen = HashSet::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let id = item.id();
        if !seen.insert(id) {
            return Err(BlockError::DuplicateItem { index, id });
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Checks the header's Merkle root against the root over `ids`.
pub(super) fn check_merkle_root(block: &Block, ids: &[Hash256]) -> Result<(), BlockError> {
    let computed = merkle::root(ids);
    if computed == block.header.merkle_root {
        Ok(())
    } else {
        Err(BlockError::MerkleRootMismatch {
            header: block.header.merkle_root,
            computed,
        })
    }
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
