//! Block headers and their canonical encoding.

use sha2::{Digest, Sha256};

use crate::hash::Hash256;
use crate::pow::CompactTarget;

/// Size of the canonical header encoding in bytes.
pub const HEADER_BYTES: usize = 104;

/// The header format version this code produces and accepts.
pub const HEADER_VERSION: u32 = 1;

/// A block header.
///
/// The block id is SHA-256 of [`BlockHeader::canonical_bytes`]: a fixed 104-byte big-endian
/// layout in field order, nonce last (so a miner hashes the first 64 bytes once per template).
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
        out[80..84].copy_from_slice(&self.item_count.to_be_bytes());
        out[84..92].copy_from_slice(&self.timestamp_ms.to_be_bytes());
        out[92..96].copy_from_slice(&self.target.0.to_be_bytes());
        out[96..104].copy_from_slice(&self.nonce.to_be_bytes());
        out
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
/// 64 bytes (the first compression block) across nonces.
#[derive(Clone)]
pub struct NonceHasher {
    midstate: Sha256,
    tail: [u8; HEADER_BYTES - 64],
}

impl NonceHasher {
    /// Prepares to hash `header` with varying nonces.
    pub fn new(header: &BlockHeader) -> Self {
        let bytes = header.canonical_bytes();
        let mut midstate = Sha256::new();
        midstate.update(&bytes[..64]);
        let mut tail = [0u8; HEADER_BYTES - 64];
        tail.copy_from_slice(&bytes[64..]);
        Self { midstate, tail }
    }

    /// The block id of the header with `nonce`.
    #[inline]
    pub fn hash_with_nonce(&self, nonce: u64) -> Hash256 {
        let mut tail = self.tail;
        tail[HEADER_BYTES - 64 - 8..].copy_from_slice(&nonce.to_be_bytes());
        let mut h = self.midstate.clone();
        h.update(tail);
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
