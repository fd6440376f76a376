//! The libp2p PeerId of an Ed25519 key, and back.
//!
//! A PeerId is a multihash of the protobuf-encoded public key; keys of up to 42 bytes (Ed25519's
//! is 36) use the identity multihash, so the PeerId holds the key itself.

use libp2p_identity::{PeerId, PublicKey, ed25519};
use talos_chain::VerifyingKey;

/// Multihash code of the identity "hash".
const IDENTITY_MULTIHASH: u8 = 0x00;

/// The PeerId of an Ed25519 key (what libp2p derives from the node's keypair).
pub fn peer_id(key: &VerifyingKey) -> PeerId {
    let public = ed25519::PublicKey::try_from_bytes(key.as_bytes())
        // Both sides only check that the bytes are a valid compressed Edwards point, and a
        // `VerifyingKey` always is one.
        .expect("a VerifyingKey is a valid Ed25519 point");
    PublicKey::from(public).to_peer_id()
}

/// The Ed25519 key a PeerId was derived from, when it names one (PeerIds of Ed25519 keys embed
/// the key; PeerIds of other key types, or of keys hashed with SHA-256, do not give it back).
pub fn key_of_peer(peer: &PeerId) -> Option<VerifyingKey> {
    let bytes = peer.to_bytes();
    // [code][digest length][digest]: both varints are one byte for an identity multihash of
    // at most 42 bytes.
    let (&code, rest) = bytes.split_first()?;
    let (&len, digest) = rest.split_first()?;
    if code != IDENTITY_MULTIHASH || usize::from(len) != digest.len() {
        return None;
    }
    let public = PublicKey::try_decode_protobuf(digest).ok()?;
    let ed = public.try_into_ed25519().ok()?;
    VerifyingKey::from_bytes(&ed.to_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use libp2p_identity::Keypair;

    use super::*;

    #[test]
    fn peer_ids_and_keys_are_the_same_key() {
        let mut secret = [7u8; 32];
        let signing = talos_chain::SigningKey::from_bytes(&secret);
        let keypair = Keypair::ed25519_from_bytes(&mut secret[..]).unwrap();
        let libp2p_peer = keypair.public().to_peer_id();
        assert_eq!(peer_id(&signing.verifying_key()), libp2p_peer);
        assert_eq!(key_of_peer(&libp2p_peer), Some(signing.verifying_key()));
    }

    #[test]
    fn peer_ids_without_an_embedded_ed25519_key_give_none() {
        // A SHA-256 multihash (what PeerIds of large keys are): the key is not in it.
        let mut sha256 = vec![0x12, 0x20];
        sha256.extend_from_slice(&[1; 32]);
        assert_eq!(key_of_peer(&PeerId::from_bytes(&sha256).unwrap()), None);
        // An identity multihash of bytes that are not a public key.
        assert_eq!(
            key_of_peer(&PeerId::from_bytes(&[0x00, 0x02, 0x08, 0x01]).unwrap()),
            None
        );
    }
}
