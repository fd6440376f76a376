//! Talos identity: every node and agent is one Ed25519 key, and its W3C `did:key`, its libp2p
//! [`PeerId`] and its [`VerifyingKey`] are three spellings of that key; plus the DID documents,
//! DHT records and prekey bundles agent messaging finds agents with. No I/O, no async.
//!
//! - [`did_key`] / [`parse_did_key`]: `did:key:z` + base58btc(multicodec `ed25519-pub` ‖ key),
//!   as the did:key method specification defines it;
//! - [`peer_id`] / [`key_of_peer`]: the PeerId of an Ed25519 key (an identity multihash of the
//!   protobuf public key, so the key can be read back from the PeerId);
//! - [`X25519PublicKey`], [`SignedPrekey`], [`OneTimePrekey`]: key agreement keys; the X25519
//!   identity-DH key and the signed prekey carry domain-separated signatures by the identity
//!   key ([`sign_identity_dh`], [`SignedPrekey::sign`]);
//! - [`DidDocument`]: W3C DID Core–shaped JSON (`Multikey` verification methods, `keyAgreement`,
//!   a `TalosMessaging` service listing the agent's multiaddrs, and a `talosX3dh` extension
//!   with the signed prekey), fully validated when parsed;
//! - [`DidRecord`]: the document signed with a sequence number and a validity window of at most
//!   48 hours, protobuf on the wire, published in the DHT under [`record_key`]; DHT puts and
//!   gets go through [`validate_record`], and [`choose`] decides between two records of a DID
//!   (higher sequence wins, equal sequence with different bytes is equivocation);
//! - [`PrekeyBundle`]: what X3DH first contact needs, with a one-time prekey, served by the
//!   owner over the messaging protocol ([`validate_bundle`]).
//!
//! Every rejection is a typed error ([`DocumentError`], [`RecordError`], [`BundleError`],
//! [`KeyError`], [`DidError`]) with a stable `code()`.

mod agreement;
mod did;
mod document;
mod document_json;
mod error;
mod multikey;
mod peer;
mod prekey;
mod record;
mod validate;

#[cfg(test)]
mod tests;

pub use agreement::{
    IDENTITY_DH_DOMAIN, OneTimePrekey, SIGNED_PREKEY_DOMAIN, SignedPrekey, X25519PublicKey,
    identity_dh_message, sign_identity_dh, verify_identity_dh,
};
pub use did::{DidError, ED25519_PUB_MULTICODEC, did_key, parse_did_key};
pub use document::{DidDocument, MAX_DOCUMENT_BYTES, MAX_MULTIADDR_LEN, MAX_MULTIADDRS};
pub use error::{BundleError, DocumentError, RecordError};
pub use multikey::{
    KeyError, X25519_PUB_MULTICODEC, ed25519_multikey, parse_ed25519_multikey,
    parse_x25519_multikey, x25519_multikey,
};
pub use peer::{key_of_peer, peer_id};
pub use prekey::{BUNDLE_VERSION, MAX_BUNDLE_BYTES, PrekeyBundle, validate_bundle};
pub use record::{
    DidRecord, MAX_CLOCK_SKEW_MS, MAX_RECORD_BYTES, MAX_RECORD_TTL_MS, RECORD_DOMAIN,
    RECORD_KEY_PREFIX, RECORD_VERSION, record_key, record_signed_message,
};
pub use validate::{Choice, ValidRecord, choose, validate_record};

/// Re-exported: libp2p's peer id.
pub use libp2p_identity::PeerId;
/// Re-exported: the multiaddr type DID documents list (libp2p's `Multiaddr`).
pub use multiaddr::Multiaddr;
/// Re-exported: the key types every spelling converts from and to.
pub use talos_chain::{Signature, SigningKey, VerifyingKey};
