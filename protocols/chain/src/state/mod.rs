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
//! A node hashes with one SHA-256 compression of its two 32-byte fields (see "Node hashes"
//! below). A path is as deep as the longest prefix its key shares with another key, about
//! `log2(keys)` for random keys.
//!
//! Nodes are content-addressed and never rewritten: [`apply_updates`] (every write a set) and
//! [`apply_writes`] (sets and inserts, which keep a value the key has) read from a
//! [`NodeSource`] and return a [`StateDelta`] of new nodes, so every older root stays readable
//! for as long as its nodes are kept. [`get`] reads a value, [`prove`] builds a
//! [`StateProof`] of a value or of an absence, which [`StateProof::verify`] checks against a
//! root alone. [`MemoryNodes`] is an in-memory source for tests and light tools.
//!
//! # Node hashes
//!
//! A node hashes as **one SHA-256 compression** of a fixed 64-byte block, started from a
//! chaining value that separates leaves from internal nodes:
//!
//! - leaf: `F(IV_leaf, key ‖ value)`;
//! - internal node: `F(IV_internal, left ‖ right)`;
//!
//! where `F` is the SHA-256 compression function (FIPS 180-4 §6.2.2) and `IV_t = F(IV, tag_t)`
//! is SHA-256's midstate after one block holding the domain tag [`LEAF_HASH_DOMAIN`] or
//! [`INTERNAL_HASH_DOMAIN`] zero-padded to 64 bytes (`IV` being SHA-256's initial value),
//! computed once. The hash is the eight 32-bit words `F` returns, big-endian. No padding block
//! follows: one compression per node, where SHA-256 over the 65-byte encoding took two.
//!
//! Why this is sound. A node hash is the Merkle–Damgård chain of `F` over exactly two blocks,
//! a fixed tag block and the 64-byte payload. Merkle–Damgård's padding and length block are
//! there to carry `F`'s collision resistance over to messages of *different* lengths; every
//! input here has the same length, so nothing is lost without them:
//!
//! - two nodes of one kind with one hash and different payloads are a collision
//!   `F(IV_t, x) = F(IV_t, y)`, `x ≠ y`, of the compression function at a fixed chaining value
//!   nobody chose: the very property the Merkle–Damgård theorem derives SHA-256's collision
//!   resistance from (the best known attacks on `F`, semi-free-start collisions of
//!   reduced-round versions, need to choose the chaining value);
//! - a leaf and an internal node with one hash are `F(IV_leaf, x) = F(IV_internal, y)`, again a
//!   collision of `F` since the two midstates differ: a leaf never passes for an internal node,
//!   nor the reverse;
//! - a non-empty subtree hashing to [`EMPTY_ROOT`] (all zeros) takes a preimage of zero under
//!   `F(IV_t, ·)`, so the empty root stays unambiguous.
//!
//! So the tree binds its root as a tree over tagged SHA-256 does: two different trees with one
//! root give a collision of `F` somewhere on a path. Length extension (anyone can compute
//! `F(hash, y)` from a hash) gives nothing either: a node hash is never a MAC, and every node
//! hash is computed over inputs of one length, so an extended value is no node's hash.
//!
//! The [encoding](Node::encode) (tag byte and both fields, 65 bytes) is what storage and the
//! wire carry; it is not the hash preimage, and nodes stay addressed by [`Node::hash`].

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
pub use node::{EMPTY_ROOT, INTERNAL_HASH_DOMAIN, LEAF_HASH_DOMAIN, Node, NodeDecodeError};
pub use proof::{MAX_PROOF_DEPTH, StateLookup, StateProof, StateProofError, Terminal};
pub use source::{NodeSource, SmtError};
pub use update::{StateDelta, StateWrite, WriteKind, WriteOutcome, apply_updates, apply_writes};
