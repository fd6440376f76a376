//! Property tests of RFC 9162 inclusion proofs.

use proptest::prelude::*;
use talos_chain::Hash256;
use talos_chain::merkle::{MerkleTree, ProofError, path_len};

fn leaves(n: u64) -> Vec<[u8; 8]> {
    (0..n).map(u64::to_be_bytes).collect()
}

/// Sides of the path elements from the leaf up (`true`: sibling on the left), from RFC 9162's
/// recursive PATH definition — independent of the iterative verifier.
fn sides(m: u64, n: u64) -> Vec<bool> {
    if n <= 1 {
        return Vec::new();
    }
    let k = 1u64 << (63 - (n - 1).leading_zeros());
    let mut out = if m < k {
        sides(m, k)
    } else {
        sides(m - k, n - k)
    };
    out.push(m >= k);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn proofs_verify_and_alterations_fail(
        size in 1u64..2000,
        index_seed in any::<u64>(),
        other_seed in any::<u64>(),
        flip_bit in 0usize..256,
        elem_seed in any::<usize>(),
    ) {
        let index = index_seed % size;
        let l = leaves(size);
        let tree = MerkleTree::new(&l);
        let root = tree.root();
        let leaf = &l[index as usize];
        let proof = tree.proof(index).unwrap();
        prop_assert_eq!(Some(proof.path.len()), path_len(index, size));
        prop_assert_eq!(proof.path.len(), sides(index, size).len());
        prop_assert_eq!(proof.verify(leaf, &root), Ok(()));

        // A flipped bit in any path element.
        if !proof.path.is_empty() {
            let mut bad = proof.clone();
            let e = elem_seed % bad.path.len();
            bad.path[e].0[flip_bit / 8] ^= 1 << (flip_bit % 8);
            prop_assert_eq!(bad.verify(leaf, &root), Err(ProofError::RootMismatch));
            let mut shorter = proof.clone();
            shorter.path.remove(e);
            prop_assert_eq!(shorter.verify(leaf, &root), Err(ProofError::WrongPathLength));
        }
        let mut longer = proof.clone();
        longer.path.push(Hash256::ZERO);
        prop_assert_eq!(longer.verify(leaf, &root), Err(ProofError::WrongPathLength));

        // Another index: never verifies (different position or path length, or out of range).
        let other_index = other_seed % (size + 2);
        if other_index != index {
            let mut bad = proof.clone();
            bad.leaf_index = other_index;
            prop_assert!(bad.verify(leaf, &root).is_err());
        }

        // Another size: RFC 9162 binds the size through the signed tree head (here, the
        // header's item count, checked by `spv::ItemProof`). On its own, a path verifies under
        // another size exactly when that size gives the leaf the same path shape.
        let other_size = 1 + other_seed % 2100;
        if other_size != size {
            let mut bad = proof.clone();
            bad.tree_size = other_size;
            let same_shape = index < other_size && sides(index, other_size) == sides(index, size);
            prop_assert_eq!(bad.verify(leaf, &root).is_ok(), same_shape);
        }

        // Another leaf.
        prop_assert_eq!(proof.verify(&u64::MAX.to_be_bytes(), &root), Err(ProofError::RootMismatch));
    }
}
