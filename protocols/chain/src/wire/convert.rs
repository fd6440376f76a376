//! Conversions between the prost wire types and the domain types, private to this crate: other
//! crates see only bytes and domain types (the byte-level encoders and decoders in [`super`]).
//!
//! Domain → wire is infallible ([`ToWire`]). Wire → domain ([`FromWire`]) checks every field's
//! length and range; limits that need the network spec are applied by the byte-level decoders
//! in [`super`].

use ed25519_dalek::{Signature, VerifyingKey};
use talos_proto::chain as pb;

use super::DecodeError;
use crate::block::Block;
use crate::hash::Hash256;
use crate::header::BlockHeader;
use crate::item::{Anchor, AuditEvent, DidAnchor, ItemKind, Revocation, SignedItem, UnsignedItem};
use crate::merkle::MerkleProof;
use crate::pow::{CompactTarget, Work};
use crate::spv::ItemProof;
use crate::status::ChainStatus;

/// Longest Merkle path accepted: a tree of 2^64 leaves.
pub const MAX_PROOF_PATH: usize = 64;

fn hash(field: &'static str, bytes: &[u8]) -> Result<Hash256, DecodeError> {
    Hash256::from_slice(bytes).ok_or(DecodeError::BadLength {
        field,
        expected: 32,
        actual: bytes.len(),
    })
}

fn required<T>(field: &'static str, value: Option<T>) -> Result<T, DecodeError> {
    value.ok_or(DecodeError::Missing(field))
}

/// A domain type's prost form.
pub(crate) trait ToWire {
    /// The prost message.
    type Wire;
    /// The prost message of `self`.
    fn to_wire(&self) -> Self::Wire;
}

/// A domain type read back from its prost form, every field checked.
pub(crate) trait FromWire: Sized {
    /// The prost message.
    type Wire;
    /// The domain value, or why the message does not hold one.
    fn from_wire(wire: Self::Wire) -> Result<Self, DecodeError>;
}

impl ToWire for BlockHeader {
    type Wire = pb::BlockHeader;

    fn to_wire(&self) -> pb::BlockHeader {
        let h = self;
        pb::BlockHeader {
            version: h.version,
            network_id: h.network_id,
            height: h.height,
            prev_hash: h.prev_hash.0.to_vec(),
            merkle_root: h.merkle_root.0.to_vec(),
            state_root: h.state_root.0.to_vec(),
            item_count: h.item_count,
            timestamp_ms: h.timestamp_ms,
            compact_target: h.target.0,
            nonce: h.nonce,
        }
    }
}

impl FromWire for BlockHeader {
    type Wire = pb::BlockHeader;

    fn from_wire(h: pb::BlockHeader) -> Result<Self, DecodeError> {
        Ok(Self {
            version: h.version,
            network_id: h.network_id,
            height: h.height,
            prev_hash: hash("header.prev_hash", &h.prev_hash)?,
            merkle_root: hash("header.merkle_root", &h.merkle_root)?,
            state_root: hash("header.state_root", &h.state_root)?,
            item_count: h.item_count,
            timestamp_ms: h.timestamp_ms,
            target: CompactTarget(h.compact_target),
            nonce: h.nonce,
        })
    }
}

impl ToWire for ItemKind {
    type Wire = pb::unsigned_item::Kind;

    fn to_wire(&self) -> pb::unsigned_item::Kind {
        use pb::unsigned_item::Kind;
        match self {
            ItemKind::Anchor(a) => Kind::Anchor(pb::Anchor {
                content_hash: a.content_hash.0.to_vec(),
                label: a.label.clone(),
            }),
            ItemKind::AuditEvent(e) => Kind::AuditEvent(pb::AuditEvent {
                subject: e.subject.clone(),
                action: e.action.clone(),
                outcome: e.outcome.clone(),
                details_hash: e.details_hash.0.to_vec(),
            }),
            ItemKind::DidAnchor(d) => Kind::DidAnchor(pb::DidAnchor {
                did: d.did.clone(),
                document_hash: d.document_hash.0.to_vec(),
            }),
            ItemKind::Revocation(r) => Kind::Revocation(pb::Revocation {
                capability_id: r.capability_id.0.to_vec(),
                reason: r.reason.clone(),
            }),
        }
    }
}

impl FromWire for ItemKind {
    type Wire = pb::unsigned_item::Kind;

    fn from_wire(kind: pb::unsigned_item::Kind) -> Result<Self, DecodeError> {
        use pb::unsigned_item::Kind;
        Ok(match kind {
            Kind::Anchor(a) => ItemKind::Anchor(Anchor {
                content_hash: hash("anchor.content_hash", &a.content_hash)?,
                label: a.label,
            }),
            Kind::AuditEvent(e) => ItemKind::AuditEvent(AuditEvent {
                subject: e.subject,
                action: e.action,
                outcome: e.outcome,
                details_hash: hash("audit_event.details_hash", &e.details_hash)?,
            }),
            Kind::DidAnchor(d) => ItemKind::DidAnchor(DidAnchor {
                did: d.did,
                document_hash: hash("did_anchor.document_hash", &d.document_hash)?,
            }),
            Kind::Revocation(r) => ItemKind::Revocation(Revocation {
                capability_id: hash("revocation.capability_id", &r.capability_id)?,
                reason: r.reason,
            }),
        })
    }
}

impl ToWire for SignedItem {
    type Wire = pb::SignedItem;

    fn to_wire(&self) -> pb::SignedItem {
        let s = self;
        let item = s.item();
        pb::SignedItem {
            item: Some(pb::UnsignedItem {
                author: item.author.as_bytes().to_vec(),
                nonce: item.nonce,
                timestamp_ms: item.timestamp_ms,
                kind: Some(item.kind.to_wire()),
            }),
            signature: s.signature().to_bytes().to_vec(),
        }
    }
}

impl FromWire for SignedItem {
    type Wire = pb::SignedItem;

    fn from_wire(s: pb::SignedItem) -> Result<Self, DecodeError> {
        let item = required("signed_item.item", s.item)?;
        let author_bytes: [u8; 32] =
            item.author
                .as_slice()
                .try_into()
                .map_err(|_| DecodeError::BadLength {
                    field: "item.author",
                    expected: 32,
                    actual: item.author.len(),
                })?;
        let author =
            VerifyingKey::from_bytes(&author_bytes).map_err(|_| DecodeError::BadAuthorKey)?;
        if author.is_weak() {
            return Err(DecodeError::WeakAuthorKey);
        }
        let signature_bytes: [u8; 64] =
            s.signature
                .as_slice()
                .try_into()
                .map_err(|_| DecodeError::BadLength {
                    field: "item.signature",
                    expected: 64,
                    actual: s.signature.len(),
                })?;
        let kind = ItemKind::from_wire(item.kind.ok_or(DecodeError::UnknownItemKind)?)?;
        let unsigned = UnsignedItem {
            author,
            nonce: item.nonce,
            timestamp_ms: item.timestamp_ms,
            kind,
        };
        Ok(SignedItem::new(
            unsigned,
            Signature::from_bytes(&signature_bytes),
        ))
    }
}

impl ToWire for Block {
    type Wire = pb::Block;

    fn to_wire(&self) -> pb::Block {
        let b = self;
        pb::Block {
            header: Some(b.header.to_wire()),
            items: b.items.iter().map(ToWire::to_wire).collect(),
        }
    }
}

impl FromWire for Block {
    type Wire = pb::Block;

    fn from_wire(b: pb::Block) -> Result<Self, DecodeError> {
        let header = BlockHeader::from_wire(required("block.header", b.header)?)?;
        let items = b
            .items
            .into_iter()
            .map(SignedItem::from_wire)
            .collect::<Result<_, _>>()?;
        Ok(Self { header, items })
    }
}

impl ToWire for MerkleProof {
    type Wire = pb::MerkleProof;

    fn to_wire(&self) -> pb::MerkleProof {
        let p = self;
        pb::MerkleProof {
            leaf_index: p.leaf_index,
            tree_size: p.tree_size,
            path: p.path.iter().map(|h| h.0.to_vec()).collect(),
        }
    }
}

impl FromWire for MerkleProof {
    type Wire = pb::MerkleProof;

    fn from_wire(p: pb::MerkleProof) -> Result<Self, DecodeError> {
        if p.path.len() > MAX_PROOF_PATH {
            return Err(DecodeError::TooMany {
                what: "proof path",
                max: MAX_PROOF_PATH,
            });
        }
        let path = p
            .path
            .iter()
            .map(|h| hash("proof.path", h))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            leaf_index: p.leaf_index,
            tree_size: p.tree_size,
            path,
        })
    }
}

impl ToWire for ItemProof {
    type Wire = pb::ItemProof;

    fn to_wire(&self) -> pb::ItemProof {
        let p = self;
        pb::ItemProof {
            item: Some(p.item.to_wire()),
            header: Some(p.header.to_wire()),
            proof: Some(p.proof.to_wire()),
        }
    }
}

impl FromWire for ItemProof {
    type Wire = pb::ItemProof;

    fn from_wire(p: pb::ItemProof) -> Result<Self, DecodeError> {
        Ok(Self {
            item: SignedItem::from_wire(required("item_proof.item", p.item)?)?,
            header: BlockHeader::from_wire(required("item_proof.header", p.header)?)?,
            proof: MerkleProof::from_wire(required("item_proof.proof", p.proof)?)?,
        })
    }
}

impl ToWire for ChainStatus {
    type Wire = pb::NetworkStatus;

    fn to_wire(&self) -> pb::NetworkStatus {
        let s = self;
        pb::NetworkStatus {
            network_id: s.network_id,
            genesis_hash: s.genesis_hash.0.to_vec(),
            tip_hash: s.tip_hash.0.to_vec(),
            tip_height: s.tip_height,
            cumulative_work: s.cumulative_work.to_be_bytes_trimmed(),
        }
    }
}

impl FromWire for ChainStatus {
    type Wire = pb::NetworkStatus;

    fn from_wire(s: pb::NetworkStatus) -> Result<Self, DecodeError> {
        Ok(Self {
            network_id: s.network_id,
            genesis_hash: hash("status.genesis_hash", &s.genesis_hash)?,
            tip_hash: hash("status.tip_hash", &s.tip_hash)?,
            tip_height: s.tip_height,
            cumulative_work: Work::from_be_slice(&s.cumulative_work).ok_or(
                DecodeError::BadLength {
                    field: "status.cumulative_work",
                    expected: 32,
                    actual: s.cumulative_work.len(),
                },
            )?,
        })
    }
}
