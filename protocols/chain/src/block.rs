//! Blocks: a header and the signed items it commits to.

use crate::hash::Hash256;
use crate::header::{BlockHeader, HEADER_BYTES};
use crate::item::SignedItem;
use crate::merkle;

/// A block as received or assembled; nothing about it has been checked yet. Validation turns it
/// into a [`crate::CheckedBlock`] and then a [`crate::ValidBlock`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The items, in Merkle leaf order.
    pub items: Vec<SignedItem>,
}

impl Block {
    /// The block id (hash of the header).
    pub fn id(&self) -> Hash256 {
        self.header.id()
    }

    /// Canonical size: header plus every item's canonical signed encoding. This is what the
    /// network's block size limit counts.
    pub fn encoded_len(&self) -> usize {
        HEADER_BYTES
            + self
                .items
                .iter()
                .map(SignedItem::encoded_len)
                .sum::<usize>()
    }

    /// The RFC 9162 root over the item ids.
    pub fn compute_merkle_root(&self) -> Hash256 {
        let ids: Vec<Hash256> = self.items.iter().map(SignedItem::id).collect();
        merkle::root(&ids)
    }

    /// The inclusion proof of item `index`, `None` when out of range.
    pub fn item_proof(&self, index: usize) -> Option<merkle::MerkleProof> {
        let ids: Vec<Hash256> = self.items.iter().map(SignedItem::id).collect();
        merkle::MerkleTree::new(&ids).proof(index as u64)
    }
}
