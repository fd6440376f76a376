//! The message header (`DH ‖ PN ‖ N`) and its encryption under a header key (`HENCRYPT` /
//! `HDECRYPT` of the header-encryption variant).

use crate::aead::{self, TAG_LEN};
use crate::kdf::NONCE_LEN;
use crate::keys::{KEY_LEN, Secret32};
use crate::wire::ENCRYPTED_HEADER_LEN;

/// Length of a plaintext header: ratchet public key, previous chain length, message number.
pub const HEADER_LEN: usize = KEY_LEN + 4 + 4;

/// A Double Ratchet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The sender's current ratchet public key.
    pub(crate) dh: [u8; KEY_LEN],
    /// Length of the sender's previous sending chain.
    pub(crate) pn: u32,
    /// This message's number in the sending chain.
    pub(crate) n: u32,
}

impl Header {
    fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..KEY_LEN].copy_from_slice(&self.dh);
        out[KEY_LEN..KEY_LEN + 4].copy_from_slice(&self.pn.to_be_bytes());
        out[KEY_LEN + 4..].copy_from_slice(&self.n.to_be_bytes());
        out
    }

    fn from_bytes(bytes: &[u8; HEADER_LEN]) -> Self {
        let mut dh = [0u8; KEY_LEN];
        dh.copy_from_slice(&bytes[..KEY_LEN]);
        let word = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        Self {
            dh,
            pn: word(KEY_LEN),
            n: word(KEY_LEN + 4),
        }
    }

    /// `HENCRYPT(hk, header)` into `out` (`nonce ‖ ciphertext ‖ tag`), authenticating `aad`.
    pub(crate) fn seal(
        self,
        hk: &Secret32,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        out: &mut [u8; ENCRYPTED_HEADER_LEN],
    ) {
        out[..NONCE_LEN].copy_from_slice(nonce);
        let body = &mut out[NONCE_LEN..NONCE_LEN + HEADER_LEN];
        body.copy_from_slice(&self.to_bytes());
        let tag = aead::seal(hk, nonce, aad, body);
        out[NONCE_LEN + HEADER_LEN..].copy_from_slice(&tag);
    }

    /// `HDECRYPT(hk, encrypted)`: the header, or `None` if `hk` does not open it.
    pub(crate) fn open(
        hk: &Secret32,
        aad: &[u8],
        encrypted: &[u8; ENCRYPTED_HEADER_LEN],
    ) -> Option<Self> {
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&encrypted[..NONCE_LEN]);
        let mut body = [0u8; HEADER_LEN];
        body.copy_from_slice(&encrypted[NONCE_LEN..NONCE_LEN + HEADER_LEN]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&encrypted[NONCE_LEN + HEADER_LEN..]);
        aead::open(hk, &nonce, aad, &mut body, &tag).then(|| Self::from_bytes(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_wrong_key() {
        let header = Header {
            dh: [9; KEY_LEN],
            pn: 7,
            n: u32::MAX,
        };
        let hk = Secret32([1; KEY_LEN]);
        let mut sealed = [0u8; ENCRYPTED_HEADER_LEN];
        header.seal(&hk, &[3; NONCE_LEN], b"ad", &mut sealed);
        assert_eq!(Header::open(&hk, b"ad", &sealed), Some(header));
        assert_eq!(Header::open(&Secret32([2; KEY_LEN]), b"ad", &sealed), None);
        assert_eq!(Header::open(&hk, b"other", &sealed), None);
        sealed[20] ^= 1;
        assert_eq!(Header::open(&hk, b"ad", &sealed), None);
    }
}
