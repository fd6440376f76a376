//! AES-256-GCM, in place, with no allocation. `aes-gcm` picks AES-NI and PCLMULQDQ at run time
//! where the CPU has them.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};

use crate::kdf::NONCE_LEN;
use crate::keys::Secret32;

/// Length of a GCM tag.
pub const TAG_LEN: usize = 16;

/// Nonce of message bodies: every message key encrypts exactly one body, so a constant nonce
/// never repeats under one key.
const BODY_NONCE: [u8; NONCE_LEN] = [0; NONCE_LEN];

fn cipher(key: &Secret32) -> Aes256Gcm {
    Aes256Gcm::new(key.bytes().into())
}

/// Encrypts `buf` in place and returns the tag.
pub(crate) fn seal(
    key: &Secret32,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    // Encryption fails only for inputs over GCM's 64 GiB limit, far beyond the wire cap.
    match cipher(key).encrypt_in_place_detached(Nonce::from_slice(nonce), aad, buf) {
        Ok(tag) => tag.into(),
        Err(_) => [0; TAG_LEN],
    }
}

/// Verifies `tag` and decrypts `buf` in place; `buf` is left as ciphertext on failure.
pub(crate) fn open(
    key: &Secret32,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> bool {
    cipher(key)
        .decrypt_in_place_detached(Nonce::from_slice(nonce), aad, buf, Tag::from_slice(tag))
        .is_ok()
}

/// [`seal`] of a message body under its one-time message key.
pub(crate) fn seal_body(mk: &Secret32, aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
    seal(mk, &BODY_NONCE, aad, buf)
}

/// [`open`] of a message body under its one-time message key.
pub(crate) fn open_body(mk: &Secret32, aad: &[u8], buf: &mut [u8], tag: &[u8; TAG_LEN]) -> bool {
    open(mk, &BODY_NONCE, aad, buf, tag)
}
