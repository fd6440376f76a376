//! An agent's DID document: W3C DID Core–shaped JSON for its `did:key`, with its key agreement
//! key, its libp2p addresses and the signed prekey X3DH first contact needs.
//!
//! The JSON (compact, fields in a fixed order) looks like this, `did` standing for the agent's
//! `did:key:z6Mk…`:
//!
//! ```text
//! { "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
//!   "id": did,
//!   "verificationMethod": [
//!     { "id": did#z6Mk…, "type": "Multikey", "controller": did, "publicKeyMultibase": "z6Mk…" },
//!     { "id": did#z6LS…, "type": "Multikey", "controller": did, "publicKeyMultibase": "z6LS…" } ],
//!   "authentication": [did#z6Mk…], "assertionMethod": [did#z6Mk…],
//!   "capabilityInvocation": [did#z6Mk…], "capabilityDelegation": [did#z6Mk…],
//!   "keyAgreement": [did#z6LS…],
//!   "service": [ { "id": did#talos-messaging, "type": "TalosMessaging",
//!                  "serviceEndpoint": ["/ip4/…/tcp/…/p2p/12D3…", …] } ],
//!   "talosX3dh": { "identityDhSignature": "z…",
//!                  "signedPrekey": { "id": 1, "publicKeyMultibase": "z6LS…",
//!                                    "createdAtMs": 1700000000000, "signature": "z…" } } }
//! ```
//!
//! Unlike the document a did:key resolver derives from the DID alone, the key agreement key is
//! a dedicated X25519 key (signed by the identity key), not the Ed25519 key's birational image;
//! `service` is empty for an agent without addresses. Signatures are multibase base58btc of
//! their 64 bytes.

use std::str::FromStr;

use multiaddr::{Multiaddr, Protocol};
use talos_chain::{Signature, SigningKey, VerifyingKey};

use crate::agreement::{SignedPrekey, X25519PublicKey, sign_identity_dh, verify_identity_dh};
use crate::document_json::{DocumentJson, ServiceJson, SignedPrekeyJson};
use crate::error::DocumentError;
use crate::multikey::{parse_ed25519_multikey, parse_signature_multibase, parse_x25519_multikey};
use crate::{PeerId, did_key, parse_did_key, peer_id};

/// Longest document JSON accepted, in bytes. One without addresses is about 1.7 KiB, each
/// address adds its length plus 3; the record around it adds at most 104 bytes, so any
/// document fits a record of [`crate::MAX_RECORD_BYTES`].
pub const MAX_DOCUMENT_BYTES: usize = 3968;

/// Most multiaddrs a document lists.
pub const MAX_MULTIADDRS: usize = 8;

/// Longest multiaddr accepted, in characters of its string form.
pub const MAX_MULTIADDR_LEN: usize = 256;

/// A validated DID document: its signatures verify and its addresses are bounded. Build one
/// with [`DidDocument::for_agent`] or [`DidDocument::from_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidDocument {
    did: String,
    identity: VerifyingKey,
    identity_dh: X25519PublicKey,
    identity_dh_signature: Signature,
    signed_prekey: SignedPrekey,
    multiaddrs: Vec<Multiaddr>,
}

impl DidDocument {
    /// The document of the agent whose identity key is `identity`: signs `identity_dh` with it
    /// and lists `multiaddrs` (at most [`MAX_MULTIADDRS`], no duplicates, a `/p2p/` part only
    /// with this agent's PeerId). `signed_prekey` must be signed by `identity` for
    /// `identity_dh` ([`SignedPrekey::sign`]).
    pub fn for_agent(
        identity: &SigningKey,
        identity_dh: X25519PublicKey,
        signed_prekey: SignedPrekey,
        multiaddrs: Vec<Multiaddr>,
    ) -> Result<Self, DocumentError> {
        let key = identity.verifying_key();
        if !signed_prekey.verify(&key, &identity_dh) {
            return Err(DocumentError::SignedPrekeySignature);
        }
        let document = Self {
            did: did_key(&key),
            identity: key,
            identity_dh,
            identity_dh_signature: sign_identity_dh(identity, &identity_dh),
            signed_prekey,
            multiaddrs,
        };
        check_multiaddrs(&document.multiaddrs, &document.peer_id())?;
        check_size(document.to_json().len())?;
        Ok(document)
    }

    /// Parses and validates a document: the `id` is an Ed25519 `did:key` and the verification
    /// method its key, the key agreement and prekey keys are X25519 Multikeys, the addresses
    /// are multiaddrs within bounds, every other field is exactly what these imply, and both
    /// signatures verify (checked last, so malformed documents cost no verification).
    /// Whitespace and field order may differ from [`DidDocument::to_json`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, DocumentError> {
        check_size(bytes.len())?;
        let json: DocumentJson =
            serde_json::from_slice(bytes).map_err(|e| DocumentError::Json(e.to_string()))?;
        let identity = parse_did_key(&json.id).map_err(DocumentError::Did)?;
        let [ed, x] = json.verification_method.as_slice() else {
            return Err(DocumentError::Shape {
                field: "verificationMethod",
            });
        };
        let key = parse_ed25519_multikey(&ed.public_key_multibase)
            .map_err(DocumentError::VerificationKey)?;
        if key != identity {
            return Err(DocumentError::KeyMismatch);
        }
        let x3dh = &json.talos_x3dh;
        let document = Self {
            did: did_key(&identity),
            identity,
            identity_dh: parse_x25519_multikey(&x.public_key_multibase)
                .map_err(DocumentError::KeyAgreement)?,
            identity_dh_signature: parse_signature(
                &x3dh.identity_dh_signature,
                "identityDhSignature",
            )?,
            signed_prekey: parse_signed_prekey(&x3dh.signed_prekey)?,
            multiaddrs: parse_multiaddrs(&json.service)?,
        };
        check_multiaddrs(&document.multiaddrs, &document.peer_id())?;
        json.check_shape(&DocumentJson::of(&document))?;
        document.verify_signatures()?;
        Ok(document)
    }

    /// The canonical JSON: compact, fields in a fixed order. The bytes a DID record carries.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&DocumentJson::of(self)).expect("string-keyed JSON always serializes")
    }

    /// The JSON, indented for people (parses back with [`DidDocument::from_json`]).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&DocumentJson::of(self))
            .expect("string-keyed JSON always serializes")
    }

    /// The agent's `did:key`.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The agent's Ed25519 identity key.
    pub fn identity_key(&self) -> &VerifyingKey {
        &self.identity
    }

    /// The agent's libp2p PeerId.
    pub fn peer_id(&self) -> PeerId {
        peer_id(&self.identity)
    }

    /// The agent's multiaddrs (its `TalosMessaging` service endpoints).
    pub fn multiaddrs(&self) -> &[Multiaddr] {
        &self.multiaddrs
    }

    /// The key agreement key: the X25519 identity-DH key (X3DH's `IK` on the DH side).
    pub fn key_agreement(&self) -> &X25519PublicKey {
        &self.identity_dh
    }

    /// The identity key's signature over [`DidDocument::key_agreement`].
    pub fn identity_dh_signature(&self) -> &Signature {
        &self.identity_dh_signature
    }

    /// The signed prekey (verified against the identity and identity-DH keys).
    pub fn signed_prekey(&self) -> &SignedPrekey {
        &self.signed_prekey
    }

    fn verify_signatures(&self) -> Result<(), DocumentError> {
        if !verify_identity_dh(
            &self.identity,
            &self.identity_dh,
            &self.identity_dh_signature,
        ) {
            return Err(DocumentError::IdentityDhSignature);
        }
        if !self.signed_prekey.verify(&self.identity, &self.identity_dh) {
            return Err(DocumentError::SignedPrekeySignature);
        }
        Ok(())
    }
}

fn check_size(len: usize) -> Result<(), DocumentError> {
    if len > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge {
            len,
            max: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

fn parse_signature(text: &str, field: &'static str) -> Result<Signature, DocumentError> {
    parse_signature_multibase(text)
        .map_err(|error| DocumentError::SignatureEncoding { field, error })
}

fn parse_signed_prekey(json: &SignedPrekeyJson) -> Result<SignedPrekey, DocumentError> {
    Ok(SignedPrekey {
        id: json.id,
        public: parse_x25519_multikey(&json.public_key_multibase)
            .map_err(DocumentError::SignedPrekeyKey)?,
        created_at_ms: json.created_at_ms,
        signature: parse_signature(&json.signature, "signedPrekey.signature")?,
    })
}

/// The multiaddrs of the (at most one) service; its other fields are checked by the shape.
fn parse_multiaddrs(services: &[ServiceJson]) -> Result<Vec<Multiaddr>, DocumentError> {
    let service = match services {
        [] => return Ok(Vec::new()),
        [service] => service,
        _ => return Err(DocumentError::Shape { field: "service" }),
    };
    let count = service.service_endpoint.len();
    if count > MAX_MULTIADDRS {
        return Err(DocumentError::TooManyMultiaddrs {
            count,
            max: MAX_MULTIADDRS,
        });
    }
    service
        .service_endpoint
        .iter()
        .enumerate()
        .map(|(index, text)| {
            if text.len() > MAX_MULTIADDR_LEN {
                return Err(DocumentError::MultiaddrTooLong {
                    index,
                    len: text.len(),
                });
            }
            Multiaddr::from_str(text).map_err(|_| DocumentError::BadMultiaddr { index })
        })
        .collect()
}

fn check_multiaddrs(multiaddrs: &[Multiaddr], peer: &PeerId) -> Result<(), DocumentError> {
    if multiaddrs.len() > MAX_MULTIADDRS {
        return Err(DocumentError::TooManyMultiaddrs {
            count: multiaddrs.len(),
            max: MAX_MULTIADDRS,
        });
    }
    for (index, address) in multiaddrs.iter().enumerate() {
        let len = address.to_string().len();
        if len > MAX_MULTIADDR_LEN {
            return Err(DocumentError::MultiaddrTooLong { index, len });
        }
        if names_another_peer(address, peer) {
            return Err(DocumentError::ForeignPeer { index });
        }
        if multiaddrs[..index].contains(address) {
            return Err(DocumentError::DuplicateMultiaddr { index });
        }
    }
    Ok(())
}

/// Whether `address` has a `/p2p/` part for another peer than `peer`, past its last
/// `/p2p-circuit` (before it, `/p2p/` names the relay).
fn names_another_peer(address: &Multiaddr, peer: &PeerId) -> bool {
    let mut foreign = false;
    for protocol in address.iter() {
        match protocol {
            Protocol::P2pCircuit => foreign = false,
            Protocol::P2p(other) if other != *peer => foreign = true,
            _ => {}
        }
    }
    foreign
}
