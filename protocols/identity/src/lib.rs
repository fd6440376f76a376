//! Talos identity: every node and agent is one Ed25519 key, and its W3C `did:key`, its libp2p
//! [`PeerId`] and its [`VerifyingKey`] are three spellings of that key. No I/O.
//!
//! - [`did_key`] / [`parse_did_key`]: `did:key:z` + base58btc(multicodec `ed25519-pub` ‖ key),
//!   as the did:key method specification defines it;
//! - [`peer_id`] / [`key_of_peer`]: the PeerId of an Ed25519 key (an identity multihash of the
//!   protobuf public key, so the key can be read back from the PeerId).
//!
//! DID documents and the DHT record types join this crate with agent messaging.

mod did;
mod peer;

pub use did::{DidError, ED25519_PUB_MULTICODEC, did_key, parse_did_key};
pub use peer::{key_of_peer, peer_id};

/// Re-exported: libp2p's peer id.
pub use libp2p_identity::PeerId;
/// Re-exported: the key type every spelling converts from and to.
pub use talos_chain::VerifyingKey;
