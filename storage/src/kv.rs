//! The namespaced key-value space: limits, key layout and write batches.

use crate::error::{Result, StorageError};

/// Longest namespace name in bytes.
pub const MAX_KV_NAMESPACE: usize = 64;
/// Longest key in bytes.
pub const MAX_KV_KEY: usize = 1024;
/// Largest value in bytes.
pub const MAX_KV_VALUE: usize = 4 * 1024 * 1024;
/// Most operations in one [`KvBatch`].
pub const MAX_KV_BATCH: usize = 1024;
/// Most entries one [`crate::KvStore::kv_scan`] returns.
pub const MAX_KV_SCAN: usize = 1024;

/// One key-value write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOp {
    /// Store a value.
    Put {
        /// Full storage key (namespace prefix and key).
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Remove a key.
    Delete {
        /// Full storage key (namespace prefix and key).
        key: Vec<u8>,
    },
}

/// Key-value writes applied atomically by [`crate::KvStore::kv_write`]. Limits are checked as
/// operations are added.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvBatch {
    ops: Vec<KvOp>,
}

impl KvBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put.
    pub fn put(&mut self, namespace: &str, key: &[u8], value: &[u8]) -> Result<&mut Self> {
        check_len("value", value.len(), MAX_KV_VALUE)?;
        let key = full_key(namespace, key)?;
        self.push(KvOp::Put {
            key,
            value: value.to_vec(),
        })
    }

    /// Adds a delete.
    pub fn delete(&mut self, namespace: &str, key: &[u8]) -> Result<&mut Self> {
        let key = full_key(namespace, key)?;
        self.push(KvOp::Delete { key })
    }

    fn push(&mut self, op: KvOp) -> Result<&mut Self> {
        check_len("batch", self.ops.len() + 1, MAX_KV_BATCH)?;
        self.ops.push(op);
        Ok(self)
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[KvOp] {
        &self.ops
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

fn check_len(what: &'static str, actual: usize, limit: usize) -> Result<()> {
    if actual > limit {
        return Err(StorageError::KvTooLarge {
            what,
            limit,
            actual,
        });
    }
    Ok(())
}

/// The storage prefix of a namespace: its length byte, then its name.
pub(crate) fn namespace_prefix(namespace: &str) -> Result<Vec<u8>> {
    let ok = !namespace.is_empty()
        && namespace.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.' || b == b'-'
        });
    if !ok {
        return Err(StorageError::BadNamespace(
            namespace.chars().take(MAX_KV_NAMESPACE).collect(),
        ));
    }
    check_len("namespace", namespace.len(), MAX_KV_NAMESPACE)?;
    let mut out = Vec::with_capacity(1 + namespace.len());
    // Lengths are at most MAX_KV_NAMESPACE (64), so they fit a byte.
    out.push(namespace.len() as u8);
    out.extend_from_slice(namespace.as_bytes());
    Ok(out)
}

/// The storage key of `key` in `namespace`.
pub(crate) fn full_key(namespace: &str, key: &[u8]) -> Result<Vec<u8>> {
    check_len("key", key.len(), MAX_KV_KEY)?;
    let mut out = namespace_prefix(namespace)?;
    out.extend_from_slice(key);
    Ok(out)
}

/// The range bound where a scan of the namespace with `prefix` starts.
pub(crate) fn scan_start(
    prefix: &[u8],
    start_after: Option<&[u8]>,
) -> (std::ops::Bound<Vec<u8>>, std::ops::Bound<Vec<u8>>) {
    use std::ops::Bound;
    let start = match start_after {
        Some(after) => {
            let mut k = prefix.to_vec();
            k.extend_from_slice(after);
            Bound::Excluded(k)
        }
        None => Bound::Included(prefix.to_vec()),
    };
    (start, Bound::Unbounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_checked_and_prefix_free() {
        assert!(namespace_prefix("").is_err());
        assert!(namespace_prefix("Ratchet").is_err());
        assert!(namespace_prefix(&"a".repeat(65)).is_err());
        let a = full_key("ab", b"c").unwrap();
        let b = full_key("a", b"bc").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn batch_limits() {
        let mut b = KvBatch::new();
        assert!(b.put("ns", &[0; MAX_KV_KEY + 1], b"").is_err());
        assert!(b.put("ns", b"k", &vec![0; MAX_KV_VALUE + 1]).is_err());
        for i in 0..MAX_KV_BATCH {
            b.delete("ns", &i.to_be_bytes()).unwrap();
        }
        assert!(b.delete("ns", b"one more").is_err());
    }
}
