//! Block headers and their canonical encoding.

use sha2::{Digest, Sha256};

use crate::hash::Hash256;
use crate::pow::CompactTarget;

/// Size of the canonical header encoding in bytes.
pub const HEADER_BYTES: usize = 136;

/// The header format version this code produces and accepts.
pub const HEADER_VERSION: u32 = 1;

/// A block header.
///
/// The block id is SHA-256 of [`BlockHeader::canonical_bytes`]: a fixed 136-byte big-endian
/// layout in field order, nonce last, alone in the third SHA-256 block (so a miner hashes the
/// first 128 bytes once per template and one compression per nonce).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockHeader {
    /// Format version, [`HEADER_VERSION`].
    pub version: u32,
    /// Network identifier from the spec.
    pub network_id: u32,
    /// Height; genesis is 0.
    pub height: u64,
    /// Parent block id; zero for genesis.
    pub prev_hash: Hash256,
    /// RFC 9162 tree head over the item ids.
    pub merkle_root: Hash256,
    /// Root of the chain state after this block: the sparse Merkle tree over revoked
    /// capability ids and the current DID anchor per (author, DID) ([`crate::chain_state`]).
    pub state_root: Hash256,
    /// Number of items (the tree size).
    pub item_count: u32,
    /// Block time in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Proof-of-work target.
    pub target: CompactTarget,
    /// Proof-of-work nonce.
    pub nonce: u64,
}

impl BlockHeader {
    /// The canonical encoding that the block id and proof of work hash.
    pub fn canonical_bytes(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        out[0..4].copy_from_slice(&self.version.to_be_bytes());
        out[4..8].copy_from_slice(&self.network_id.to_be_bytes());
        out[8..16].copy_from_slice(&self.height.to_be_bytes());
        out[16..48].copy_from_slice(&self.prev_hash.0);
        out[48..80].copy_from_slice(&self.merkle_root.0);
        out[80..112].copy_from_slice(&self.state_root.0);
        out[112..116].copy_from_slice(&self.item_count.to_be_bytes());
        out[116..124].copy_from_slice(&self.timestamp_ms.to_be_bytes());
        out[124..128].copy_from_slice(&self.target.0.to_be_bytes());
        out[128..136].copy_from_slice(&self.nonce.to_be_bytes());
        out
    }

    /// Decodes [`BlockHeader::canonical_bytes`] (what header stores keep). Any 136 bytes
    /// decode; whether they make a valid header is the validation layers' question.
    pub fn from_canonical_bytes(bytes: &[u8; HEADER_BYTES]) -> Self {
        let hash = |at: usize| {
            let mut h = [0u8; 32];
            h.copy_from_slice(&bytes[at..at + 32]);
            Hash256(h)
        };
        let u32_at = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_be_bytes(b)
        };
        Self {
            version: u32_at(0),
            network_id: u32_at(4),
            height: u64_at(8),
            prev_hash: hash(16),
            merkle_root: hash(48),
            state_root: hash(80),
            item_count: u32_at(112),
            timestamp_ms: u64_at(116),
            target: CompactTarget(u32_at(124)),
            nonce: u64_at(128),
        }
    }

    /// The block id: SHA-256 of the canonical encoding.
    pub fn id(&self) -> Hash256 {
        Hash256(Sha256::digest(self.canonical_bytes()).into())
    }

    /// Whether the header's own hash meets its own claimed target. Whether that target is the
    /// one the chain expects is a contextual check (see [`crate::validate`]).
    pub fn meets_own_target(&self) -> bool {
        self.target
            .to_target()
            .is_ok_and(|t| t.is_met_by(&self.id()))
    }
}

/// Hashes headers that differ only in their nonce, reusing the SHA-256 state of the first
/// 128 bytes (two compression blocks) across nonces: each nonce costs one compression.
#[derive(Clone)]
pub struct NonceHasher {
    midstate: Sha256,
}

/// Bytes of the header hashed once per template: everything before the nonce, exactly two
/// SHA-256 blocks.
const MIDSTATE_BYTES: usize = HEADER_BYTES - 8;

impl NonceHasher {
    /// Prepares to hash `header` with varying nonces.
    pub fn new(header: &BlockHeader) -> Self {
        let bytes = header.canonical_bytes();
        let mut midstate = Sha256::new();
        midstate.update(&bytes[..MIDSTATE_BYTES]);
        Self { midstate }
    }

    /// The block id of the header with `nonce`.
    #[inline]
    pub fn hash_with_nonce(&self, nonce: u64) -> Hash256 {
        let mut h = self.midstate.clone();
        h.update(nonce.to_be_bytes());
        Hash256(h.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> BlockHeader {
        BlockHeader {
            version: HEADER_VERSION,
            network_id: 7,
            height: 3,
            prev_hash: Hash256::sha256(b"p"),
            merkle_root: Hash256::sha256(b"m"),
            state_root: Hash256::sha256(b"s"),
            item_count: 2,
            timestamp_ms: 1_700_000_000_000,
            target: CompactTarget(0x207f_ffff),
            nonce: 42,
        }
    }

    #[test]
    fn every_field_changes_the_id() {
        let base = header();
        let variants = [
            BlockHeader { version: 2, ..base },
            BlockHeader {
                network_id: 8,
                ..base
            },
            BlockHeader { height: 4, ..base },
            BlockHeader {
                prev_hash: Hash256::ZERO,
                ..base
            },
            BlockHeader {
                merkle_root: Hash256::ZERO,
                ..base
            },
            BlockHeader {
                state_root: Hash256::ZERO,
                ..base
            },
            BlockHeader {
                item_count: 3,
                ..base
            },
            BlockHeader {
                timestamp_ms: 1,
                ..base
            },
            BlockHeader {
                target: CompactTarget(0x1f00_ffff),
                ..base
            },
            BlockHeader { nonce: 43, ..base },
        ];
        for v in variants {
            assert_ne!(v.id(), base.id(), "{v:?}");
        }
    }

    #[test]
    fn canonical_bytes_round_trip() {
        let h = header();
        assert_eq!(BlockHeader::from_canonical_bytes(&h.canonical_bytes()), h);
    }

    #[test]
    fn midstate_hash_equals_full_hash() {
        let h = header();
        let hasher = NonceHasher::new(&h);
        for nonce in [0, 1, 42, u64::MAX] {
            assert_eq!(
                hasher.hash_with_nonce(nonce),
                BlockHeader { nonce, ..h }.id()
            );
        }
    }
}
