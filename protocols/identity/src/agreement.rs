//! Key agreement keys: the X25519 identity-DH key an agent's Ed25519 identity key signs, and the
//! signed prekey X3DH first contact uses.
//!
//! Both signatures are Ed25519 over a fixed-length, domain-separated message, so a signature
//! made for one purpose never verifies for another:
//!
//! - identity-DH key: `"talos/identity-dh/v1"` ‖ X25519 public key (32 bytes);
//! - signed prekey: `"talos/signed-prekey/v1"` ‖ identity-DH key (32) ‖ prekey id (u32,
//!   big-endian) ‖ prekey public key (32). The creation time is not signed (as in Signal's
//!   X3DH); where it travels it is covered by the DHT record's signature.
//!
//! Verification is [`VerifyingKey::verify_strict`]: no malleable signatures, no weak keys.

use std::fmt;

use ed25519_dalek::Signer;
use talos_chain::{Signature, SigningKey, VerifyingKey};

use crate::multikey::x25519_multikey;

/// Domain tag of the identity-DH key's signature.
pub const IDENTITY_DH_DOMAIN: &[u8] = b"talos/identity-dh/v1";

/// Domain tag of a signed prekey's signature.
pub const SIGNED_PREKEY_DOMAIN: &[u8] = b"talos/signed-prekey/v1";

/// An X25519 public key: the 32-byte little-endian Montgomery u-coordinate (RFC 7748).
///
/// Any 32 bytes are accepted; rejecting low-order points (an all-zero shared secret) is the
/// Diffie–Hellman side's job.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct X25519PublicKey([u8; 32]);

impl X25519PublicKey {
    /// The key of these bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Its 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Its 32 bytes, by value.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }
}

impl From<[u8; 32]> for X25519PublicKey {
    fn from(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X25519PublicKey({})", x25519_multikey(self))
    }
}

/// The message an identity key signs to vouch for its identity-DH key.
pub fn identity_dh_message(identity_dh: &X25519PublicKey) -> Vec<u8> {
    let mut message = Vec::with_capacity(IDENTITY_DH_DOMAIN.len() + 32);
    message.extend_from_slice(IDENTITY_DH_DOMAIN);
    message.extend_from_slice(identity_dh.as_bytes());
    message
}

/// The identity key's signature over its identity-DH key.
pub fn sign_identity_dh(identity: &SigningKey, identity_dh: &X25519PublicKey) -> Signature {
    identity.sign(&identity_dh_message(identity_dh))
}

/// Whether `signature` is `identity`'s signature over `identity_dh`.
pub fn verify_identity_dh(
    identity: &VerifyingKey,
    identity_dh: &X25519PublicKey,
    signature: &Signature,
) -> bool {
    identity
        .verify_strict(&identity_dh_message(identity_dh), signature)
        .is_ok()
}

/// A medium-term X25519 prekey, signed by the identity key (X3DH's `SPK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedPrekey {
    /// Its id, so a first message can say which prekey it used.
    pub id: u32,
    /// The prekey.
    pub public: X25519PublicKey,
    /// When it was made, in milliseconds since the Unix epoch (not signed, see the module doc).
    pub created_at_ms: u64,
    /// The identity key's signature over [`SignedPrekey::message`].
    pub signature: Signature,
}

impl SignedPrekey {
    /// The message the identity key signs for prekey `id` with key `public`, bound to the
    /// identity-DH key it is used with.
    pub fn message(identity_dh: &X25519PublicKey, id: u32, public: &X25519PublicKey) -> Vec<u8> {
        let mut message = Vec::with_capacity(SIGNED_PREKEY_DOMAIN.len() + 68);
        message.extend_from_slice(SIGNED_PREKEY_DOMAIN);
        message.extend_from_slice(identity_dh.as_bytes());
        message.extend_from_slice(&id.to_be_bytes());
        message.extend_from_slice(public.as_bytes());
        message
    }

    /// Prekey `id` with key `public`, signed by `identity` for use with `identity_dh`.
    pub fn sign(
        identity: &SigningKey,
        identity_dh: &X25519PublicKey,
        id: u32,
        public: X25519PublicKey,
        created_at_ms: u64,
    ) -> Self {
        Self {
            id,
            public,
            created_at_ms,
            signature: identity.sign(&Self::message(identity_dh, id, &public)),
        }
    }

    /// Whether its signature is `identity`'s, for use with `identity_dh`.
    pub fn verify(&self, identity: &VerifyingKey, identity_dh: &X25519PublicKey) -> bool {
        identity
            .verify_strict(
                &Self::message(identity_dh, self.id, &self.public),
                &self.signature,
            )
            .is_ok()
    }
}

/// A single-use X25519 prekey (X3DH's `OPK`); not signed, as in X3DH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneTimePrekey {
    /// Its id, so a first message can say which one it consumed.
    pub id: u32,
    /// The prekey.
    pub public: X25519PublicKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_keys_and_purpose() {
        let identity = SigningKey::from_bytes(&[1; 32]);
        let other = SigningKey::from_bytes(&[2; 32]);
        let dh = X25519PublicKey::from_bytes([3; 32]);
        let sig = sign_identity_dh(&identity, &dh);
        assert!(verify_identity_dh(&identity.verifying_key(), &dh, &sig));
        assert!(!verify_identity_dh(&other.verifying_key(), &dh, &sig));
        assert!(!verify_identity_dh(
            &identity.verifying_key(),
            &X25519PublicKey::from_bytes([4; 32]),
            &sig
        ));

        let spk = SignedPrekey::sign(&identity, &dh, 7, [5; 32].into(), 1_000);
        assert!(spk.verify(&identity.verifying_key(), &dh));
        assert!(!spk.verify(&other.verifying_key(), &dh));
        assert!(!spk.verify(&identity.verifying_key(), &[6; 32].into()));
        assert!(!SignedPrekey { id: 8, ..spk }.verify(&identity.verifying_key(), &dh));
        // The identity-DH signature is not a prekey signature, nor the other way round.
        assert!(
            !SignedPrekey {
                signature: sig,
                ..spk
            }
            .verify(&identity.verifying_key(), &dh)
        );
        assert!(!verify_identity_dh(
            &identity.verifying_key(),
            &dh,
            &spk.signature
        ));
        // The creation time is not signed.
        assert!(
            SignedPrekey {
                created_at_ms: 9,
                ..spk
            }
            .verify(&identity.verifying_key(), &dh)
        );
    }

    #[test]
    fn messages_have_fixed_layouts() {
        let dh = X25519PublicKey::from_bytes([0xaa; 32]);
        let message = SignedPrekey::message(&dh, 0x0102_0304, &[0xbb; 32].into());
        assert_eq!(message.len(), SIGNED_PREKEY_DOMAIN.len() + 68);
        assert!(message.starts_with(SIGNED_PREKEY_DOMAIN));
        let rest = &message[SIGNED_PREKEY_DOMAIN.len()..];
        assert_eq!(&rest[..32], &[0xaa; 32]);
        assert_eq!(&rest[32..36], &[1, 2, 3, 4]);
        assert_eq!(&rest[36..], &[0xbb; 32]);
        assert_eq!(
            identity_dh_message(&dh).len(),
            IDENTITY_DH_DOMAIN.len() + 32
        );
    }
}
