//! The header store's on-disk layout: spaces as one-byte key prefixes inside the single sled
//! tree `headers-chain`, and the byte layout of each value.
//!
//! | space     | prefix | key (after the prefix)          | payload                                     |
//! |-----------|--------|---------------------------------|---------------------------------------------|
//! | `best`    | `0x01` | height, big-endian (8)          | work length (1) ‖ cumulative work BE (≤ 32) ‖ canonical header (136) |
//! | `side`    | `0x02` | header id (32)                  | the same                                    |
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
pub(crate) const FORMAT_VERSION: u32 = 2;

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

/// Best-chain headers with cumulative work, by height.
pub(crate) const BEST: Space = Space {
    name: "best",
    prefix: 0x01,
};
/// Headers off the best chain with cumulative work, by id.
pub(crate) const SIDE: Space = Space {
    name: "side",
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

/// Payload of a `best` or `side` value.
pub(crate) fn encode_header(entry: &HeaderEntry) -> Vec<u8> {
    encode_header_entry(&entry.header.canonical_bytes(), &entry.cumulative_work)
}

/// Parses a `best` payload stored at `height`: a header of that height.
pub(crate) fn decode_best(height: u64, payload: &[u8]) -> Result<HeaderEntry> {
    let entry = decode_entry(BEST, &height.to_string(), payload)?;
    if entry.height() != height {
        return Err(StorageError::corrupt(
            BEST.name,
            height.to_string(),
            format!("header of height {} stored at {height}", entry.height()),
        ));
    }
    Ok(entry)
}

/// Parses a `side` payload stored under `id`: a header whose hash is `id`.
pub(crate) fn decode_side(id: &Hash256, payload: &[u8]) -> Result<HeaderEntry> {
    let entry = decode_entry(SIDE, &id.to_hex(), payload)?;
    if entry.id() != *id {
        return Err(StorageError::corrupt(
            SIDE.name,
            id.to_hex(),
            "header hash differs from its key",
        ));
    }
    Ok(entry)
}

/// Parses the work and exactly [`HEADER_BYTES`] of header.
fn decode_entry(space: Space, key: &str, payload: &[u8]) -> Result<HeaderEntry> {
    let bad = |reason: String| StorageError::corrupt(space.name, key, reason);
    let (cumulative_work, rest): (Work, &[u8]) =
        decode_header_entry(payload).ok_or_else(|| bad("malformed cumulative work".into()))?;
    let bytes = <&[u8; HEADER_BYTES]>::try_from(rest).map_err(|_| {
        bad(format!(
            "header is {} bytes, not {HEADER_BYTES}",
            rest.len()
        ))
    })?;
    Ok(HeaderEntry {
        header: BlockHeader::from_canonical_bytes(bytes),
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
