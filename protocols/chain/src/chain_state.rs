//! The chain state every header commits to (`state_root`): which capabilities are revoked and
//! which DID document is current, as one sparse Merkle tree ([`crate::state`]).
//!
//! Two kinds of entry share the tree, their keys separated by a domain prefix:
//!
//! - **revoked capabilities**: key `SHA-256("talos/state/revoked/v1\0" ‖ capability_id)`. The
//!   first revocation of an id in the chain sets it; later ones change nothing, so the entry
//!   says since when the capability is revoked. The value commits to the revoking item's id
//!   and height ([`RevocationRecord`]): a light client can fetch that item's inclusion proof to
//!   learn who revoked it and why.
//! - **current DID documents**: key `SHA-256("talos/state/did/v1\0" ‖ author ‖ did)`. Each DID
//!   anchor replaces the entry of its (author, DID) pair, so the entry is the latest anchor
//!   that author made for that DID ([`DidRecord`]). Keying by author means nobody can
//!   overwrite another's document: for a `did:key`, a client looks up the entry of the key the
//!   DID names, and anchors of that DID by anyone else never answer.
//!
//! Anchors and audit events leave the state unchanged. The root after a block is a function of
//! the state alone (the tree's shape does not depend on history), so a full node checks a
//! header's `state_root` by applying the block's entries to its parent's root, and rolling a
//! reorg back is nothing more than reading an older root.

use ed25519_dalek::VerifyingKey;

use crate::hash::Hash256;
use crate::item::{ItemKind, SignedItem};
use crate::state::{
    Node, NodeSource, SmtError, StateLookup, StateProof, StateProofError, StateWrite, WriteKind,
    WriteOutcome, apply_writes,
};

const REVOKED_DOMAIN: &[u8] = b"talos/state/revoked/v1\0";
const DID_DOMAIN: &[u8] = b"talos/state/did/v1\0";
const REVOCATION_VALUE_DOMAIN: &[u8] = b"talos/state/revocation-record/v1\0";
const DID_VALUE_DOMAIN: &[u8] = b"talos/state/did-record/v1\0";

/// The tree key of a revoked capability id.
pub fn revocation_key(capability_id: &Hash256) -> Hash256 {
    Hash256::sha256_parts(&[REVOKED_DOMAIN, capability_id.as_bytes()])
}

/// The tree key of the current DID document `author` anchored for `did`.
pub fn did_key(author: &VerifyingKey, did: &str) -> Hash256 {
    Hash256::sha256_parts(&[DID_DOMAIN, author.as_bytes(), did.as_bytes()])
}

/// What a revoked-capability entry commits to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RevocationRecord {
    /// The revocation item.
    pub item_id: Hash256,
    /// Height of the block that holds it.
    pub height: u64,
}

impl RevocationRecord {
    /// The tree value.
    pub fn value(&self) -> Hash256 {
        Hash256::sha256_parts(&[
            REVOCATION_VALUE_DOMAIN,
            self.item_id.as_bytes(),
            &self.height.to_be_bytes(),
        ])
    }
}

/// What a current-DID-document entry commits to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DidRecord {
    /// Hash of the anchored DID document.
    pub document_hash: Hash256,
    /// The DID anchor item.
    pub item_id: Hash256,
    /// Height of the block that holds it.
    pub height: u64,
}

impl DidRecord {
    /// The tree value.
    pub fn value(&self) -> Hash256 {
        Hash256::sha256_parts(&[
            DID_VALUE_DOMAIN,
            self.document_hash.as_bytes(),
            self.item_id.as_bytes(),
            &self.height.to_be_bytes(),
        ])
    }
}

/// What a state entry commits to: the preimage of its tree value. Full nodes keep records by
/// value hash so they can serve them with a proof; a light client checks
/// `record.value() == ` the proven value before believing a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateRecord {
    /// A revoked capability.
    Revocation(RevocationRecord),
    /// A current DID document.
    Did(DidRecord),
}

/// Length of [`StateRecord::encode`] for a revocation.
pub const REVOCATION_RECORD_BYTES: usize = 1 + 32 + 8;
/// Length of [`StateRecord::encode`] for a DID record.
pub const DID_RECORD_BYTES: usize = 1 + 32 + 32 + 8;

/// Bytes that are not a [`StateRecord`] encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed state record ({len} bytes)")]
pub struct RecordDecodeError {
    /// Length of the input.
    pub len: usize,
}

impl StateRecord {
    /// The tree value.
    pub fn value(&self) -> Hash256 {
        match self {
            Self::Revocation(r) => r.value(),
            Self::Did(d) => d.value(),
        }
    }

    /// The item that set the entry.
    pub fn item_id(&self) -> Hash256 {
        match self {
            Self::Revocation(r) => r.item_id,
            Self::Did(d) => d.item_id,
        }
    }

    /// Height of the block that holds that item.
    pub fn height(&self) -> u64 {
        match self {
            Self::Revocation(r) => r.height,
            Self::Did(d) => d.height,
        }
    }

    /// Tag byte (1 revocation, 2 DID) then the fields, big-endian.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Revocation(r) => {
                let mut out = Vec::with_capacity(REVOCATION_RECORD_BYTES);
                out.push(1);
                out.extend_from_slice(r.item_id.as_bytes());
                out.extend_from_slice(&r.height.to_be_bytes());
                out
            }
            Self::Did(d) => {
                let mut out = Vec::with_capacity(DID_RECORD_BYTES);
                out.push(2);
                out.extend_from_slice(d.document_hash.as_bytes());
                out.extend_from_slice(d.item_id.as_bytes());
                out.extend_from_slice(&d.height.to_be_bytes());
                out
            }
        }
    }

    /// Decodes [`StateRecord::encode`]; anything else is a typed error.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordDecodeError> {
        let bad = RecordDecodeError { len: bytes.len() };
        let hash = |at: usize| Hash256::from_slice(&bytes[at..at + 32]).ok_or(bad);
        let height = |at: usize| -> Result<u64, RecordDecodeError> {
            let b: [u8; 8] = bytes[at..at + 8].try_into().map_err(|_| bad)?;
            Ok(u64::from_be_bytes(b))
        };
        match (bytes.first(), bytes.len()) {
            (Some(1), REVOCATION_RECORD_BYTES) => Ok(Self::Revocation(RevocationRecord {
                item_id: hash(1)?,
                height: height(33)?,
            })),
            (Some(2), DID_RECORD_BYTES) => Ok(Self::Did(DidRecord {
                document_hash: hash(1)?,
                item_id: hash(33)?,
                height: height(65)?,
            })),
            _ => Err(bad),
        }
    }
}

/// The state a block leaves: its root, the tree nodes it created and the records of the
/// entries it set (stored with the block, so a full node can prove and explain any entry).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockState {
    /// The state root after the block.
    pub root: Hash256,
    /// Tree nodes created by the block.
    pub nodes: Vec<Node>,
    /// Records of the entries the block set, in key order.
    pub records: Vec<StateRecord>,
}

/// A full node's answer about one state key at one block: the tree proof and, when the key is
/// present, the record its value hashes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateAnswer {
    /// Membership or non-membership proof of the key under the block's state root.
    pub proof: StateProof,
    /// The entry's record (present keys only).
    pub record: Option<StateRecord>,
}

/// What a verified [`StateAnswer`] says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateFinding {
    /// The key is set; this is its record.
    Present(StateRecord),
    /// The key is not set.
    Absent,
}

/// Why a [`StateAnswer`] does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateAnswerError {
    /// The tree proof fails.
    #[error(transparent)]
    Proof(#[from] StateProofError),
    /// The key is present but no record came with it.
    #[error("the key is present but the answer has no record")]
    MissingRecord,
    /// The record does not hash to the proven value.
    #[error("the record does not hash to the proven value")]
    RecordMismatch,
    /// A record came with a proof of absence.
    #[error("a record came with a proof of absence")]
    UnexpectedRecord,
}

impl StateAnswerError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Proof(e) => e.code(),
            Self::MissingRecord => "missing_record",
            Self::RecordMismatch => "record_mismatch",
            Self::UnexpectedRecord => "unexpected_record",
        }
    }
}

impl StateAnswer {
    /// Checks the proof of `key` against `root` (a state root from a header the caller trusts)
    /// and the record against the proven value: the cheap comparisons first, then the hashes.
    pub fn verify(&self, root: &Hash256, key: &Hash256) -> Result<StateFinding, StateAnswerError> {
        match (self.proof.verify(root, key)?, &self.record) {
            (StateLookup::Present(value), Some(record)) if record.value() == value => {
                Ok(StateFinding::Present(*record))
            }
            (StateLookup::Present(_), Some(_)) => Err(StateAnswerError::RecordMismatch),
            (StateLookup::Present(_), None) => Err(StateAnswerError::MissingRecord),
            (StateLookup::Absent, Some(_)) => Err(StateAnswerError::UnexpectedRecord),
            (StateLookup::Absent, None) => Ok(StateFinding::Absent),
        }
    }
}

/// Whether an item changes the state.
pub fn changes_state(item: &SignedItem) -> bool {
    matches!(
        item.item().kind,
        ItemKind::Revocation(_) | ItemKind::DidAnchor(_)
    )
}

/// Applies the items of the block at `height` to the state with root `parent_root`: the
/// state root its header must carry, and the tree nodes and records to store with it. A block
/// without revocations or DID anchors reads nothing and returns `parent_root`.
///
/// One descent of the tree does it all: a revocation is an insert, which leaves a capability
/// the parent state already revokes as it is, so no separate lookup reads its path first.
pub fn apply_block<S: NodeSource>(
    source: &S,
    parent_root: Hash256,
    height: u64,
    items: &[SignedItem],
) -> Result<BlockState, SmtError<S::Error>> {
    let entries = block_entries(height, items);
    if entries.is_empty() {
        return Ok(BlockState {
            root: parent_root,
            ..BlockState::default()
        });
    }
    let writes: Vec<StateWrite> = entries.iter().map(|entry| entry.write()).collect();
    let WriteOutcome { delta, already_set } = apply_writes(source, parent_root, &writes)?;
    // Both sorted by key: the records of the revocations that found their key set go.
    let mut unchanged = already_set.iter().peekable();
    let records = entries
        .into_iter()
        .filter(|entry| unchanged.next_if_eq(&&entry.key).is_none())
        .map(|entry| entry.record)
        .collect();
    Ok(BlockState {
        root: delta.root,
        nodes: delta.nodes,
        records,
    })
}

/// A block's state entry: the key, the record and how it is written.
struct Entry {
    key: Hash256,
    record: StateRecord,
    kind: WriteKind,
}

impl Entry {
    /// The tree write of the entry.
    fn write(&self) -> StateWrite {
        StateWrite {
            key: self.key,
            value: self.record.value(),
            kind: self.kind,
        }
    }
}

/// The state entries of a block's items, sorted by key, one per key: a revocation only inserts
/// and the block's first one of a capability wins, a DID anchor sets and the last one of an
/// (author, DID) pair wins. Revocation and DID keys never meet: their domains differ.
fn block_entries(height: u64, items: &[SignedItem]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = items
        .iter()
        .filter_map(|item| item_entry(height, item))
        .collect();
    // Stable: one key's entries stay in block order.
    entries.sort_by_key(|entry| entry.key);
    entries.dedup_by(|later, kept| {
        let same = later.key == kept.key;
        if same && later.kind == WriteKind::Set {
            std::mem::swap(later, kept);
        }
        same
    });
    entries
}

/// The state entry of one item at `height`, `None` for items that leave the state as it is.
fn item_entry(height: u64, item: &SignedItem) -> Option<Entry> {
    match &item.item().kind {
        ItemKind::Revocation(r) => Some(Entry {
            key: revocation_key(&r.capability_id),
            record: StateRecord::Revocation(RevocationRecord {
                item_id: item.id(),
                height,
            }),
            kind: WriteKind::Insert,
        }),
        ItemKind::DidAnchor(d) => Some(Entry {
            key: did_key(item.author(), &d.did),
            record: StateRecord::Did(DidRecord {
                document_hash: d.document_hash,
                item_id: item.id(),
                height,
            }),
            kind: WriteKind::Set,
        }),
        ItemKind::Anchor(_) | ItemKind::AuditEvent(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{Anchor, DidAnchor, Revocation, UnsignedItem};
    use crate::state::{EMPTY_ROOT, MemoryNodes, get};
    use ed25519_dalek::SigningKey;

    fn signed(seed: u8, nonce: u64, kind: ItemKind) -> SignedItem {
        let key = SigningKey::from_bytes(&[seed; 32]);
        UnsignedItem {
            author: key.verifying_key(),
            nonce,
            timestamp_ms: 1,
            kind,
        }
        .sign(&key, 1)
    }

    fn revoke(seed: u8, nonce: u64, cap: &[u8]) -> SignedItem {
        signed(
            seed,
            nonce,
            ItemKind::Revocation(Revocation {
                capability_id: Hash256::sha256(cap),
                reason: String::new(),
            }),
        )
    }

    fn anchor_did(seed: u8, nonce: u64, did: &str, doc: &[u8]) -> SignedItem {
        signed(
            seed,
            nonce,
            ItemKind::DidAnchor(DidAnchor {
                did: did.into(),
                document_hash: Hash256::sha256(doc),
            }),
        )
    }

    fn insert_all(nodes: &mut MemoryNodes, state: &BlockState) {
        for node in &state.nodes {
            nodes.insert(*node);
        }
    }

    #[test]
    fn records_round_trip_and_reject_other_bytes() {
        let records = [
            StateRecord::Revocation(RevocationRecord {
                item_id: Hash256::sha256(b"i"),
                height: 7,
            }),
            StateRecord::Did(DidRecord {
                document_hash: Hash256::sha256(b"d"),
                item_id: Hash256::sha256(b"i"),
                height: u64::MAX,
            }),
        ];
        for record in records {
            assert_eq!(StateRecord::decode(&record.encode()), Ok(record));
            let mut long = record.encode();
            long.push(0);
            assert!(StateRecord::decode(&long).is_err());
            assert!(StateRecord::decode(&long[..long.len() - 2]).is_err());
        }
        assert!(StateRecord::decode(&[]).is_err());
        assert!(StateRecord::decode(&[3; DID_RECORD_BYTES]).is_err());
    }

    #[test]
    fn blocks_without_state_items_keep_the_root_and_read_nothing() {
        let anchor = signed(
            1,
            0,
            ItemKind::Anchor(Anchor {
                content_hash: Hash256::ZERO,
                label: String::new(),
            }),
        );
        let root = Hash256::sha256(b"any root, its nodes unknown");
        let delta = apply_block(&MemoryNodes::new(), root, 5, &[anchor]).unwrap();
        assert_eq!((delta.root, delta.nodes.len()), (root, 0));
    }

    #[test]
    fn the_first_revocation_of_a_capability_wins() {
        let mut nodes = MemoryNodes::new();
        let first = revoke(1, 0, b"cap");
        let again = revoke(2, 0, b"cap");
        let delta = apply_block(&nodes, EMPTY_ROOT, 1, &[first.clone(), again.clone()]).unwrap();
        insert_all(&mut nodes, &delta);
        let key = revocation_key(&Hash256::sha256(b"cap"));
        let expected = RevocationRecord {
            item_id: first.id(),
            height: 1,
        };
        assert_eq!(
            get(&nodes, delta.root, &key).unwrap(),
            Some(expected.value())
        );
        assert_eq!(delta.records, vec![StateRecord::Revocation(expected)]);
        let later = apply_block(&nodes, delta.root, 2, &[again]).unwrap();
        assert_eq!(
            later.root, delta.root,
            "a second revocation changes nothing"
        );
        assert!(later.nodes.is_empty() && later.records.is_empty());
    }

    #[test]
    fn records_are_those_of_the_entries_set() {
        let mut nodes = MemoryNodes::new();
        let first = apply_block(&nodes, EMPTY_ROOT, 1, &[revoke(1, 0, b"old")]).unwrap();
        insert_all(&mut nodes, &first);
        let did = "did:key:z6MkExample";
        let items = [
            revoke(2, 0, b"old"),
            anchor_did(3, 0, did, b"v1"),
            revoke(2, 1, b"new"),
            anchor_did(3, 1, did, b"v2"),
        ];
        let state = apply_block(&nodes, first.root, 2, &items).unwrap();
        let new = StateRecord::Revocation(RevocationRecord {
            item_id: items[2].id(),
            height: 2,
        });
        let latest = StateRecord::Did(DidRecord {
            document_hash: Hash256::sha256(b"v2"),
            item_id: items[3].id(),
            height: 2,
        });
        let new_key = revocation_key(&Hash256::sha256(b"new"));
        let anchor_key = did_key(items[1].author(), did);
        let mut expected = vec![(new_key, new), (anchor_key, latest)];
        expected.sort_by_key(|(key, _)| *key);
        let records: Vec<_> = expected.iter().map(|(_, record)| *record).collect();
        assert_eq!(
            state.records, records,
            "in key order, without the old revocation"
        );
        insert_all(&mut nodes, &state);
        for (key, record) in expected {
            assert_eq!(get(&nodes, state.root, &key), Ok(Some(record.value())));
        }
        let old_key = revocation_key(&Hash256::sha256(b"old"));
        assert_eq!(
            get(&nodes, state.root, &old_key),
            get(&nodes, first.root, &old_key)
        );
    }

    #[test]
    fn the_latest_did_anchor_of_an_author_wins_and_authors_do_not_collide() {
        let mut nodes = MemoryNodes::new();
        let did = "did:key:z6MkExample";
        let one = apply_block(&nodes, EMPTY_ROOT, 1, &[anchor_did(1, 0, did, b"v1")]).unwrap();
        insert_all(&mut nodes, &one);
        let two = apply_block(&nodes, one.root, 2, &[anchor_did(1, 1, did, b"v2")]).unwrap();
        insert_all(&mut nodes, &two);
        let owner = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let current = get(&nodes, two.root, &did_key(&owner, did)).unwrap();
        let v2 = DidRecord {
            document_hash: Hash256::sha256(b"v2"),
            item_id: anchor_did(1, 1, did, b"v2").id(),
            height: 2,
        };
        assert_eq!(current, Some(v2.value()));
        let stranger = apply_block(&nodes, two.root, 3, &[anchor_did(9, 0, did, b"evil")]).unwrap();
        insert_all(&mut nodes, &stranger);
        assert_eq!(
            get(&nodes, stranger.root, &did_key(&owner, did)).unwrap(),
            Some(v2.value()),
            "another author's anchor of the same DID does not touch the owner's entry"
        );
    }
}
