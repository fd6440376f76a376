//! Byte layouts of stored values and the checksummed framing around each of them.
//!
//! Every stored value is `crc32 (4 bytes, little-endian) ‖ payload`, where the CRC covers the
//! tree name, the key and the payload. A value damaged on disk, truncated, or moved to another
//! key or tree fails the check and is reported as [`StorageError::Corrupt`] naming the tree
//! and the key.

use talos_chain::{Hash256, VerifyingKey, Work};

use crate::error::{Result, StorageError};
use crate::types::{ChainTip, ItemLocation};

/// Bytes of the checksum prefix.
pub(crate) const CHECKSUM_BYTES: usize = 4;

/// A key of the (author, nonce) index: author key then big-endian nonce.
pub(crate) type NonceKey = [u8; 40];

/// Length of an encoded [`ItemLocation`].
const LOCATION_BYTES: usize = 32 + 8 + 4;

fn checksum(tree: &str, key: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(tree.as_bytes());
    h.update(&[0]);
    h.update(&(key.len() as u64).to_le_bytes());
    h.update(key);
    h.update(payload);
    h.finalize()
}

/// Frames `payload` for storage under `key` in `tree`.
pub(crate) fn seal(tree: &str, key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(CHECKSUM_BYTES + payload.len());
    out.extend_from_slice(&checksum(tree, key, payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Checks a stored value's frame and returns its payload.
pub(crate) fn unseal<'a>(tree: &'static str, key: &[u8], stored: &'a [u8]) -> Result<&'a [u8]> {
    let Some((sum, payload)) = stored.split_first_chunk::<CHECKSUM_BYTES>() else {
        return Err(StorageError::corrupt(
            tree,
            key_display(key),
            format!("value is {} bytes, shorter than its checksum", stored.len()),
        ));
    };
    let expected = checksum(tree, key, payload);
    if u32::from_le_bytes(*sum) != expected {
        return Err(StorageError::corrupt(
            tree,
            key_display(key),
            "checksum mismatch",
        ));
    }
    Ok(payload)
}

/// How a key is named in errors: hex (heights in decimal).
pub(crate) fn key_display(key: &[u8]) -> String {
    let mut s = String::with_capacity(key.len().min(64) * 2);
    for b in key.iter().take(64) {
        s.push_str(&format!("{b:02x}"));
    }
    if key.len() > 64 {
        s.push('…');
    }
    s
}

/// Key of the height index.
pub(crate) fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// Key of the (author, nonce) index.
pub(crate) fn nonce_key(author: &VerifyingKey, nonce: u64) -> NonceKey {
    let mut out = [0u8; 40];
    out[..32].copy_from_slice(author.as_bytes());
    out[32..].copy_from_slice(&nonce.to_be_bytes());
    out
}

fn work_bytes(out: &mut Vec<u8>, work: &Work) {
    let bytes = work.to_be_bytes_trimmed();
    // Work fits 32 bytes, so its trimmed length fits a byte.
    out.push(bytes.len() as u8);
    out.extend_from_slice(&bytes);
}

/// Splits a length-prefixed work off the front of `bytes`.
fn take_work(bytes: &[u8]) -> Option<(Work, &[u8])> {
    let (&len, rest) = bytes.split_first()?;
    let len = usize::from(len);
    if len > 32 || rest.len() < len {
        return None;
    }
    let (work, rest) = rest.split_at(len);
    Some((Work::from_be_slice(work)?, rest))
}

/// Payload of a header entry: cumulative work, then the header's wire encoding.
pub(crate) fn encode_header_entry(header_wire: &[u8], work: &Work) -> Vec<u8> {
    let mut out = Vec::with_capacity(33 + header_wire.len());
    work_bytes(&mut out, work);
    out.extend_from_slice(header_wire);
    out
}

/// Splits a header entry payload into cumulative work and the header's wire bytes.
pub(crate) fn decode_header_entry(payload: &[u8]) -> Option<(Work, &[u8])> {
    take_work(payload)
}

/// Payload of the tip record.
pub(crate) fn encode_tip(tip: &ChainTip) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + 8 + 33);
    out.extend_from_slice(tip.id.as_bytes());
    out.extend_from_slice(&tip.height.to_be_bytes());
    work_bytes(&mut out, &tip.cumulative_work);
    out
}

/// Parses the tip record.
pub(crate) fn decode_tip(payload: &[u8]) -> Option<ChainTip> {
    let (id, rest) = payload.split_first_chunk::<32>()?;
    let (height, rest) = rest.split_first_chunk::<8>()?;
    let (cumulative_work, rest) = take_work(rest)?;
    rest.is_empty().then_some(ChainTip {
        id: Hash256(*id),
        height: u64::from_be_bytes(*height),
        cumulative_work,
    })
}

/// Payload of an item index entry.
pub(crate) fn encode_location(loc: &ItemLocation) -> [u8; LOCATION_BYTES] {
    let mut out = [0u8; LOCATION_BYTES];
    out[..32].copy_from_slice(loc.block.as_bytes());
    out[32..40].copy_from_slice(&loc.height.to_be_bytes());
    out[40..].copy_from_slice(&loc.position.to_be_bytes());
    out
}

/// Parses an item index entry.
pub(crate) fn decode_location(payload: &[u8]) -> Option<ItemLocation> {
    let bytes: &[u8; LOCATION_BYTES] = payload.try_into().ok()?;
    let (block, rest) = bytes.split_first_chunk::<32>()?;
    let (height, position) = rest.split_first_chunk::<8>()?;
    Some(ItemLocation {
        block: Hash256(*block),
        height: u64::from_be_bytes(*height),
        position: u32::from_be_bytes(position.try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_every_flip_detected() {
        let sealed = seal("blocks", b"key", b"payload");
        assert_eq!(unseal("blocks", b"key", &sealed).unwrap(), b"payload");
        for i in 0..sealed.len() {
            for bit in 0..8 {
                let mut bad = sealed.clone();
                bad[i] ^= 1 << bit;
                assert!(unseal("blocks", b"key", &bad).unwrap_err().is_corruption());
            }
        }
        assert!(
            unseal("headers", b"key", &sealed).is_err(),
            "moved to another tree"
        );
        assert!(
            unseal("blocks", b"kez", &sealed).is_err(),
            "moved to another key"
        );
        assert!(unseal("blocks", b"key", &sealed[..3]).is_err(), "truncated");
    }

    #[test]
    fn records_round_trip() {
        let tip = ChainTip {
            id: Hash256::sha256(b"t"),
            height: 77,
            cumulative_work: Work::from_be_slice(&[1, 2, 3]).unwrap(),
        };
        assert_eq!(decode_tip(&encode_tip(&tip)), Some(tip));
        assert_eq!(decode_tip(&encode_tip(&tip)[..40]), None);
        let loc = ItemLocation {
            block: Hash256::sha256(b"b"),
            height: 5,
            position: 9,
        };
        assert_eq!(decode_location(&encode_location(&loc)), Some(loc));
        assert_eq!(decode_location(&[0; 10]), None);
        let entry = encode_header_entry(b"hdr", &Work::ZERO);
        assert_eq!(decode_header_entry(&entry), Some((Work::ZERO, &b"hdr"[..])));
        assert_eq!(decode_header_entry(&[40, 0]), None);
    }
}
