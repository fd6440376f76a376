//! The prekey bundle an agent serves over the messaging protocol while it is online (not via
//! the DHT): what a peer needs for X3DH first contact, including a one-time prekey.
//!
//! Wire format: protobuf (prost derive), canonical encoding only:
//!
//! ```text
//! message PrekeyBundle {
//!   uint32 version = 1;                      // BUNDLE_VERSION
//!   bytes identity_key = 2;                  // Ed25519, 32 bytes
//!   bytes identity_dh = 3;                   // X25519, 32 bytes
//!   bytes identity_dh_signature = 4;         // 64 bytes
//!   uint32 signed_prekey_id = 5;
//!   bytes signed_prekey = 6;                 // X25519, 32 bytes
//!   uint64 signed_prekey_created_at_ms = 7;
//!   bytes signed_prekey_signature = 8;       // 64 bytes
//!   OneTimePrekey one_time_prekey = 9;       // optional: { uint32 id = 1; bytes public = 2; }
//! }
//! ```
//!
//! The one-time prekey is not signed (as in X3DH); the messaging protocol's authenticated
//! transport vouches for it.

use talos_chain::{Signature, SigningKey, VerifyingKey};

use crate::agreement::{
    OneTimePrekey, SignedPrekey, X25519PublicKey, sign_identity_dh, verify_identity_dh,
};
use crate::document::DidDocument;
use crate::error::BundleError;
use crate::{PeerId, did_key, peer_id};

/// The bundle format version written and accepted.
pub const BUNDLE_VERSION: u32 = 1;

/// Longest encoded bundle accepted (a full one is about 300 bytes).
pub const MAX_BUNDLE_BYTES: usize = 512;

#[derive(Clone, PartialEq, prost::Message)]
struct BundleWire {
    #[prost(uint32, tag = "1")]
    version: u32,
    #[prost(bytes = "vec", tag = "2")]
    identity_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    identity_dh: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    identity_dh_signature: Vec<u8>,
    #[prost(uint32, tag = "5")]
    signed_prekey_id: u32,
    #[prost(bytes = "vec", tag = "6")]
    signed_prekey: Vec<u8>,
    #[prost(uint64, tag = "7")]
    signed_prekey_created_at_ms: u64,
    #[prost(bytes = "vec", tag = "8")]
    signed_prekey_signature: Vec<u8>,
    #[prost(message, optional, tag = "9")]
    one_time_prekey: Option<OneTimeWire>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct OneTimeWire {
    #[prost(uint32, tag = "1")]
    id: u32,
    #[prost(bytes = "vec", tag = "2")]
    public: Vec<u8>,
}

/// A validated prekey bundle: both signatures are the identity key's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrekeyBundle {
    identity: VerifyingKey,
    identity_dh: X25519PublicKey,
    identity_dh_signature: Signature,
    signed_prekey: SignedPrekey,
    one_time_prekey: Option<OneTimePrekey>,
}

impl PrekeyBundle {
    /// The bundle of `identity`, signing `identity_dh`; `signed_prekey` must be signed by
    /// `identity` for `identity_dh` ([`SignedPrekey::sign`]).
    pub fn new(
        identity: &SigningKey,
        identity_dh: X25519PublicKey,
        signed_prekey: SignedPrekey,
        one_time_prekey: Option<OneTimePrekey>,
    ) -> Result<Self, BundleError> {
        let key = identity.verifying_key();
        if !signed_prekey.verify(&key, &identity_dh) {
            return Err(BundleError::SignedPrekeySignature);
        }
        Ok(Self {
            identity: key,
            identity_dh,
            identity_dh_signature: sign_identity_dh(identity, &identity_dh),
            signed_prekey,
            one_time_prekey,
        })
    }

    /// The bundle of a (validated) DID document's keys, with an optional one-time prekey.
    pub fn from_document(document: &DidDocument, one_time_prekey: Option<OneTimePrekey>) -> Self {
        Self {
            identity: *document.identity_key(),
            identity_dh: *document.key_agreement(),
            identity_dh_signature: *document.identity_dh_signature(),
            signed_prekey: *document.signed_prekey(),
            one_time_prekey,
        }
    }

    /// Its canonical protobuf bytes.
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&BundleWire {
            version: BUNDLE_VERSION,
            identity_key: self.identity.as_bytes().to_vec(),
            identity_dh: self.identity_dh.as_bytes().to_vec(),
            identity_dh_signature: self.identity_dh_signature.to_bytes().to_vec(),
            signed_prekey_id: self.signed_prekey.id,
            signed_prekey: self.signed_prekey.public.as_bytes().to_vec(),
            signed_prekey_created_at_ms: self.signed_prekey.created_at_ms,
            signed_prekey_signature: self.signed_prekey.signature.to_bytes().to_vec(),
            one_time_prekey: self.one_time_prekey.map(|p| OneTimeWire {
                id: p.id,
                public: p.public.as_bytes().to_vec(),
            }),
        })
    }

    /// Decodes and validates a bundle: bounded ([`MAX_BUNDLE_BYTES`]), canonical protobuf of
    /// a known version, keys and signatures of the right sizes, the identity key a valid
    /// Ed25519 point, and both signatures its. Whose bundle it is, is [`validate_bundle`]'s
    /// question.
    pub fn decode(bytes: &[u8]) -> Result<Self, BundleError> {
        let bundle = Self::decode_unverified(bytes)?;
        bundle.verify()?;
        Ok(bundle)
    }

    /// Decodes everything but checks no signature.
    fn decode_unverified(bytes: &[u8]) -> Result<Self, BundleError> {
        let wire = decode_wire(bytes)?;
        let identity = VerifyingKey::from_bytes(&fixed(&wire.identity_key, "identity_key")?)
            .map_err(|_| BundleError::BadIdentityKey)?;
        let identity_dh = X25519PublicKey::from_bytes(fixed(&wire.identity_dh, "identity_dh")?);
        let identity_dh_signature = Signature::from_bytes(&fixed(
            &wire.identity_dh_signature,
            "identity_dh_signature",
        )?);
        let signed_prekey = SignedPrekey {
            id: wire.signed_prekey_id,
            public: fixed(&wire.signed_prekey, "signed_prekey")?.into(),
            created_at_ms: wire.signed_prekey_created_at_ms,
            signature: Signature::from_bytes(&fixed(
                &wire.signed_prekey_signature,
                "signed_prekey_signature",
            )?),
        };
        let one_time_prekey = match &wire.one_time_prekey {
            Some(p) => Some(OneTimePrekey {
                id: p.id,
                public: fixed(&p.public, "one_time_prekey.public")?.into(),
            }),
            None => None,
        };
        Ok(Self {
            identity,
            identity_dh,
            identity_dh_signature,
            signed_prekey,
            one_time_prekey,
        })
    }

    /// Checks both signatures: the identity key's over its identity-DH key and over the
    /// signed prekey.
    fn verify(&self) -> Result<(), BundleError> {
        if !verify_identity_dh(
            &self.identity,
            &self.identity_dh,
            &self.identity_dh_signature,
        ) {
            return Err(BundleError::IdentityDhSignature);
        }
        if !self.signed_prekey.verify(&self.identity, &self.identity_dh) {
            return Err(BundleError::SignedPrekeySignature);
        }
        Ok(())
    }

    /// The owner's `did:key`.
    pub fn did(&self) -> String {
        did_key(&self.identity)
    }

    /// The owner's Ed25519 identity key.
    pub fn identity_key(&self) -> &VerifyingKey {
        &self.identity
    }

    /// The owner's PeerId.
    pub fn peer_id(&self) -> PeerId {
        peer_id(&self.identity)
    }

    /// The X25519 identity-DH key.
    pub fn identity_dh(&self) -> &X25519PublicKey {
        &self.identity_dh
    }

    /// The identity key's signature over [`PrekeyBundle::identity_dh`].
    pub fn identity_dh_signature(&self) -> &Signature {
        &self.identity_dh_signature
    }

    /// The signed prekey.
    pub fn signed_prekey(&self) -> &SignedPrekey {
        &self.signed_prekey
    }

    /// The one-time prekey, if the owner had one left.
    pub fn one_time_prekey(&self) -> Option<&OneTimePrekey> {
        self.one_time_prekey.as_ref()
    }
}

/// Decodes a bundle received from the peer whose identity key is `expected`
/// ([`PrekeyBundle::decode`], plus [`BundleError::WrongIdentity`] if it is someone else's).
pub fn validate_bundle(bytes: &[u8], expected: &VerifyingKey) -> Result<PrekeyBundle, BundleError> {
    // The identity first: another agent's bundle costs no signature check.
    let bundle = PrekeyBundle::decode_unverified(bytes)?;
    if bundle.identity != *expected {
        return Err(BundleError::WrongIdentity);
    }
    bundle.verify()?;
    Ok(bundle)
}

fn decode_wire(bytes: &[u8]) -> Result<BundleWire, BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge {
            len: bytes.len(),
            max: MAX_BUNDLE_BYTES,
        });
    }
    let wire = <BundleWire as prost::Message>::decode(bytes)
        .map_err(|e| BundleError::Malformed(e.to_string()))?;
    if prost::Message::encode_to_vec(&wire) != bytes {
        return Err(BundleError::NotCanonical);
    }
    if wire.version != BUNDLE_VERSION {
        return Err(BundleError::UnsupportedVersion {
            version: wire.version,
        });
    }
    Ok(wire)
}

fn fixed<const N: usize>(bytes: &[u8], field: &'static str) -> Result<[u8; N], BundleError> {
    bytes.try_into().map_err(|_| BundleError::BadLength {
        field,
        len: bytes.len(),
        expected: N,
    })
}
