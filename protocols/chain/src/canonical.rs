//! The canonical byte encoding that ids and signatures are computed over.
//!
//! Protobuf is the wire format but is not canonical (field order, unknown fields, default
//! omission), so hashes and signatures use this fixed, big-endian, length-prefixed encoding of
//! the domain types instead. It is only ever *written*: decoding goes through protobuf.

/// Appends canonical encodings to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// A writer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Fixed-size bytes, no length prefix (hashes, keys, signatures).
    pub(crate) fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// Variable-size bytes with a u32 length prefix. Callers bound lengths far below `u32::MAX`
    /// (items are at most a few hundred KiB), so the prefix cannot truncate.
    pub(crate) fn var(&mut self, v: &[u8]) -> &mut Self {
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(v);
        self
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Length of a `var` field: prefix plus bytes.
pub(crate) const fn var_len(len: usize) -> usize {
    4 + len
}
