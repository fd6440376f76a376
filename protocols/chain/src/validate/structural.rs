//! Layer 1: shape and limits. No hashing, no signatures: everything here is a comparison or a
//! sum, so a block that breaks a limit costs the validator almost nothing.
//!
//! [`check_header`] looks at the header alone; [`check_sizes`] at the body, and runs only once
//! the body is known to be the one the header commits to (item count and Merkle root, see
//! [`super::cryptographic::check_commitment`]): a size that breaks a limit then condemns the
//! block, not just one copy of it.

use crate::block::Block;
use crate::header::{HEADER_BYTES, HEADER_VERSION};
use crate::pow::Target;
use crate::spec::NetworkSpec;

use super::error::BlockError;

/// Checks the header's version, network, height, item count against the limit, and its
/// target's form and range. Returns the expanded target for the proof-of-work check.
pub(super) fn check_header(block: &Block, spec: &NetworkSpec) -> Result<Target, BlockError> {
    let header = &block.header;
    if header.version != HEADER_VERSION {
        return Err(BlockError::UnsupportedVersion {
            found: header.version,
        });
    }
    if header.network_id != spec.network_id {
        return Err(BlockError::WrongNetwork {
            expected: spec.network_id,
            found: header.network_id,
        });
    }
    if header.height == 0 {
        return Err(BlockError::GenesisHeight);
    }
    let max = spec.limits.max_items_per_block;
    if header.item_count > max {
        return Err(BlockError::TooManyItems {
            count: usize::try_from(header.item_count).unwrap_or(usize::MAX),
            max,
        });
    }
    check_target(block, spec)
}

/// Checks item and block sizes against the limits (the body matches its header already).
pub(super) fn check_sizes(block: &Block, spec: &NetworkSpec) -> Result<(), BlockError> {
    let limits = &spec.limits;
    let mut size = HEADER_BYTES;
    for (index, item) in block.items.iter().enumerate() {
        let item_size = item.encoded_len();
        if item_size > limits.max_item_bytes {
            return Err(BlockError::ItemTooLarge {
                index,
                size: item_size,
                max: limits.max_item_bytes,
            });
        }
        size = size.saturating_add(item_size);
        if size > limits.max_block_bytes {
            return Err(BlockError::BlockTooLarge {
                size,
                max: limits.max_block_bytes,
            });
        }
    }
    Ok(())
}

fn check_target(block: &Block, spec: &NetworkSpec) -> Result<Target, BlockError> {
    let compact = block.header.target;
    let target = compact
        .to_target()
        .map_err(|reason| BlockError::InvalidTarget {
            target: compact,
            reason,
        })?;
    let limit = spec.retarget.pow_limit;
    // A spec with an unusable limit accepts no target at all.
    match limit.to_target() {
        Ok(max) if target <= max => Ok(target),
        _ => Err(BlockError::TargetAboveLimit {
            target: compact,
            limit,
        }),
    }
}
