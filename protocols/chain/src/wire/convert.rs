//! Conversions between the prost wire types and the domain types.
//!
//! Domain → wire is infallible (`From`). Wire → domain (`TryFrom`) checks every field's length
//! and range; limits that need the network spec are applied by the byte-level decoders in
//! [`super`].

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

impl From<&BlockHeader> for pb::BlockHeader {
    fn from(h: &BlockHeader) -> Self {
        Self {
            version: h.version,
            network_id: h.network_id,
            height: h.height,
            prev_hash: h.prev_hash.0.to_vec(),
            merkle_root: h.merkle_root.0.to_vec(),
            item_count: h.item_count,
            timestamp_ms: h.timestamp_ms,
            compact_target: h.target.0,
            nonce: h.nonce,
        }
    }
}

impl TryFrom<pb::BlockHeader> for BlockHeader {
    type Error = DecodeError;

    fn try_from(h: pb::BlockHeader) -> Result<Self, DecodeError> {
        Ok(Self {
            version: h.version,
            network_id: h.network_id,
            height: h.height,
            prev_hash: hash("header.prev_hash", &h.prev_hash)?,
            merkle_root: hash("header.merkle_root", &h.merkle_root)?,
            item_count: h.item_count,
            timestamp_ms: h.timestamp_ms,
            target: CompactTarget(h.compact_target),
            nonce: h.nonce,
        })
    }
}

impl From<&ItemKind> for pb::unsigned_item::Kind {
    fn from(kind: &ItemKind) -> Self {
        use pb::unsigned_item::Kind;
        match kind {
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

impl TryFrom<pb::unsigned_item::Kind> for ItemKind {
    type Error = DecodeError;

    fn try_from(kind: pb::unsigned_item::Kind) -> Result<Self, DecodeError> {
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

impl From<&SignedItem> for pb::SignedItem {
    fn from(s: &SignedItem) -> Self {
        let item = s.item();
        Self {
            item: Some(pb::UnsignedItem {
                author: item.author.as_bytes().to_vec(),
                nonce: item.nonce,
                timestamp_ms: item.timestamp_ms,
                kind: Some((&item.kind).into()),
            }),
            signature: s.signature().to_bytes().to_vec(),
        }
    }
}

impl TryFrom<pb::SignedItem> for SignedItem {
    type Error = DecodeError;

    fn try_from(s: pb::SignedItem) -> Result<Self, DecodeError> {
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
        let kind = item.kind.ok_or(DecodeError::UnknownItemKind)?.try_into()?;
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

impl From<&Block> for pb::Block {
    fn from(b: &Block) -> Self {
        Self {
            header: Some((&b.header).into()),
            items: b.items.iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<pb::Block> for Block {
    type Error = DecodeError;

    fn try_from(b: pb::Block) -> Result<Self, DecodeError> {
        let header = required("block.header", b.header)?.try_into()?;
        let items = b
            .items
            .into_iter()
            .map(SignedItem::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Self { header, items })
    }
}

impl From<&MerkleProof> for pb::MerkleProof {
    fn from(p: &MerkleProof) -> Self {
        Self {
            leaf_index: p.leaf_index,
            tree_size: p.tree_size,
            path: p.path.iter().map(|h| h.0.to_vec()).collect(),
        }
    }
}

impl TryFrom<pb::MerkleProof> for MerkleProof {
    type Error = DecodeError;

    fn try_from(p: pb::MerkleProof) -> Result<Self, DecodeError> {
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

impl From<&ItemProof> for pb::ItemProof {
    fn from(p: &ItemProof) -> Self {
        Self {
            item: Some((&p.item).into()),
            header: Some((&p.header).into()),
            proof: Some((&p.proof).into()),
        }
    }
}

impl TryFrom<pb::ItemProof> for ItemProof {
    type Error = DecodeError;

    fn try_from(p: pb::ItemProof) -> Result<Self, DecodeError> {
        Ok(Self {
            item: required("item_proof.item", p.item)?.try_into()?,
            header: required("item_proof.header", p.header)?.try_into()?,
            proof: required("item_proof.proof", p.proof)?.try_into()?,
        })
    }
}

impl From<&ChainStatus> for pb::NetworkStatus {
    fn from(s: &ChainStatus) -> Self {
        Self {
            network_id: s.network_id,
            genesis_hash: s.genesis_hash.0.to_vec(),
            tip_hash: s.tip_hash.0.to_vec(),
            tip_height: s.tip_height,
            cumulative_work: s.cumulative_work.to_be_bytes_trimmed(),
        }
    }
}

impl TryFrom<pb::NetworkStatus> for ChainStatus {
    type Error = DecodeError;

    fn try_from(s: pb::NetworkStatus) -> Result<Self, DecodeError> {
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
