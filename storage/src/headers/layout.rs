//! The header store's on-disk layout: spaces as one-byte key prefixes inside the single sled
//! tree `headers-chain`, and the byte layout of each value.
//!
//! | space     | prefix | key (after the prefix)          | payload                                     |
//! |-----------|--------|---------------------------------|---------------------------------------------|
//! | `headers` | `0x01` | header id (32)                  | work length (1) ‖ cumulative work BE (≤ 32) ‖ canonical header (136) |
//! | `heights` | `0x02` | height, big-endian (8)          | best-chain header id (32)                   |
//! | `meta`    | `0x03` | `tip`                           | tip id (32) ‖ height BE (8) ‖ work length (1) ‖ work BE |
//! | `meta`    | `0x03` | `genesis`                       | genesis id (32)                             |
//! | `meta`    | `0x03` | `format`                        | format version, u32 BE (4)                  |
//!
//! Every stored value is framed by [`crate::codec::seal`]: a CRC-32 over the space *name*, the
//! key without its prefix and the payload, so a value damaged, truncated, or moved to another
//! key or space fails its check and is reported as [`StorageError::Corrupt`] naming the space
//! and key. The work and tip encodings are the full store's ([`crate::codec`]).

use talos_chain::header::HEADER_BYTES;
use talos_chain::{BlockHeader, Hash256, Work};

use crate::codec::{decode_header_entry, encode_header_entry};
use crate::error::{Result, StorageError};
use crate::types::HeaderEntry;

/// The sled tree holding every space of a header store.
pub(crate) const HEADER_TREE: &str = "headers-chain";

/// The on-disk format this build reads and writes (the header store's own numbering).
pub(crate) const FORMAT_VERSION: u32 = 1;

/// A logical tree: a key prefix inside [`HEADER_TREE`] and the name errors and checksums use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Space {
    /// Name in errors ([`StorageError::Corrupt`]'s `what`) and in value checksums.
    pub name: &'static str,
    /// First byte of every key of this space.
    pub prefix: u8,
}

impl Space {
    /// The full sled key of `key` in this space.
    pub(crate) fn key(self, key: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + key.len());
        out.push(self.prefix);
        out.extend_from_slice(key);
        out
    }
}

/// Headers with cumulative work, by id.
pub(crate) const HEADERS: Space = Space {
    name: "headers",
    prefix: 0x01,
};
/// The best chain's height index.
pub(crate) const HEIGHTS: Space = Space {
    name: "heights",
    prefix: 0x02,
};
/// Tip, genesis id and format version.
pub(crate) const META: Space = Space {
    name: "meta",
    prefix: 0x03,
};

/// Meta keys.
pub(crate) const META_TIP: &[u8] = b"tip";
pub(crate) const META_GENESIS: &[u8] = b"genesis";
pub(crate) const META_FORMAT: &[u8] = b"format";

/// Payload of a `headers` value.
pub(crate) fn encode_header(entry: &HeaderEntry) -> Vec<u8> {
    encode_header_entry(&entry.header.canonical_bytes(), &entry.cumulative_work)
}

/// Parses a `headers` payload stored under `id`: the work, exactly [`HEADER_BYTES`] of
/// header, and a header whose hash is `id`.
pub(crate) fn decode_header(id: &Hash256, payload: &[u8]) -> Result<HeaderEntry> {
    let bad = |reason: String| StorageError::corrupt(HEADERS.name, id.to_hex(), reason);
    let (cumulative_work, rest): (Work, &[u8]) =
        decode_header_entry(payload).ok_or_else(|| bad("malformed cumulative work".into()))?;
    let bytes = <&[u8; HEADER_BYTES]>::try_from(rest).map_err(|_| {
        bad(format!(
            "header is {} bytes, not {HEADER_BYTES}",
            rest.len()
        ))
    })?;
    let header = BlockHeader::from_canonical_bytes(bytes);
    if header.id() != *id {
        return Err(bad("header hash differs from its key".into()));
    }
    Ok(HeaderEntry {
        header,
        cumulative_work,
    })
}

/// Parses a 32-byte id payload of `space` at `key` (named as `key_name` in errors).
pub(crate) fn decode_id(
    space: Space,
    key_name: impl FnOnce() -> String,
    p: &[u8],
) -> Result<Hash256> {
    Hash256::from_slice(p)
        .ok_or_else(|| StorageError::corrupt(space.name, key_name(), "not a 32-byte id"))
}

/// Parses a format record.
pub(crate) fn decode_format(payload: &[u8]) -> Result<u32> {
    <[u8; 4]>::try_from(payload)
        .map(u32::from_be_bytes)
        .map_err(|_| StorageError::corrupt(META.name, "format", "not a 4-byte version"))
}
