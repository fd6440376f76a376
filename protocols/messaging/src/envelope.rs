//! The signed envelope around a ratchet message.
//!
//! An [`Envelope`] exists only sealed by its sender ([`Envelope::seal`]) or decoded with its
//! signature checked ([`crate::decode_envelope`]), so holding one means its sender signed it.
//! The signature covers [`Envelope::signing_bytes`]: a domain tag, then every field in a fixed
//! order, variable-length ones length-prefixed, keys as their 32 raw bytes (a `did:key` is one
//! spelling of one key, so the string adds nothing to sign). Mailbox nodes check it before they
//! store anything, so nobody can fill an agent's mailbox in another agent's name.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::EnvelopeError;
use crate::limits::{
    MAX_CIPHERTEXT_BYTES, MAX_HANDSHAKE_BYTES, MAX_HEADER_BYTES, MIN_CIPHERTEXT_BYTES,
    MIN_HEADER_BYTES,
};

/// The envelope format this build writes and reads.
pub const ENVELOPE_VERSION: u32 = 1;

/// Domain tag of the signing bytes.
const SIGNING_TAG: &[u8] = b"talos/msg/envelope/v1\0";

/// Domain tag of the envelope hash.
const HASH_TAG: &[u8] = b"talos/msg/envelope-hash/v1\0";

/// The id a recipient de-duplicates by: 16 random bytes chosen by the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    /// Its bytes as lowercase hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// What commits to a whole envelope, signature included: SHA-256 over a domain tag, the
/// signing bytes and the signature. A sender anchors it on chain (`--anchor`) to prove later
/// that the message was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EnvelopeHash(pub [u8; 32]);

/// The encrypted parts a sender seals: what the ratchet produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedParts {
    /// The encrypted ratchet header.
    pub header: Vec<u8>,
    /// The encrypted message.
    pub ciphertext: Vec<u8>,
    /// The X3DH initial message, on a session's first messages.
    pub handshake: Option<Vec<u8>>,
}

/// An encrypted message from one agent to another, signed by the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    sender: VerifyingKey,
    recipient: VerifyingKey,
    message_id: MessageId,
    timestamp_ms: u64,
    parts: SealedParts,
    signature: Signature,
}

impl Envelope {
    /// Seals `parts` from `sender` to `recipient`. Fails when a part is over its cap or the
    /// envelope would be addressed to its sender.
    pub fn seal(
        sender: &SigningKey,
        recipient: VerifyingKey,
        message_id: MessageId,
        timestamp_ms: u64,
        parts: SealedParts,
    ) -> Result<Self, EnvelopeError> {
        let mut envelope = Self {
            sender: sender.verifying_key(),
            recipient,
            message_id,
            timestamp_ms,
            parts,
            signature: Signature::from_bytes(&[0; 64]),
        };
        envelope.check_fields()?;
        let bytes = envelope.signing_bytes();
        envelope.signature = sender.sign(&bytes);
        Ok(envelope)
    }

    /// An envelope as decoded from the wire: checked fields and signature.
    pub(crate) fn verified(
        sender: VerifyingKey,
        recipient: VerifyingKey,
        message_id: MessageId,
        timestamp_ms: u64,
        parts: SealedParts,
        signature: Signature,
    ) -> Result<Self, EnvelopeError> {
        let envelope = Self {
            sender,
            recipient,
            message_id,
            timestamp_ms,
            parts,
            signature,
        };
        envelope.check_fields()?;
        envelope
            .sender
            .verify_strict(&envelope.signing_bytes(), &envelope.signature)
            .map_err(|_| EnvelopeError::BadSignature)?;
        Ok(envelope)
    }

    fn check_fields(&self) -> Result<(), EnvelopeError> {
        if self.sender == self.recipient {
            return Err(EnvelopeError::SelfAddressed);
        }
        // An empty handshake would be signed as present but travel as absent.
        let (handshake_len, handshake_min) = match &self.parts.handshake {
            Some(h) => (h.len(), 1),
            None => (0, 0),
        };
        let parts = &self.parts;
        for (field, len, min, max) in [
            (
                "header",
                parts.header.len(),
                MIN_HEADER_BYTES,
                MAX_HEADER_BYTES,
            ),
            (
                "ciphertext",
                parts.ciphertext.len(),
                MIN_CIPHERTEXT_BYTES,
                MAX_CIPHERTEXT_BYTES,
            ),
            (
                "handshake",
                handshake_len,
                handshake_min,
                MAX_HANDSHAKE_BYTES,
            ),
        ] {
            if len < min {
                return Err(EnvelopeError::FieldTooSmall { field, len, min });
            }
            if len > max {
                return Err(EnvelopeError::FieldTooLarge { field, len, max });
            }
        }
        Ok(())
    }

    /// What the signature covers: the domain tag, the version, both keys, the message id, the
    /// timestamp, then header, ciphertext and handshake each length-prefixed (the handshake
    /// after a presence byte).
    pub fn signing_bytes(&self) -> Vec<u8> {
        let parts = &self.parts;
        let mut out = Vec::with_capacity(
            SIGNING_TAG.len() + 128 + parts.header.len() + parts.ciphertext.len(),
        );
        out.extend_from_slice(SIGNING_TAG);
        out.extend_from_slice(&ENVELOPE_VERSION.to_be_bytes());
        out.extend_from_slice(self.sender.as_bytes());
        out.extend_from_slice(self.recipient.as_bytes());
        out.extend_from_slice(&self.message_id.0);
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        push_prefixed(&mut out, &parts.header);
        push_prefixed(&mut out, &parts.ciphertext);
        match &parts.handshake {
            Some(handshake) => {
                out.push(1);
                push_prefixed(&mut out, handshake);
            }
            None => out.push(0),
        }
        out
    }

    /// The hash that commits to this envelope, signature included.
    pub fn hash(&self) -> EnvelopeHash {
        let mut h = Sha256::new();
        h.update(HASH_TAG);
        h.update(self.signing_bytes());
        h.update(self.signature.to_bytes());
        EnvelopeHash(h.finalize().into())
    }

    /// The sender's key.
    pub fn sender(&self) -> &VerifyingKey {
        &self.sender
    }

    /// The recipient's key.
    pub fn recipient(&self) -> &VerifyingKey {
        &self.recipient
    }

    /// The sender's `did:key`.
    pub fn sender_did(&self) -> String {
        talos_identity::did_key(&self.sender)
    }

    /// The recipient's `did:key`.
    pub fn recipient_did(&self) -> String {
        talos_identity::did_key(&self.recipient)
    }

    /// The message id.
    pub fn message_id(&self) -> MessageId {
        self.message_id
    }

    /// The sender's clock when it sealed the envelope (ms since the Unix epoch): the sender's
    /// word only.
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// The encrypted parts.
    pub fn parts(&self) -> &SealedParts {
        &self.parts
    }

    /// The sender's signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Bytes the encrypted parts take.
    pub fn payload_len(&self) -> usize {
        self.parts.header.len()
            + self.parts.ciphertext.len()
            + self.parts.handshake.as_ref().map_or(0, Vec::len)
    }
}

fn push_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    // Every part is capped far below 4 GiB before this runs.
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}
