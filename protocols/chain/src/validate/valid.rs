//! [`ValidBlock`]: a block that passed every validation layer against a given parent.

use crate::block::Block;
use crate::chain_state::BlockState;
use crate::hash::Hash256;
use crate::header::BlockHeader;
use crate::pow::Work;

use super::checked::CheckedBlock;

/// A fully validated block: ready to store, index and announce. Built only by
/// [`CheckedBlock::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidBlock {
    pub(super) checked: CheckedBlock,
    pub(super) cumulative_work: Work,
    /// The state the block leaves (no nodes or records when it changes no state).
    pub(super) state: BlockState,
}

impl ValidBlock {
    /// The block.
    pub fn block(&self) -> &Block {
        self.checked.block()
    }

    /// The header.
    pub fn header(&self) -> &BlockHeader {
        self.checked.header()
    }

    /// The block id.
    pub fn id(&self) -> Hash256 {
        self.checked.id()
    }

    /// The item ids in block order.
    pub fn item_ids(&self) -> &[Hash256] {
        self.checked.item_ids()
    }

    /// The work of this block alone (work of its target).
    pub fn work(&self) -> Work {
        self.checked.work()
    }

    /// The parent's cumulative work plus this block's.
    pub fn cumulative_work(&self) -> Work {
        self.cumulative_work
    }

    /// The state this block leaves: its tree nodes and records are stored with the block, so
    /// its state root (every child's parent state) is readable and provable.
    pub fn state(&self) -> &BlockState {
        &self.state
    }

    /// Gives the block back.
    pub fn into_block(self) -> Block {
        self.checked.into_block()
    }
}
