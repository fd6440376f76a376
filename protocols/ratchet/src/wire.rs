//! The wire formats: ratchet messages and X3DH initial messages, both versioned, fixed-layout
//! and strictly length-checked.
//!
//! Ratchet message (`85 + len(plaintext)` bytes):
//!
//! | bytes | field |
//! | --- | --- |
//! | 1 | version, [`WIRE_VERSION`] |
//! | 12 | header nonce |
//! | 40 + 16 | AES-256-GCM of the header `DH ‖ PN ‖ N` under the header key, with tag |
//! | len + 16 | AES-256-GCM of the plaintext under the message key, with tag |
//!
//! Initial message: version, flags (bit 0: a one-time prekey id follows), the initiator's
//! [`IdentityPublic`] (32 + 32 + 64), `EK_A` (32), the signed prekey id (4, big endian), the
//! optional one-time prekey id (4), then the first ratchet message.

use crate::WireError;
use crate::aead::TAG_LEN;
use crate::header::HEADER_LEN;
use crate::identity::{IdentityPublic, SIGNATURE_LEN};
use crate::kdf::NONCE_LEN;
use crate::keys::KEY_LEN;

/// Version byte of both wire formats.
pub const WIRE_VERSION: u8 = 1;
/// Length of an encrypted header: nonce, header ciphertext, tag.
pub const ENCRYPTED_HEADER_LEN: usize = NONCE_LEN + HEADER_LEN + TAG_LEN;
/// Bytes a ratchet message adds to its plaintext.
pub const MESSAGE_OVERHEAD: usize = 1 + ENCRYPTED_HEADER_LEN + TAG_LEN;
/// Largest plaintext a message may carry (1 MiB).
pub const MAX_PLAINTEXT_LEN: usize = 1 << 20;
/// Largest encoded ratchet message.
pub const MAX_MESSAGE_LEN: usize = MAX_PLAINTEXT_LEN + MESSAGE_OVERHEAD;

/// Flag bit: the initial message names a one-time prekey.
const FLAG_ONE_TIME_PREKEY: u8 = 0x01;
/// Fixed part of an initial message without the one-time prekey id.
const INITIAL_FIXED_LEN: usize = 2 + 2 * KEY_LEN + SIGNATURE_LEN + KEY_LEN + 4;

/// A decoded ratchet message: views into the received bytes, nothing decrypted yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef<'a> {
    /// Version byte and encrypted header, the prefix the body's AEAD authenticates.
    pub(crate) prefix: &'a [u8; 1 + ENCRYPTED_HEADER_LEN],
    /// The encrypted header alone.
    pub(crate) header: &'a [u8; ENCRYPTED_HEADER_LEN],
    /// Body ciphertext, tag excluded.
    pub(crate) body: &'a [u8],
    /// Body tag.
    pub(crate) tag: &'a [u8; TAG_LEN],
}

impl<'a> MessageRef<'a> {
    /// Splits `bytes` into the fields of a ratchet message, checking version and length.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, WireError> {
        if bytes.len() < MESSAGE_OVERHEAD {
            return Err(WireError::TooShort {
                len: bytes.len(),
                min: MESSAGE_OVERHEAD,
            });
        }
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(WireError::TooLong {
                len: bytes.len(),
                max: MAX_MESSAGE_LEN,
            });
        }
        if bytes[0] != WIRE_VERSION {
            return Err(WireError::UnknownVersion(bytes[0]));
        }
        let (prefix, rest) = bytes.split_at(1 + ENCRYPTED_HEADER_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        match (prefix.try_into(), prefix[1..].try_into(), tag.try_into()) {
            (Ok(prefix), Ok(header), Ok(tag)) => Ok(Self {
                prefix,
                header,
                body,
                tag,
            }),
            // Both lengths were fixed by the splits above.
            _ => Err(WireError::TooShort {
                len: bytes.len(),
                min: MESSAGE_OVERHEAD,
            }),
        }
    }

    /// The encrypted header (nonce, ciphertext, tag).
    pub fn encrypted_header(&self) -> &'a [u8; ENCRYPTED_HEADER_LEN] {
        self.header
    }

    /// Length of the plaintext this message carries.
    pub fn plaintext_len(&self) -> usize {
        self.body.len()
    }

    /// The encoding: decoding then encoding gives back the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        [&self.prefix[..], self.body, self.tag].concat()
    }
}

/// The X3DH initial message: who the initiator is, which of the responder's prekeys it used,
/// and the first ratchet message.
#[derive(Clone, PartialEq, Eq)]
pub struct InitialMessage {
    /// The initiator's identity (`IK_A`), verified by the responder.
    pub identity: IdentityPublic,
    /// The initiator's ephemeral key (`EK_A`).
    pub ephemeral: [u8; KEY_LEN],
    /// Id of the responder's signed prekey used.
    pub signed_prekey_id: u32,
    /// Id of the responder's one-time prekey used, if any.
    pub one_time_prekey_id: Option<u32>,
    /// The first ratchet message (its encoding).
    pub message: Vec<u8>,
}

impl core::fmt::Debug for InitialMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InitialMessage")
            .field("identity", &self.identity)
            .field("signed_prekey_id", &self.signed_prekey_id)
            .field("one_time_prekey_id", &self.one_time_prekey_id)
            .field("message_len", &self.message.len())
            .finish_non_exhaustive()
    }
}

fn take<const N: usize>(bytes: &[u8], at: &mut usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[*at..*at + N]);
    *at += N;
    out
}

impl InitialMessage {
    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(INITIAL_FIXED_LEN + 4 + self.message.len());
        out.push(WIRE_VERSION);
        out.push(if self.one_time_prekey_id.is_some() {
            FLAG_ONE_TIME_PREKEY
        } else {
            0
        });
        out.extend_from_slice(&self.identity.ed25519);
        out.extend_from_slice(&self.identity.dh);
        out.extend_from_slice(&self.identity.dh_signature);
        out.extend_from_slice(&self.ephemeral);
        out.extend_from_slice(&self.signed_prekey_id.to_be_bytes());
        if let Some(id) = self.one_time_prekey_id {
            out.extend_from_slice(&id.to_be_bytes());
        }
        out.extend_from_slice(&self.message);
        out
    }

    /// Decodes an initial message; the embedded ratchet message must itself decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() < 2 {
            return Err(WireError::TooShort {
                len: bytes.len(),
                min: INITIAL_FIXED_LEN,
            });
        }
        if bytes[0] != WIRE_VERSION {
            return Err(WireError::UnknownVersion(bytes[0]));
        }
        let flags = bytes[1];
        if flags & !FLAG_ONE_TIME_PREKEY != 0 {
            return Err(WireError::UnknownFlags(flags));
        }
        let fixed = INITIAL_FIXED_LEN
            + if flags & FLAG_ONE_TIME_PREKEY != 0 {
                4
            } else {
                0
            };
        let min = fixed + MESSAGE_OVERHEAD;
        if bytes.len() < min {
            return Err(WireError::TooShort {
                len: bytes.len(),
                min,
            });
        }
        if bytes.len() > fixed + MAX_MESSAGE_LEN {
            return Err(WireError::TooLong {
                len: bytes.len(),
                max: fixed + MAX_MESSAGE_LEN,
            });
        }
        let mut at = 2;
        let identity = IdentityPublic {
            ed25519: take(bytes, &mut at),
            dh: take(bytes, &mut at),
            dh_signature: take(bytes, &mut at),
        };
        let ephemeral = take(bytes, &mut at);
        let signed_prekey_id = u32::from_be_bytes(take(bytes, &mut at));
        let one_time_prekey_id =
            (flags & FLAG_ONE_TIME_PREKEY != 0).then(|| u32::from_be_bytes(take(bytes, &mut at)));
        let message = &bytes[at..];
        MessageRef::decode(message)?;
        Ok(Self {
            identity,
            ephemeral,
            signed_prekey_id,
            one_time_prekey_id,
            message: message.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_bounds() {
        assert!(matches!(
            MessageRef::decode(&[]),
            Err(WireError::TooShort { .. })
        ));
        let mut bytes = vec![WIRE_VERSION; MESSAGE_OVERHEAD];
        let msg = MessageRef::decode(&bytes).expect("minimal message");
        assert_eq!(msg.plaintext_len(), 0);
        assert_eq!(msg.to_bytes(), bytes);
        bytes[0] = 2;
        assert_eq!(
            MessageRef::decode(&bytes),
            Err(WireError::UnknownVersion(2))
        );
        let big = vec![WIRE_VERSION; MAX_MESSAGE_LEN + 1];
        assert!(matches!(
            MessageRef::decode(&big),
            Err(WireError::TooLong { .. })
        ));
        assert!(MessageRef::decode(&big[..MAX_MESSAGE_LEN]).is_ok());
    }

    #[test]
    fn initial_message_round_trip_and_flags() {
        let initial = InitialMessage {
            identity: IdentityPublic {
                ed25519: [1; 32],
                dh: [2; 32],
                dh_signature: [3; 64],
            },
            ephemeral: [4; 32],
            signed_prekey_id: 7,
            one_time_prekey_id: Some(9),
            message: vec![WIRE_VERSION; MESSAGE_OVERHEAD + 3],
        };
        let bytes = initial.encode();
        assert_eq!(InitialMessage::decode(&bytes), Ok(initial.clone()));
        let mut bad = bytes.clone();
        bad[1] = 0x03;
        assert_eq!(
            InitialMessage::decode(&bad),
            Err(WireError::UnknownFlags(0x03))
        );
        let without = InitialMessage {
            one_time_prekey_id: None,
            ..initial
        };
        assert_eq!(InitialMessage::decode(&without.encode()), Ok(without));
        for len in 0..bytes.len() - 3 {
            assert!(
                InitialMessage::decode(&bytes[..len]).is_err(),
                "truncated to {len}"
            );
        }
    }
}
