//! What every backend checks about the genesis block it is opened with.

use talos_chain::{Block, Hash256, Work};

use crate::error::{Result, StorageError};

/// Rejects a block that cannot be a genesis block.
pub(crate) fn check_genesis(genesis: &Block) -> Result<()> {
    if genesis.header.height != 0 {
        return Err(StorageError::InvalidGenesis("height is not 0"));
    }
    if genesis.header.prev_hash != Hash256::ZERO {
        return Err(StorageError::InvalidGenesis("parent is not the zero hash"));
    }
    if genesis.items.len() != genesis.header.item_count as usize {
        return Err(StorageError::InvalidGenesis(
            "item count differs from the header's",
        ));
    }
    Ok(())
}

/// Cumulative work recorded for genesis: the work of its own target (zero when the target is
/// not a valid compact target, which a network spec rules out).
pub fn genesis_work(genesis: &Block) -> Work {
    genesis
        .header
        .target
        .to_target()
        .map(|t| t.work())
        .unwrap_or(Work::ZERO)
}
