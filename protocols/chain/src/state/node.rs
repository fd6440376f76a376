//! Tree nodes, their hashes and their 65-byte encoding, and the key-bit helpers.
//!
//! The hash construction and why it is sound: [the module docs](super), "Node hashes".

use std::sync::LazyLock;

use sha2::compress256;
use sha2::digest::generic_array::GenericArray;

use crate::hash::Hash256;

/// Tag byte of a leaf in its encoding.
const LEAF_TAG: u8 = 0x00;
/// Tag byte of an internal node in its encoding.
const INTERNAL_TAG: u8 = 0x01;

/// Domain tag of leaf hashes: the block compressed first, zero-padded to 64 bytes.
pub const LEAF_HASH_DOMAIN: &[u8] = b"talos/state-tree/leaf/v1";
/// Domain tag of internal node hashes: the block compressed first, zero-padded to 64 bytes.
pub const INTERNAL_HASH_DOMAIN: &[u8] = b"talos/state-tree/internal/v1";

// Each domain tag fits the one block it is compressed in.
const _: () = assert!(LEAF_HASH_DOMAIN.len() <= 64 && INTERNAL_HASH_DOMAIN.len() <= 64);

/// The root of the empty map (and the hash of every empty subtree).
pub const EMPTY_ROOT: Hash256 = Hash256::ZERO;

/// A tree node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    /// The only entry of its subtree, placed at the subtree's top.
    Leaf {
        /// The entry's key.
        key: Hash256,
        /// The entry's value.
        value: Hash256,
    },
    /// A branch with at least two leaves beneath it.
    Internal {
        /// Hash of the subtree whose keys have a 0 at this depth.
        left: Hash256,
        /// Hash of the subtree whose keys have a 1 at this depth.
        right: Hash256,
    },
}

/// Bytes that are not an encoded [`Node`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NodeDecodeError {
    /// An encoded node is exactly [`Node::ENCODED_LEN`] bytes.
    #[error("an encoded node is {expected} bytes, got {len}", expected = Node::ENCODED_LEN)]
    WrongLength {
        /// The length received.
        len: usize,
    },
    /// The tag byte is neither 0 (leaf) nor 1 (internal).
    #[error("unknown node tag {tag:#04x}")]
    UnknownTag {
        /// The tag byte received.
        tag: u8,
    },
}

impl Node {
    /// Length of [`Node::encode`]'s output: a tag byte and two hashes.
    pub const ENCODED_LEN: usize = 65;

    /// Leaf: `F(IV_leaf, key ‖ value)`; internal: `F(IV_internal, left ‖ right)`: one SHA-256
    /// compression from a domain-separated midstate (see [`crate::state`], "Node hashes").
    #[inline]
    pub fn hash(&self) -> Hash256 {
        match self {
            Self::Leaf { key, value } => leaf_hash(key, value),
            Self::Internal { left, right } => internal_hash(left, right),
        }
    }

    /// Tag byte (0 leaf, 1 internal) followed by the two hashes.
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        match self {
            Self::Leaf { key, value } => tagged(LEAF_TAG, key, value),
            Self::Internal { left, right } => tagged(INTERNAL_TAG, left, right),
        }
    }

    /// Parses [`Node::encode`]'s output.
    pub fn decode(bytes: &[u8]) -> Result<Self, NodeDecodeError> {
        let bytes: &[u8; Self::ENCODED_LEN] = bytes
            .try_into()
            .map_err(|_| NodeDecodeError::WrongLength { len: bytes.len() })?;
        let mut first = Hash256::ZERO;
        first.0.copy_from_slice(&bytes[1..33]);
        let mut second = Hash256::ZERO;
        second.0.copy_from_slice(&bytes[33..]);
        match bytes[0] {
            LEAF_TAG => Ok(Self::Leaf {
                key: first,
                value: second,
            }),
            INTERNAL_TAG => Ok(Self::Internal {
                left: first,
                right: second,
            }),
            tag => Err(NodeDecodeError::UnknownTag { tag }),
        }
    }
}

/// `tag ‖ a ‖ b`.
#[inline]
fn tagged(tag: u8, a: &Hash256, b: &Hash256) -> [u8; Node::ENCODED_LEN] {
    let mut buf = [0u8; Node::ENCODED_LEN];
    buf[0] = tag;
    buf[1..33].copy_from_slice(&a.0);
    buf[33..].copy_from_slice(&b.0);
    buf
}

/// Hash of the leaf of `key` and `value`, without building the [`Node`].
#[inline]
pub(super) fn leaf_hash(key: &Hash256, value: &Hash256) -> Hash256 {
    compress_pair(MIDSTATES.leaf, key, value)
}

/// Hash of the internal node over `left` and `right`, without building the [`Node`].
#[inline]
pub(super) fn internal_hash(left: &Hash256, right: &Hash256) -> Hash256 {
    compress_pair(MIDSTATES.internal, left, right)
}

/// A SHA-256 chaining value: eight 32-bit words.
pub(super) type State = [u32; 8];

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
pub(super) const SHA256_IV: State = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The chaining values node hashes start from, one per kind of node.
struct Midstates {
    leaf: State,
    internal: State,
}

/// Computed on first use: `F(IV, tag block)` for each domain.
static MIDSTATES: LazyLock<Midstates> = LazyLock::new(|| Midstates {
    leaf: midstate(LEAF_HASH_DOMAIN),
    internal: midstate(INTERNAL_HASH_DOMAIN),
});

/// SHA-256's chaining value after the one block `tag` (at most 64 bytes) zero-padded to 64
/// bytes.
pub(super) fn midstate(tag: &[u8]) -> State {
    let mut block = [0u8; 64];
    block[..tag.len()].copy_from_slice(tag);
    compress(SHA256_IV, &block)
}

/// One SHA-256 compression of `block` from `state`.
#[inline]
pub(super) fn compress(mut state: State, block: &[u8; 64]) -> State {
    compress256(&mut state, &[GenericArray::from(*block)]);
    state
}

/// `F(start, a ‖ b)` as 32 big-endian bytes.
#[inline]
fn compress_pair(start: State, a: &Hash256, b: &Hash256) -> Hash256 {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(&a.0);
    block[32..].copy_from_slice(&b.0);
    let state = compress(start, &block);
    let mut out = Hash256::ZERO;
    for (bytes, word) in out.0.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Bit `depth` of `key`, most significant bit of byte 0 first: `true` means the right child.
#[inline]
pub(super) fn bit(key: &Hash256, depth: usize) -> bool {
    (key.0[depth / 8] >> (7 - depth % 8)) & 1 == 1
}

/// Whether `a` and `b` agree on their first `bits` bits (`bits` ≤ 256).
#[inline]
pub(super) fn shares_prefix(a: &Hash256, b: &Hash256, bits: usize) -> bool {
    let full = bits / 8;
    if a.0[..full] != b.0[..full] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a.0[full] ^ b.0[full]) & mask == 0
}
