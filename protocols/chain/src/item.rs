//! Signed items: what blocks carry and what SPV proofs prove.
//!
//! An item is signed by its author with Ed25519 over
//! `"talos/item/v1\0" ‖ network_id ‖ canonical(unsigned item)`, so a signature made for one
//! network or one purpose is never valid for another. The item id is SHA-256 of the canonical
//! signed encoding (`canonical(unsigned) ‖ signature`). Ids and the encoded length are computed
//! once, when the item is built, so an item is immutable.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::canonical::{Writer, var_len};
use crate::hash::Hash256;

/// Domain separator for item signatures.
pub const ITEM_SIGNING_DOMAIN: &[u8] = b"talos/item/v1\0";

/// Anchor of a content hash (e.g. a message or file digest).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Anchor {
    /// Hash of the anchored content.
    pub content_hash: Hash256,
    /// Short free-form label.
    pub label: String,
}

/// An audit event, e.g. one tool call by an agent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AuditEvent {
    /// What acted or was acted on.
    pub subject: String,
    /// What happened.
    pub action: String,
    /// Outcome code.
    pub outcome: String,
    /// Hash of the full event details kept off chain.
    pub details_hash: Hash256,
}

/// Anchor of a DID document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DidAnchor {
    /// The DID.
    pub did: String,
    /// Hash of the canonical DID document.
    pub document_hash: Hash256,
}

/// Revocation of a capability.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Revocation {
    /// Id of the revoked capability.
    pub capability_id: Hash256,
    /// Free-form reason.
    pub reason: String,
}

/// What an item says. Unknown kinds cannot be represented: the wire decoder rejects them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// Anchor of a content hash.
    Anchor(Anchor),
    /// Audit event.
    AuditEvent(AuditEvent),
    /// DID document anchor.
    DidAnchor(DidAnchor),
    /// Capability revocation.
    Revocation(Revocation),
}

impl ItemKind {
    /// Stable name of the kind (API output, metrics labels).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Anchor(_) => "anchor",
            Self::AuditEvent(_) => "audit_event",
            Self::DidAnchor(_) => "did_anchor",
            Self::Revocation(_) => "revocation",
        }
    }

    fn tag(&self) -> u8 {
        match self {
            Self::Anchor(_) => 1,
            Self::AuditEvent(_) => 2,
            Self::DidAnchor(_) => 3,
            Self::Revocation(_) => 4,
        }
    }

    fn encoded_len(&self) -> usize {
        1 + match self {
            Self::Anchor(a) => 32 + var_len(a.label.len()),
            Self::AuditEvent(e) => {
                var_len(e.subject.len()) + var_len(e.action.len()) + var_len(e.outcome.len()) + 32
            }
            Self::DidAnchor(d) => var_len(d.did.len()) + 32,
            Self::Revocation(r) => 32 + var_len(r.reason.len()),
        }
    }

    fn write(&self, w: &mut Writer) {
        w.u8(self.tag());
        match self {
            Self::Anchor(a) => {
                w.fixed(&a.content_hash.0).var(a.label.as_bytes());
            }
            Self::AuditEvent(e) => {
                w.var(e.subject.as_bytes())
                    .var(e.action.as_bytes())
                    .var(e.outcome.as_bytes())
                    .fixed(&e.details_hash.0);
            }
            Self::DidAnchor(d) => {
                w.var(d.did.as_bytes()).fixed(&d.document_hash.0);
            }
            Self::Revocation(r) => {
                w.fixed(&r.capability_id.0).var(r.reason.as_bytes());
            }
        }
    }
}

/// The part of an item its author signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedItem {
    /// The author's Ed25519 key (already checked to be a valid, non-weak point).
    pub author: VerifyingKey,
    /// Author-chosen nonce; (author, nonce) is unique in the best chain.
    pub nonce: u64,
    /// Creation time in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// What the item says.
    pub kind: ItemKind,
}

impl UnsignedItem {
    /// Length of the canonical encoding.
    pub fn encoded_len(&self) -> usize {
        32 + 8 + 8 + self.kind.encoded_len()
    }

    fn write(&self, w: &mut Writer) {
        w.fixed(self.author.as_bytes())
            .u64(self.nonce)
            .u64(self.timestamp_ms);
        self.kind.write(w);
    }

    /// The exact bytes the author signs on `network_id`.
    pub fn signing_bytes(&self, network_id: u32) -> Vec<u8> {
        let mut w = Writer::with_capacity(ITEM_SIGNING_DOMAIN.len() + 4 + self.encoded_len());
        w.fixed(ITEM_SIGNING_DOMAIN).u32(network_id);
        self.write(&mut w);
        w.finish()
    }

    /// Signs the item for `network_id`.
    pub fn sign(self, key: &SigningKey, network_id: u32) -> SignedItem {
        let signature = key.sign(&self.signing_bytes(network_id));
        SignedItem::new(self, signature)
    }
}

/// An item with its author's signature. Build with [`SignedItem::new`] or
/// [`UnsignedItem::sign`]; the id and encoded length are fixed at construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedItem {
    item: UnsignedItem,
    signature: Signature,
    id: Hash256,
    encoded_len: usize,
}

/// An item's signature does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("item signature does not verify")]
pub struct BadSignature;

impl SignedItem {
    /// Wraps an item and a signature (not verified here; see [`SignedItem::verify`]).
    pub fn new(item: UnsignedItem, signature: Signature) -> Self {
        let encoded_len = item.encoded_len() + Signature::BYTE_SIZE;
        let mut w = Writer::with_capacity(encoded_len);
        item.write(&mut w);
        w.fixed(&signature.to_bytes());
        let id = Hash256::sha256(&w.finish());
        Self {
            item,
            signature,
            id,
            encoded_len,
        }
    }

    /// The item id: SHA-256 of the canonical signed encoding.
    pub fn id(&self) -> Hash256 {
        self.id
    }

    /// The unsigned content.
    pub fn item(&self) -> &UnsignedItem {
        &self.item
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The author's key.
    pub fn author(&self) -> &VerifyingKey {
        &self.item.author
    }

    /// The author's nonce.
    pub fn nonce(&self) -> u64 {
        self.item.nonce
    }

    /// Length of the canonical signed encoding: what size limits count.
    pub fn encoded_len(&self) -> usize {
        self.encoded_len
    }

    /// Verifies the signature for `network_id` under the ZIP 215 rules (see
    /// [`verify_batch`]): the same verdict a block's batch verification reaches.
    pub fn verify(&self, network_id: u32) -> Result<(), BadSignature> {
        let key = ed25519_consensus::VerificationKey::try_from(self.item.author.to_bytes())
            .map_err(|_| BadSignature)?;
        let signature = ed25519_consensus::Signature::from(self.signature.to_bytes());
        key.verify(&signature, &self.item.signing_bytes(network_id))
            .map_err(|_| BadSignature)
    }
}

/// Verifies many item signatures at once with Ed25519 batch verification.
///
/// Signing uses `ed25519-dalek`; verification, single and batched, uses `ed25519-consensus`,
/// which implements ZIP 215: batch and single verification accept exactly the same signatures.
/// (With other libraries a crafted signature can pass a batch but fail alone, so a block could
/// hold an item that the mempool or a light client rejects.) The batch's random coefficients
/// come from a SHA-256 transcript of the whole batch, so verification is deterministic and needs
/// no system randomness. On failure, finds the first failing item with single verification.
pub fn verify_batch(items: &[SignedItem], network_id: u32) -> Result<(), BatchError> {
    if items.is_empty() {
        return Ok(());
    }
    let messages: Vec<Vec<u8>> = items
        .iter()
        .map(|i| i.item.signing_bytes(network_id))
        .collect();
    let mut transcript = Sha256::new();
    transcript.update(b"talos/item-batch/v1");
    let mut verifier = ed25519_consensus::batch::Verifier::new();
    for (item, message) in items.iter().zip(&messages) {
        let key = ed25519_consensus::VerificationKeyBytes::from(item.item.author.to_bytes());
        let signature = item.signature.to_bytes();
        transcript.update(item.id.0);
        verifier.queue((key, ed25519_consensus::Signature::from(signature), message));
    }
    let rng = TranscriptRng::new(transcript.finalize().into());
    if verifier.verify(rng).is_ok() {
        return Ok(());
    }
    let index = items.iter().position(|i| i.verify(network_id).is_err());
    Err(BatchError { index })
}

/// A deterministic CSPRNG for batch coefficients: SHA-256 in counter mode over a seed that
/// commits to every (key, message, signature) of the batch (through the item ids), so a signer
/// cannot choose signatures that cancel out under the coefficients.
struct TranscriptRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl TranscriptRng {
    fn new(seed: [u8; 32]) -> Self {
        Self {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl rand_core::RngCore for TranscriptRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            if self.used == self.block.len() {
                let mut h = Sha256::new();
                h.update(self.seed);
                h.update(self.counter.to_le_bytes());
                self.block = h.finalize().into();
                self.counter = self.counter.wrapping_add(1);
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for TranscriptRng {}

/// A batch of signatures failed to verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("item signature batch does not verify (first bad item: {index:?})")]
pub struct BatchError {
    /// Index of the first item whose signature fails on its own, if one does.
    pub index: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn anchor(key: &SigningKey, nonce: u64) -> UnsignedItem {
        UnsignedItem {
            author: key.verifying_key(),
            nonce,
            timestamp_ms: 1_700_000_000_000,
            kind: ItemKind::Anchor(Anchor {
                content_hash: Hash256::sha256(b"hello"),
                label: "greeting".into(),
            }),
        }
    }

    #[test]
    fn signed_item_verifies_only_on_its_network() {
        let k = key(1);
        let item = anchor(&k, 0).sign(&k, 9);
        assert_eq!(item.verify(9), Ok(()));
        assert_eq!(item.verify(10), Err(BadSignature));
    }

    #[test]
    fn encoded_len_matches_encoding() {
        let k = key(2);
        let u = anchor(&k, 5);
        let mut w = Writer::default();
        u.write(&mut w);
        assert_eq!(w.finish().len(), u.encoded_len());
        assert_eq!(
            u.sign(&k, 1).encoded_len(),
            anchor(&k, 5).encoded_len() + 64
        );
    }

    #[test]
    fn id_depends_on_content_and_signature() {
        let k = key(3);
        let a = anchor(&k, 1).sign(&k, 1);
        let b = anchor(&k, 2).sign(&k, 1);
        assert_ne!(a.id(), b.id());
        let forged = SignedItem::new(a.item().clone(), *b.signature());
        assert_ne!(forged.id(), a.id());
        assert!(forged.verify(1).is_err());
    }

    #[test]
    fn batch_finds_the_bad_item() {
        let k = key(4);
        let mut items: Vec<_> = (0..10).map(|n| anchor(&k, n).sign(&k, 1)).collect();
        assert_eq!(verify_batch(&items, 1), Ok(()));
        items[6] = SignedItem::new(items[6].item().clone(), *items[2].signature());
        assert_eq!(verify_batch(&items, 1), Err(BatchError { index: Some(6) }));
    }
}
