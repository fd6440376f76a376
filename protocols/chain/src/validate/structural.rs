//! Layer 1: shape and limits. No hashing, no signatures: everything here is a comparison or a
//! sum, so a block that breaks a limit costs the validator almost nothing.

use crate::block::Block;
use crate::header::{HEADER_BYTES, HEADER_VERSION};
use crate::pow::Target;
use crate::spec::NetworkSpec;

use super::error::BlockError;

/// Checks version, network, height, item count and sizes, and the target's form and range.
/// Returns the header's expanded target for the proof-of-work check.
pub(super) fn check(block: &Block, spec: &NetworkSpec) -> Result<Target, BlockError> {
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
    check_counts(block, spec)?;
    check_sizes(block, spec)?;
    check_target(block, spec)
}

fn check_counts(block: &Block, spec: &NetworkSpec) -> Result<(), BlockError> {
    let count = block.items.len();
    let max = spec.limits.max_items_per_block;
    if count > usize::try_from(max).unwrap_or(usize::MAX) {
        return Err(BlockError::TooManyItems { count, max });
    }
    if usize::try_from(block.header.item_count).ok() != Some(count) {
        return Err(BlockError::ItemCountMismatch {
            header: block.header.item_count,
            actual: count,
        });
    }
    Ok(())
}

fn check_sizes(block: &Block, spec: &NetworkSpec) -> Result<(), BlockError> {
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
