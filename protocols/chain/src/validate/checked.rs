//! [`CheckedBlock`]: a block that passed the context-free layers (structural, cryptographic).

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

impl Block {
    /// Runs the context-free validation layers.
    ///
    /// The header first (no hashing): version, network, height ≥ 1, item count against the
    /// limit, target form and range; then its proof of work (one hash). Then the body's
    /// commitment: the item count and the Merkle root over the item ids. Only a body that
    /// matches its header is judged further — item and block sizes, duplicate ids, weak author
    /// keys, batch signature verification — so every verdict from there on is about the block
    /// id, while a mismatch is about this copy of the body only ([`BlockError::blame`]).
    pub fn check(self, spec: &NetworkSpec) -> Result<CheckedBlock, BlockError> {
        let target = structural::check_header(&self, spec)?;
        let id = cryptographic::check_work(&self, &target)?;
        let item_ids = cryptographic::check_commitment(&self)?;
        structural::check_sizes(&self, spec)?;
        cryptographic::check_duplicates(&item_ids)?;
        cryptographic::check_signatures(&self, spec)?;
        Ok(CheckedBlock {
            block: self,
            id,
            item_ids,
            work: target.work(),
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
