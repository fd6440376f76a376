//! Tree nodes, their hashes and their 65-byte encoding, and the key-bit helpers.

use sha2::{Digest, Sha256};

use crate::hash::Hash256;

/// Tag byte of a leaf, in its hash preimage and its encoding.
const LEAF_TAG: u8 = 0x00;
/// Tag byte of an internal node, in its hash preimage and its encoding.
const INTERNAL_TAG: u8 = 0x01;

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

    /// Leaf: `SHA-256(0x00 ‖ key ‖ value)`; internal: `SHA-256(0x01 ‖ left ‖ right)`. The
    /// preimage is the encoding.
    pub fn hash(&self) -> Hash256 {
        Hash256(Sha256::digest(self.encode()).into())
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

/// Hash of the internal node over `left` and `right`, without building the [`Node`].
#[inline]
pub(super) fn internal_hash(left: &Hash256, right: &Hash256) -> Hash256 {
    Hash256(Sha256::digest(tagged(INTERNAL_TAG, left, right)).into())
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
