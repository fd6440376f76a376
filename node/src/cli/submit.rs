//! `talos item submit`: an anchor of some data's SHA-256, signed with the node key.

use std::io::Read;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use talos_chain::item::{Anchor, ItemKind};
use talos_chain::{Hash256, SignedItem, SigningKey, UnsignedItem};

use crate::files::{WriteMode, write_private_file};

/// File in the data dir holding the last nonce this node key used.
pub const NONCE_FILE: &str = "item.nonce";

/// The bytes `--data` stands for: text as UTF-8, or `hex:<bytes>`.
pub fn data_bytes(data: &str) -> anyhow::Result<Vec<u8>> {
    match data.strip_prefix("hex:") {
        Some(h) => hex::decode(h.trim()).context("--data hex:... is not valid hex"),
        None => Ok(data.as_bytes().to_vec()),
    }
}

/// SHA-256 of a file, streamed.
pub fn hash_file(path: &Path) -> anyhow::Result<Hash256> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Hash256(hasher.finalize().into()))
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The next nonce of the node key: above both the last one recorded in the data dir and the
/// current time in nanoseconds (so a lost nonce file still gives fresh nonces), recorded
/// before it is used.
pub fn next_nonce(data_dir: &Path) -> anyhow::Result<u64> {
    let path = data_dir.join(NONCE_FILE);
    let last = match std::fs::read_to_string(&path) {
        Ok(t) => t
            .trim()
            .parse::<u64>()
            .with_context(|| format!("{} is corrupt", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let Some(next) = last.checked_add(1) else {
        bail!("nonce space exhausted")
    };
    let nonce = next.max(now_ns());
    write_private_file(&path, nonce.to_string().as_bytes(), WriteMode::Replace)?;
    Ok(nonce)
}

/// Builds and signs an anchor of `content_hash` for `network_id`.
pub fn anchor_item(
    key: &SigningKey,
    network_id: u32,
    content_hash: Hash256,
    label: String,
    nonce: u64,
) -> SignedItem {
    let timestamp_ms = now_ns() / 1_000_000;
    UnsignedItem {
        author: key.verifying_key(),
        nonce,
        timestamp_ms,
        kind: ItemKind::Anchor(Anchor {
            content_hash,
            label,
        }),
    }
    .sign(key, network_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_forms_and_nonces() {
        assert_eq!(data_bytes("hi").unwrap(), b"hi");
        assert_eq!(data_bytes("hex:00ff").unwrap(), [0, 255]);
        assert!(data_bytes("hex:zz").is_err());

        let tmp = tempfile::tempdir().unwrap();
        let a = next_nonce(tmp.path()).unwrap();
        let b = next_nonce(tmp.path()).unwrap();
        assert!(b > a);
        std::fs::write(tmp.path().join(NONCE_FILE), u64::MAX.to_string()).unwrap();
        assert!(next_nonce(tmp.path()).is_err());

        let f = tmp.path().join("f");
        std::fs::write(&f, b"abc").unwrap();
        assert_eq!(hash_file(&f).unwrap(), Hash256::sha256(b"abc"));

        let key = SigningKey::from_bytes(&[7; 32]);
        let item = anchor_item(&key, 9, Hash256::sha256(b"abc"), "l".into(), a);
        item.verify(9).unwrap();
        assert_eq!(item.nonce(), a);
    }
}
