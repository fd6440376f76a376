//! Talos gossip: the pure (no libp2p) half of block and item propagation.
//!
//! - [`topics`]: topic names per network (`/talos/<network>/blocks/1`,
//!   `/talos/<network>/items/1`) and which kind of payload a topic carries;
//! - [`message_id`]: the gossipsub message id, SHA-256 of the message data;
//! - [`codec`]: encode/decode of gossip payloads with the network's limits (bounded decoders,
//!   checked before anything is allocated) and the transmit-size cap gossipsub must allow;
//! - [`acceptance`]: [`Acceptance`] (`Accept` / `Reject` / `Ignore`), which the node turns
//!   into gossipsub's `MessageAcceptance`, and the verdict on payloads that do not decode.

pub mod acceptance;
pub mod codec;
pub mod topics;

pub use acceptance::Acceptance;
pub use codec::{
    GossipDecodeError, GossipPayload, TRANSMIT_HEADROOM_BYTES, decode_block, decode_item,
    decode_payload, encode_block, encode_item, max_transmit_size,
};
pub use topics::{TopicKind, Topics};

use sha2::{Digest, Sha256};

/// Length of a [`message_id`] in bytes.
pub const MESSAGE_ID_BYTES: usize = 32;

/// The gossipsub message id of a message with these data bytes: SHA-256 of the data.
///
/// Two peers publishing the same bytes produce the same id, so a block or item seen twice is
/// deduplicated by gossipsub whoever signed the envelope.
pub fn message_id(data: &[u8]) -> [u8; MESSAGE_ID_BYTES] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_sha256_of_data() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let id = message_id(b"abc");
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
        assert_ne!(message_id(b"abc"), message_id(b"abd"));
    }
}
