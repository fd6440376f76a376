//! Agent identities: an Ed25519 signing key plus a separate X25519 identity-DH key whose public
//! half the Ed25519 key signs.

use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use talos_identity::X25519PublicKey;

use crate::X3dhError;
use crate::keys::{DhKeyPair, Hex, KEY_LEN, Secret32, byte_array};

/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Domain label of the signature binding an identity-DH key to its Ed25519 key: the one a
/// DID document carries ([`talos_identity::IDENTITY_DH_DOMAIN`]), so the document's signature
/// is the one X3DH checks.
pub const IDENTITY_DH_LABEL: &[u8] = talos_identity::IDENTITY_DH_DOMAIN;
/// Domain label of the signature over a signed prekey ([`talos_identity::SIGNED_PREKEY_DOMAIN`]).
pub const SIGNED_PREKEY_LABEL: &[u8] = talos_identity::SIGNED_PREKEY_DOMAIN;

/// The public identity of an agent: its Ed25519 key, its X25519 identity-DH key and the
/// Ed25519 signature binding the two.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPublic {
    /// The Ed25519 identity key (`IK` for signatures; the libp2p identity of the agent).
    pub ed25519: [u8; KEY_LEN],
    /// The X25519 identity-DH key (`IK` for DH1 and DH2 of X3DH).
    pub dh: [u8; KEY_LEN],
    /// Ed25519 signature over [`IDENTITY_DH_LABEL`] ‖ `dh`
    /// ([`talos_identity::identity_dh_message`]).
    #[serde(with = "byte_array")]
    pub dh_signature: [u8; SIGNATURE_LEN],
}

impl fmt::Debug for IdentityPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityPublic")
            .field("ed25519", &Hex(&self.ed25519))
            .field("dh", &Hex(&self.dh))
            .finish_non_exhaustive()
    }
}

/// What the Ed25519 key signs for its identity-DH key: `talos-identity`'s encoding.
fn identity_dh_message(dh: &[u8; KEY_LEN]) -> Vec<u8> {
    talos_identity::identity_dh_message(&X25519PublicKey::from_bytes(*dh))
}

/// What the Ed25519 key signs for signed prekey `id`: `talos-identity`'s encoding, which binds
/// the identity-DH key the prekey is used with.
pub(crate) fn signed_prekey_message(
    identity_dh: &[u8; KEY_LEN],
    id: u32,
    key: &[u8; KEY_LEN],
) -> Vec<u8> {
    let (dh, key) = (
        X25519PublicKey::from_bytes(*identity_dh),
        X25519PublicKey::from_bytes(*key),
    );
    talos_identity::SignedPrekey::message(&dh, id, &key)
}

impl IdentityPublic {
    /// Checks that the Ed25519 key is a valid point and signs the identity-DH key
    /// (strict verification: no malleable or small-order signatures).
    pub fn verify(&self) -> Result<(), X3dhError> {
        let key = self.verifying_key()?;
        let signature = Signature::from_bytes(&self.dh_signature);
        key.verify_strict(&identity_dh_message(&self.dh), &signature)
            .map_err(|_| X3dhError::BadIdentitySignature)
    }

    /// Verifies `signature` over `message` under this identity's Ed25519 key.
    pub(crate) fn verify_signed(&self, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
        self.verifying_key().is_ok_and(|key| {
            key.verify_strict(message, &Signature::from_bytes(signature))
                .is_ok()
        })
    }

    fn verifying_key(&self) -> Result<VerifyingKey, X3dhError> {
        VerifyingKey::from_bytes(&self.ed25519).map_err(|_| X3dhError::InvalidIdentityKey)
    }
}

/// An agent's private identity: the Ed25519 seed and the X25519 identity-DH private key.
///
/// Secrets zeroize on drop and are redacted from `Debug`. Serializable so the node can keep it.
#[derive(Clone, Serialize, Deserialize)]
pub struct IdentityKeyPair {
    seed: Secret32,
    dh: DhKeyPair,
    public: IdentityPublic,
}

impl fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl IdentityKeyPair {
    /// A fresh identity: new Ed25519 and X25519 keys.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let seed = Secret32::random(rng);
        Self::from_ed25519_seed(rng, seed.bytes())
    }

    /// The identity of an existing Ed25519 key (given by its 32-byte seed) with a fresh
    /// X25519 identity-DH key signed by it.
    pub fn from_ed25519_seed<R: RngCore + CryptoRng>(rng: &mut R, seed: &[u8; KEY_LEN]) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let dh = DhKeyPair::generate(rng);
        let ed25519 = signing.verifying_key().to_bytes();
        let dh_signature = signing.sign(&identity_dh_message(&dh.public)).to_bytes();
        let public = IdentityPublic {
            ed25519,
            dh: dh.public,
            dh_signature,
        };
        Self {
            seed: Secret32(*seed),
            dh,
            public,
        }
    }

    /// The public identity to publish.
    pub fn public(&self) -> &IdentityPublic {
        &self.public
    }

    /// Signs `message` with the Ed25519 identity key.
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        SigningKey::from_bytes(self.seed.bytes())
            .sign(message)
            .to_bytes()
    }

    /// The X25519 identity-DH private key.
    pub(crate) fn dh_secret(&self) -> &Secret32 {
        &self.dh.secret
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn identity_binding_verifies_and_detects_tampering() {
        let id = IdentityKeyPair::generate(&mut OsRng);
        assert_eq!(id.public().verify(), Ok(()));
        let mut forged = *id.public();
        forged.dh[0] ^= 1;
        assert_eq!(forged.verify(), Err(X3dhError::BadIdentitySignature));
        let other = IdentityKeyPair::generate(&mut OsRng);
        forged = *id.public();
        forged.ed25519 = other.public().ed25519;
        assert_eq!(forged.verify(), Err(X3dhError::BadIdentitySignature));
        assert!(!format!("{id:?}").contains(&format!("{:?}", id.seed.bytes())));
    }
}
