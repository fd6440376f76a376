//! Proofs of one key's value or absence, and their verification.

use crate::hash::Hash256;

use super::node::{EMPTY_ROOT, Node, bit, internal_hash, shares_prefix};

/// The deepest a path goes: one level per key bit.
pub const MAX_PROOF_DEPTH: usize = 256;

/// Proof for one key: the siblings from the root downwards and what sits at the end of the
/// key's path.
///
/// `siblings[i]` is the sibling at depth `i + 1` along the key's path, i.e. the other child of
/// the node at depth `i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateProof {
    /// The siblings along the path, from the root downwards.
    pub siblings: Vec<Hash256>,
    /// What the path ends at, at depth `siblings.len()`.
    pub terminal: Terminal,
}

/// What sits at the end of a key's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Terminal {
    /// An empty subtree: the key is absent.
    Empty,
    /// A leaf: the key's own (present) or another key sharing the path (the key is absent).
    Leaf {
        /// The leaf's key.
        key: Hash256,
        /// The leaf's value.
        value: Hash256,
    },
}

/// What a verified proof says about the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateLookup {
    /// The key holds this value.
    Present(Hash256),
    /// The key is not in the map.
    Absent,
}

/// Why a [`StateProof`] does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateProofError {
    /// More siblings than key bits.
    #[error("proof has {depth} siblings, more than {MAX_PROOF_DEPTH}")]
    TooDeep {
        /// The number of siblings.
        depth: usize,
    },
    /// The terminal leaf's key leaves the proven key's path before the path ends.
    #[error("terminal leaf is not on the key's path")]
    LeafOffPath,
    /// A shape the canonical tree never has: a terminal next to an empty sibling, which an
    /// honest tree would have collapsed upward.
    #[error("proof describes a non-canonical tree")]
    NotCanonical,
    /// The proof hashes to another root.
    #[error("proof does not lead to the expected root")]
    RootMismatch,
}

impl StateProofError {
    /// Stable snake_case code (metrics label, API error code).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooDeep { .. } => "too_deep",
            Self::LeafOffPath => "leaf_off_path",
            Self::NotCanonical => "not_canonical",
            Self::RootMismatch => "root_mismatch",
        }
    }
}

impl StateProof {
    /// Checks the proof for `key` against `root` and says what it proves.
    ///
    /// Cheapest checks first: the depth, the terminal leaf's place, the canonical shape; then
    /// one SHA-256 for a leaf terminal and one per sibling, folded bottom-up.
    pub fn verify(&self, root: &Hash256, key: &Hash256) -> Result<StateLookup, StateProofError> {
        let depth = self.siblings.len();
        if depth > MAX_PROOF_DEPTH {
            return Err(StateProofError::TooDeep { depth });
        }
        let lookup = match self.terminal {
            Terminal::Empty => StateLookup::Absent,
            Terminal::Leaf { key: found, value } => {
                if !shares_prefix(&found, key, depth) {
                    return Err(StateProofError::LeafOffPath);
                }
                if found == *key {
                    StateLookup::Present(value)
                } else {
                    StateLookup::Absent
                }
            }
        };
        // A leaf beside an empty sibling belongs one level up; an empty subtree beside one
        // makes a parent with no leaves at all.
        if self.siblings.last() == Some(&EMPTY_ROOT) {
            return Err(StateProofError::NotCanonical);
        }
        let mut hash = match self.terminal {
            Terminal::Empty => EMPTY_ROOT,
            Terminal::Leaf { key, value } => Node::Leaf { key, value }.hash(),
        };
        for (d, sibling) in self.siblings.iter().enumerate().rev() {
            hash = if bit(key, d) {
                internal_hash(sibling, &hash)
            } else {
                internal_hash(&hash, sibling)
            };
        }
        if hash == *root {
            Ok(lookup)
        } else {
            Err(StateProofError::RootMismatch)
        }
    }
}
