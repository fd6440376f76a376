//! RFC 9162 (Certificate Transparency v2) Merkle trees over item ids.
//!
//! Leaf hash `SHA-256(0x00 ‖ d)`, node hash `SHA-256(0x01 ‖ left ‖ right)`, the tree split at
//! the largest power of two below its size; a lone last node is carried up unchanged, never
//! duplicated (so the CVE-2012-2459 mutation of Bitcoin's tree cannot occur). The empty tree's
//! root is `SHA-256("")`.

use sha2::{Digest, Sha256};

use crate::hash::Hash256;

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// Hash of a leaf: `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash256 {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    Hash256(h.finalize().into())
}

/// Hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
#[inline]
pub fn node_hash(left: &Hash256, right: &Hash256) -> Hash256 {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash256(Sha256::digest(buf).into())
}

/// Root of the tree whose leaves are `leaves` (already-computed leaf data, e.g. item ids).
pub fn root<T: AsRef<[u8]>>(leaves: &[T]) -> Hash256 {
    if leaves.is_empty() {
        return Hash256::sha256(b"");
    }
    let mut level: Vec<Hash256> = leaves.iter().map(|l| leaf_hash(l.as_ref())).collect();
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

/// One level up: pairs hashed together, a lone last node carried up unchanged.
fn next_level(level: &[Hash256]) -> Vec<Hash256> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node_hash(l, r),
            [single] => *single,
            _ => unreachable!("chunks(2) yields one or two elements"),
        })
        .collect()
}

/// A Merkle tree with every level kept, for producing inclusion proofs.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    /// `levels[0]` are the leaf hashes, the last level holds the root.
    levels: Vec<Vec<Hash256>>,
}

impl MerkleTree {
    /// Builds the tree over `leaves`.
    pub fn new<T: AsRef<[u8]>>(leaves: &[T]) -> Self {
        let mut levels = vec![
            leaves
                .iter()
                .map(|l| leaf_hash(l.as_ref()))
                .collect::<Vec<_>>(),
        ];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let next = next_level(levels.last().map(Vec::as_slice).unwrap_or_default());
            levels.push(next);
        }
        Self { levels }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// The tree head.
    pub fn root(&self) -> Hash256 {
        match self.levels.last() {
            Some(top) if top.len() == 1 => top[0],
            _ => Hash256::sha256(b""),
        }
    }

    /// The inclusion proof of leaf `index`, `None` when out of range.
    pub fn proof(&self, index: u64) -> Option<MerkleProof> {
        if index >= self.size() {
            return None;
        }
        let mut path = Vec::new();
        let mut i = usize::try_from(index).ok()?;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = i ^ 1;
            if sibling < level.len() {
                path.push(level[sibling]);
            }
            i /= 2;
        }
        Some(MerkleProof {
            leaf_index: index,
            tree_size: self.size(),
            path,
        })
    }
}

/// An RFC 9162 inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleProof {
    /// Zero-based index of the leaf.
    pub leaf_index: u64,
    /// Number of leaves in the tree.
    pub tree_size: u64,
    /// Sibling hashes from the leaf up.
    pub path: Vec<Hash256>,
}

/// Why an inclusion proof does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// `leaf_index >= tree_size`.
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange {
        /// The claimed index.
        index: u64,
        /// The claimed size.
        size: u64,
    },
    /// The path is longer or shorter than the index and size require.
    #[error("proof path has the wrong length for its index and tree size")]
    WrongPathLength,
    /// The path hashes to another root.
    #[error("proof does not lead to the expected root")]
    RootMismatch,
}

/// Length of the inclusion path for `index` in a tree of `size` leaves, `None` when out of
/// range. A path is one hash per level in which the node has a sibling.
pub fn path_len(index: u64, size: u64) -> Option<usize> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn, mut len) = (index, size - 1, 0usize);
    while sn > 0 {
        if fn_ & 1 == 1 || fn_ != sn {
            len += 1;
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    Some(len)
}

impl MerkleProof {
    /// Verifies that `leaf_data` is leaf `leaf_index` of the tree of `tree_size` leaves with
    /// head `root` (RFC 9162 §2.1.3.2). Rejects wrong-length paths before hashing.
    pub fn verify(&self, leaf_data: &[u8], root: &Hash256) -> Result<(), ProofError> {
        let expected =
            path_len(self.leaf_index, self.tree_size).ok_or(ProofError::IndexOutOfRange {
                index: self.leaf_index,
                size: self.tree_size,
            })?;
        if self.path.len() != expected {
            return Err(ProofError::WrongPathLength);
        }
        let computed = self.root_from(leaf_hash(leaf_data));
        if &computed == root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        }
    }

    /// Hashes up the path from the given leaf hash. The caller has checked the path length.
    fn root_from(&self, leaf: Hash256) -> Hash256 {
        let (mut fn_, mut sn) = (self.leaf_index, self.tree_size - 1);
        let mut r = leaf;
        for p in &self.path {
            if fn_ & 1 == 1 || fn_ == sn {
                r = node_hash(p, &r);
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            } else {
                r = node_hash(&r, p);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC's recursive definition, as an independent reference.
    fn reference_root(leaves: &[Vec<u8>]) -> Hash256 {
        match leaves.len() {
            0 => Hash256::sha256(b""),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| (i as u64).to_be_bytes().to_vec()).collect()
    }

    #[test]
    fn root_matches_rfc_recursion() {
        for n in 0..70 {
            let l = leaves(n);
            assert_eq!(root(&l), reference_root(&l), "n={n}");
            assert_eq!(MerkleTree::new(&l).root(), reference_root(&l), "n={n}");
        }
    }

    #[test]
    fn every_proof_verifies_and_has_the_expected_length() {
        for n in 1..40u64 {
            let l = leaves(n as usize);
            let tree = MerkleTree::new(&l);
            for i in 0..n {
                let proof = tree.proof(i).unwrap();
                assert_eq!(Some(proof.path.len()), path_len(i, n));
                assert_eq!(
                    proof.verify(&l[i as usize], &tree.root()),
                    Ok(()),
                    "n={n} i={i}"
                );
            }
            assert!(tree.proof(n).is_none());
        }
    }

    #[test]
    fn tampered_proofs_fail() {
        let l = leaves(13);
        let tree = MerkleTree::new(&l);
        let root = tree.root();
        let good = tree.proof(5).unwrap();

        let mut longer = good.clone();
        longer.path.push(Hash256::ZERO);
        assert_eq!(
            longer.verify(&l[5], &root),
            Err(ProofError::WrongPathLength)
        );

        let mut shorter = good.clone();
        shorter.path.pop();
        assert_eq!(
            shorter.verify(&l[5], &root),
            Err(ProofError::WrongPathLength)
        );

        let mut wrong_index = good.clone();
        wrong_index.leaf_index = 4;
        assert_eq!(
            wrong_index.verify(&l[5], &root),
            Err(ProofError::RootMismatch)
        );

        let mut out_of_range = good.clone();
        out_of_range.leaf_index = 13;
        assert!(matches!(
            out_of_range.verify(&l[5], &root),
            Err(ProofError::IndexOutOfRange { .. })
        ));

        // Size 6 makes leaf 5 the lone last node: its path is shorter.
        let mut wrong_size = good.clone();
        wrong_size.tree_size = 6;
        assert_eq!(
            wrong_size.verify(&l[5], &root),
            Err(ProofError::WrongPathLength)
        );

        assert_eq!(good.verify(&l[6], &root), Err(ProofError::RootMismatch));
        assert_eq!(
            good.verify(&l[5], &Hash256::ZERO),
            Err(ProofError::RootMismatch)
        );
    }

    #[test]
    fn rfc9162_shape_for_seven_leaves() {
        // d6 is the lone last leaf: its path is [node(d4,d5), node(0..4)], length 2.
        assert_eq!(path_len(6, 7), Some(2));
        assert_eq!(path_len(0, 7), Some(3));
        assert_eq!(path_len(0, 1), Some(0));
    }
}
