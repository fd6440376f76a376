//! [`PrecheckedBlock`] and [`CheckedBlock`]: a block that passed the cheap context-free checks
//! (everything but signatures), and one that passed them all.

use crate::block::Block;
use crate::hash::Hash256;
use crate::header::BlockHeader;
use crate::pow::Work;
use crate::spec::NetworkSpec;

use super::error::BlockError;
use super::{cryptographic, structural};

/// A block whose shape, limits, proof of work, item ids, Merkle root and signatures have been
/// checked, independent of any chain. Caches what later stages need (block id, item ids, work)
/// so nothing is hashed twice. Built only by [`Block::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedBlock {
    pub(super) block: Block,
    pub(super) id: Hash256,
    pub(super) item_ids: Vec<Hash256>,
    pub(super) work: Work,
}

/// A block whose header, proof of work, body commitment, sizes and item ids have been
/// checked, but not its signatures: what is cheap to know before the block's parent is. Built
/// only by [`Block::precheck`]; [`PrecheckedBlock::check_signatures`] finishes the job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrecheckedBlock {
    checked: CheckedBlock,
}

impl PrecheckedBlock {
    /// The block.
    pub fn block(&self) -> &Block {
        &self.checked.block
    }

    /// The header.
    pub fn header(&self) -> &BlockHeader {
        &self.checked.block.header
    }

    /// The block id.
    pub fn id(&self) -> Hash256 {
        self.checked.id
    }

    /// The proof of work of this block alone (work of its target).
    pub fn work(&self) -> Work {
        self.checked.work
    }

    /// Rejects small-order author keys, then batch-verifies every item signature: the last
    /// and by far the costliest context-free check.
    pub fn check_signatures(self, spec: &NetworkSpec) -> Result<CheckedBlock, BlockError> {
        cryptographic::check_signatures(&self.checked.block, spec)?;
        Ok(self.checked)
    }
}

impl Block {
    /// Runs every context-free validation layer: [`Block::precheck`], then
    /// [`PrecheckedBlock::check_signatures`].
    pub fn check(self, spec: &NetworkSpec) -> Result<CheckedBlock, BlockError> {
        self.precheck(spec)?.check_signatures(spec)
    }

    /// The cheap context-free checks, in cost order.
    ///
    /// The header first (no hashing): version, network, height ≥ 1, item count against the
    /// limit, target form and range; then its proof of work (one hash). Then the body's
    /// commitment: the item count and the Merkle root over the item ids. Only a body that
    /// matches its header is judged further — item and block sizes, duplicate ids — so every
    /// verdict from there on is about the block id, while a mismatch is about this copy of the
    /// body only ([`BlockError::blame`]). Signatures are left to
    /// [`PrecheckedBlock::check_signatures`], so a caller can first check the header against
    /// its parent.
    pub fn precheck(self, spec: &NetworkSpec) -> Result<PrecheckedBlock, BlockError> {
        let target = structural::check_header(&self, spec)?;
        let id = cryptographic::check_work(&self, &target)?;
        let item_ids = cryptographic::check_commitment(&self)?;
        structural::check_sizes(&self, spec)?;
        cryptographic::check_duplicates(&item_ids)?;
        Ok(PrecheckedBlock {
            checked: CheckedBlock {
                block: self,
                id,
                item_ids,
                work: target.work(),
            },
        })
    }

    /// Checks only that the body is the one the header commits to: the item count and the
    /// Merkle root over the item ids (no signature, no size). A failure condemns this copy of
    /// the body, never the header ([`crate::Blame::Body`]): a downloader that accepted the
    /// header uses it to tell a bad server from a bad block before anything is imported.
    pub fn check_body(&self) -> Result<(), BlockError> {
        cryptographic::check_commitment(self).map(drop)
    }
}

impl CheckedBlock {
    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// The header.
    pub fn header(&self) -> &BlockHeader {
        &self.block.header
    }

    /// The block id (computed once, during the check).
    pub fn id(&self) -> Hash256 {
        self.id
    }

    /// The item ids in block order (the Merkle leaves).
    pub fn item_ids(&self) -> &[Hash256] {
        &self.item_ids
    }

    /// The proof of work of this block alone (work of its target).
    pub fn work(&self) -> Work {
        self.work
    }

    /// Gives the block back.
    pub fn into_block(self) -> Block {
        self.block
    }
}
