//! The state tree: a sparse Merkle tree used as an authenticated map from 256-bit keys to
//! 256-bit values, whose root is the chain's state root.
//!
//! The tree is binary and keyed by the bits of the key, most significant bit of byte 0 first:
//! bit `i` chooses the child at depth `i` (0 left, 1 right). Its shape is canonical, so the
//! root depends only on the key → value set, never on the order of insertion:
//!
//! - an empty subtree hashes to [`EMPTY_ROOT`] (all zeros);
//! - a subtree holding exactly one entry is that entry's [`Node::Leaf`], placed at the
//!   subtree's top (no chain of internal nodes down to depth 256);
//! - a [`Node::Internal`] always has at least two leaves beneath it.
//!
//! A leaf hashes as `SHA-256(0x00 ‖ key ‖ value)`, an internal node as
//! `SHA-256(0x01 ‖ left ‖ right)`. A path is as deep as the longest prefix its key shares with
//! another key, about `log2(keys)` for random keys.
//!
//! Nodes are content-addressed and never rewritten: [`apply_updates`] reads from a
//! [`NodeSource`] and returns a [`StateDelta`] of new nodes, so every older root stays readable
//! for as long as its nodes are kept. [`get`] reads a value, [`prove`] builds a
//! [`StateProof`] of a value or of an absence, which [`StateProof::verify`] checks against a
//! root alone. [`MemoryNodes`] is an in-memory source for tests and light tools.

mod lookup;
mod memory;
mod node;
mod proof;
mod source;
mod update;

#[cfg(test)]
mod tests;

pub use lookup::{get, prove};
pub use memory::MemoryNodes;
pub use node::{EMPTY_ROOT, Node, NodeDecodeError};
pub use proof::{MAX_PROOF_DEPTH, StateLookup, StateProof, StateProofError, Terminal};
pub use source::{NodeSource, SmtError};
pub use update::{StateDelta, apply_updates};
