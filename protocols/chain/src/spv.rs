//! SPV proofs: an item, the header that commits to it, and the Merkle path between them.

use crate::header::BlockHeader;
use crate::item::SignedItem;
use crate::merkle::{MerkleProof, ProofError};

/// Proof that `item` is in the block with `header`. A light client checks the proof here and
/// that `header.id()` is in its own most-work header chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemProof {
    /// The proven item.
    pub item: SignedItem,
    /// Header of the block that contains it.
    pub header: BlockHeader,
    /// Inclusion path of the item id under `header.merkle_root`.
    pub proof: MerkleProof,
}

/// Why an SPV proof does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpvError {
    /// The proof's tree size is not the header's item count.
    #[error("proof tree size {proof} differs from the header's item count {header}")]
    TreeSizeMismatch {
        /// Size in the proof.
        proof: u64,
        /// Item count in the header.
        header: u32,
    },
    /// The Merkle path does not check.
    #[error(transparent)]
    Path(#[from] ProofError),
    /// The item's signature does not verify on the header's network.
    #[error("item signature does not verify")]
    BadSignature,
}

impl SpvError {
    /// Stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TreeSizeMismatch { .. } => "tree_size_mismatch",
            Self::Path(ProofError::IndexOutOfRange { .. }) => "index_out_of_range",
            Self::Path(ProofError::WrongPathLength) => "wrong_path_length",
            Self::Path(ProofError::RootMismatch) => "root_mismatch",
            Self::BadSignature => "bad_signature",
        }
    }
}

impl ItemProof {
    /// Checks the item's signature and that its id is leaf `proof.leaf_index` of the header's
    /// tree. Does not check the header itself: that is the caller's header chain's job.
    pub fn verify(&self) -> Result<(), SpvError> {
        if self.proof.tree_size != u64::from(self.header.item_count) {
            return Err(SpvError::TreeSizeMismatch {
                proof: self.proof.tree_size,
                header: self.header.item_count,
            });
        }
        self.proof
            .verify(self.item.id().as_bytes(), &self.header.merkle_root)?;
        self.item
            .verify(self.header.network_id)
            .map_err(|_| SpvError::BadSignature)
    }
}
