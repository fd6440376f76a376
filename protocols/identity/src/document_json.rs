//! The JSON representation of a DID document (W3C DID Core §6.2), as serde types.
//!
//! Field order is the declaration order, so `serde_json` writes the same bytes for the same
//! document: the canonical form the DHT record signs.

use serde::{Deserialize, Serialize};

use crate::document::DidDocument;
use crate::error::DocumentError;
use crate::multikey::{ed25519_multikey, signature_multibase, x25519_multikey};

/// The DID Core v1 JSON-LD context; it must come first.
pub(crate) const DID_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
/// The Multikey verification method context.
pub(crate) const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";
/// The verification method type of both keys.
pub(crate) const MULTIKEY_TYPE: &str = "Multikey";
/// The service type of an agent's libp2p messaging endpoint.
pub(crate) const MESSAGING_SERVICE_TYPE: &str = "TalosMessaging";
/// The fragment of the messaging service's id.
pub(crate) const MESSAGING_SERVICE_FRAGMENT: &str = "talos-messaging";

/// A DID document in its JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct DocumentJson {
    #[serde(rename = "@context")]
    pub(crate) context: Vec<String>,
    pub(crate) id: String,
    pub(crate) verification_method: Vec<MethodJson>,
    pub(crate) authentication: Vec<String>,
    pub(crate) assertion_method: Vec<String>,
    pub(crate) capability_invocation: Vec<String>,
    pub(crate) capability_delegation: Vec<String>,
    pub(crate) key_agreement: Vec<String>,
    pub(crate) service: Vec<ServiceJson>,
    /// Talos extension: what X3DH first contact needs beyond the key agreement key.
    pub(crate) talos_x3dh: X3dhJson,
}

/// A verification method (`Multikey`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct MethodJson {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) controller: String,
    pub(crate) public_key_multibase: String,
}

/// A service: the agent's multiaddrs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ServiceJson {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) service_endpoint: Vec<String>,
}

/// The Talos X3DH extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct X3dhJson {
    /// The identity key's signature over the key agreement (identity-DH) key.
    pub(crate) identity_dh_signature: String,
    pub(crate) signed_prekey: SignedPrekeyJson,
}

/// The signed prekey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SignedPrekeyJson {
    pub(crate) id: u32,
    pub(crate) public_key_multibase: String,
    pub(crate) created_at_ms: u64,
    pub(crate) signature: String,
}

impl DocumentJson {
    /// The JSON shape of `document`.
    pub(crate) fn of(document: &DidDocument) -> Self {
        let did = document.did().to_owned();
        let ed = ed25519_multikey(document.identity_key());
        let x = x25519_multikey(document.key_agreement());
        let ed_id = format!("{did}#{ed}");
        let x_id = format!("{did}#{x}");
        let method = |id: &str, key: String| MethodJson {
            id: id.to_owned(),
            kind: MULTIKEY_TYPE.to_owned(),
            controller: did.clone(),
            public_key_multibase: key,
        };
        let service = if document.multiaddrs().is_empty() {
            Vec::new()
        } else {
            vec![ServiceJson {
                id: format!("{did}#{MESSAGING_SERVICE_FRAGMENT}"),
                kind: MESSAGING_SERVICE_TYPE.to_owned(),
                service_endpoint: document
                    .multiaddrs()
                    .iter()
                    .map(|a| a.to_string())
                    .collect(),
            }]
        };
        let spk = document.signed_prekey();
        Self {
            context: vec![DID_CONTEXT.to_owned(), MULTIKEY_CONTEXT.to_owned()],
            verification_method: vec![method(&ed_id, ed), method(&x_id, x)],
            authentication: vec![ed_id.clone()],
            assertion_method: vec![ed_id.clone()],
            capability_invocation: vec![ed_id.clone()],
            capability_delegation: vec![ed_id],
            key_agreement: vec![x_id],
            service,
            talos_x3dh: X3dhJson {
                identity_dh_signature: signature_multibase(document.identity_dh_signature()),
                signed_prekey: SignedPrekeyJson {
                    id: spk.id,
                    public_key_multibase: x25519_multikey(&spk.public),
                    created_at_ms: spk.created_at_ms,
                    signature: signature_multibase(&spk.signature),
                },
            },
            id: did,
        }
    }

    /// `Ok` if `self` is exactly `expected`, else the first field that differs.
    pub(crate) fn check_shape(&self, expected: &Self) -> Result<(), DocumentError> {
        let fields = [
            ("@context", self.context == expected.context),
            ("id", self.id == expected.id),
            (
                "verificationMethod",
                self.verification_method == expected.verification_method,
            ),
            (
                "authentication",
                self.authentication == expected.authentication,
            ),
            (
                "assertionMethod",
                self.assertion_method == expected.assertion_method,
            ),
            (
                "capabilityInvocation",
                self.capability_invocation == expected.capability_invocation,
            ),
            (
                "capabilityDelegation",
                self.capability_delegation == expected.capability_delegation,
            ),
            ("keyAgreement", self.key_agreement == expected.key_agreement),
            ("service", self.service == expected.service),
            ("talosX3dh", self.talos_x3dh == expected.talos_x3dh),
        ];
        match fields.into_iter().find(|(_, same)| !same) {
            Some((field, _)) => Err(DocumentError::Shape { field }),
            None => Ok(()),
        }
    }
}
