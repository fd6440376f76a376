//! Keys and envelopes for the messaging tests.

#![allow(dead_code, unreachable_pub)]

use ed25519_dalek::SigningKey;
use talos_messaging::{Envelope, MessageId, SealedParts};

/// A deterministic agent key.
pub fn agent(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// Parts of `n` ciphertext bytes.
pub fn parts(n: usize) -> SealedParts {
    SealedParts {
        header: vec![7; 72],
        ciphertext: vec![9; n],
        handshake: None,
    }
}

/// A message id from a number.
pub fn id(n: u64) -> MessageId {
    let mut b = [0; 16];
    b[..8].copy_from_slice(&n.to_be_bytes());
    MessageId(b)
}

/// An envelope from agent `from` to agent `to`, id `n`, sealed at `now_ms`.
pub fn envelope(from: u8, to: u8, n: u64, now_ms: u64) -> Envelope {
    Envelope::seal(
        &agent(from),
        agent(to).verifying_key(),
        id(n),
        now_ms,
        parts(100),
    )
    .expect("sealed")
}
