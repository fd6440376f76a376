//! The JSON shapes of every request and response of the API. Each derives both `Serialize`
//! (the server) and `Deserialize` (the CLI and any other client parse answers with these very
//! types). Hashes, keys and signatures are lower-case hex.

use serde::{Deserialize, Serialize};
use talos_chain::item::ItemKind;
use talos_chain::{Block, BlockHeader, ItemProof, SignedItem};
use talos_identity::did_key;
use talos_storage::ItemLocation;

use crate::backend::ChainPosition;

pub use crate::error::{ErrorBody, ErrorDetail};

/// What sync is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No peer is ahead of us.
    Idle,
    /// Downloading headers/blocks from peers ahead of us.
    Syncing {
        /// Best height the peer sync follows has announced.
        target_height: u64,
    },
}

/// `GET /v1/status`: the node's view of itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// Network name.
    pub network: String,
    /// Role (`bootstrap`, `full` or `light`).
    pub role: String,
    /// libp2p PeerId.
    pub peer_id: String,
    /// The same key as a `did:key`.
    pub did: String,
    /// Addresses the swarm listens on.
    pub listen_addrs: Vec<String>,
    /// Best tip id (hex).
    pub tip_id: String,
    /// Best tip height.
    pub tip_height: u64,
    /// Cumulative work of the best chain (decimal).
    pub cumulative_work: String,
    /// Connected peers.
    pub peers: usize,
    /// Items in the mempool.
    pub mempool_items: usize,
    /// Sync state.
    pub sync: SyncState,
    /// Whether this node mines.
    pub mining: bool,
    /// Resident memory of the node process in bytes (Linux `/proc`), when known.
    #[serde(default)]
    pub rss_bytes: Option<u64>,
    /// Bytes the node's store takes on disk, when known.
    #[serde(default)]
    pub disk_bytes: Option<u64>,
    /// Headers stored (light clients).
    #[serde(default)]
    pub headers_stored: Option<u64>,
}

/// An event of `GET /v1/events` (the SSE `data`; the SSE event name is its `type`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventJson {
    /// The best tip changed.
    NewTip {
        /// New tip id.
        id: String,
        /// New tip height.
        height: u64,
        /// Blocks disconnected by this change (0 for a plain extension).
        reorg_depth: u64,
    },
    /// A block was validated and stored (best chain or side branch).
    BlockImported {
        /// Block id.
        id: String,
        /// Its height.
        height: u64,
        /// Where it came from: `gossip`, `sync`, `mined` or `stored`.
        source: String,
    },
    /// A header joined the best header chain (light clients).
    NewHeader {
        /// Its id.
        id: String,
        /// Its height.
        height: u64,
    },
    /// An item entered the mempool.
    NewItem {
        /// Item id.
        id: String,
    },
    /// The subscriber fell behind and missed events.
    Lagged {
        /// How many.
        missed: u64,
    },
}

impl EventJson {
    /// The SSE event name (`new_tip`, `block_imported`, `new_item`, `lagged`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::NewTip { .. } => "new_tip",
            Self::BlockImported { .. } => "block_imported",
            Self::NewHeader { .. } => "new_header",
            Self::NewItem { .. } => "new_item",
            Self::Lagged { .. } => "lagged",
        }
    }
}

/// A block header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderJson {
    /// Block id.
    pub id: String,
    /// Format version.
    pub version: u32,
    /// Network id.
    pub network_id: u32,
    /// Height.
    pub height: u64,
    /// Parent id.
    pub prev_hash: String,
    /// Merkle root over the item ids.
    pub merkle_root: String,
    /// Number of items.
    pub item_count: u32,
    /// Block time (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// Compact target, hex (`0x1f00ffff`).
    pub target: String,
    /// PoW nonce.
    pub nonce: u64,
}

impl From<&BlockHeader> for HeaderJson {
    fn from(h: &BlockHeader) -> Self {
        Self {
            id: h.id().to_hex(),
            version: h.version,
            network_id: h.network_id,
            height: h.height,
            prev_hash: h.prev_hash.to_hex(),
            merkle_root: h.merkle_root.to_hex(),
            item_count: h.item_count,
            timestamp_ms: h.timestamp_ms,
            target: h.target.to_string(),
            nonce: h.nonce,
        }
    }
}

/// What an item says, tagged by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KindJson {
    /// Anchor of a content hash.
    Anchor {
        /// Content hash.
        content_hash: String,
        /// Label.
        label: String,
    },
    /// Audit event.
    AuditEvent {
        /// Subject.
        subject: String,
        /// Action.
        action: String,
        /// Outcome.
        outcome: String,
        /// Details hash.
        details_hash: String,
    },
    /// DID document anchor.
    DidAnchor {
        /// The DID.
        did: String,
        /// Document hash.
        document_hash: String,
    },
    /// Capability revocation.
    Revocation {
        /// Capability id.
        capability_id: String,
        /// Reason.
        reason: String,
    },
}

impl From<&ItemKind> for KindJson {
    fn from(k: &ItemKind) -> Self {
        match k {
            ItemKind::Anchor(a) => Self::Anchor {
                content_hash: a.content_hash.to_hex(),
                label: a.label.clone(),
            },
            ItemKind::AuditEvent(e) => Self::AuditEvent {
                subject: e.subject.clone(),
                action: e.action.clone(),
                outcome: e.outcome.clone(),
                details_hash: e.details_hash.to_hex(),
            },
            ItemKind::DidAnchor(d) => Self::DidAnchor {
                did: d.did.clone(),
                document_hash: d.document_hash.to_hex(),
            },
            ItemKind::Revocation(r) => Self::Revocation {
                capability_id: r.capability_id.to_hex(),
                reason: r.reason.clone(),
            },
        }
    }
}

/// A signed item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemJson {
    /// Item id.
    pub id: String,
    /// Author key.
    pub author: String,
    /// Author key as `did:key`.
    pub author_did: String,
    /// Author nonce.
    pub nonce: u64,
    /// Creation time (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// Content.
    pub kind: KindJson,
    /// Signature.
    pub signature: String,
    /// Canonical size in bytes.
    pub size: usize,
}

impl From<&SignedItem> for ItemJson {
    fn from(i: &SignedItem) -> Self {
        Self {
            id: i.id().to_hex(),
            author: hex::encode(i.author().as_bytes()),
            author_did: did_key(i.author()),
            nonce: i.nonce(),
            timestamp_ms: i.item().timestamp_ms,
            kind: KindJson::from(&i.item().kind),
            signature: hex::encode(i.signature().to_bytes()),
            size: i.encoded_len(),
        }
    }
}

/// The best tip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadJson {
    /// Tip id.
    pub id: String,
    /// Tip height.
    pub height: u64,
    /// Cumulative work (decimal).
    pub cumulative_work: String,
    /// Tip header.
    pub header: HeaderJson,
}

/// A block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockJson {
    /// Header.
    pub header: HeaderJson,
    /// Whether the block is on the best chain.
    pub best_chain: bool,
    /// Canonical size in bytes.
    pub size: usize,
    /// Items.
    pub items: Vec<ItemJson>,
}

impl BlockJson {
    /// A block and where it is.
    pub fn new(block: &Block, position: ChainPosition) -> Self {
        Self {
            header: HeaderJson::from(&block.header),
            best_chain: position == ChainPosition::Best,
            size: block.encoded_len(),
            items: block.items.iter().map(ItemJson::from).collect(),
        }
    }
}

/// Where a confirmed item is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationJson {
    /// Block id.
    pub block: String,
    /// Block height.
    pub height: u64,
    /// Index in the block (Merkle leaf index).
    pub position: u32,
    /// Blocks on top of it, counting its own (1 = in the tip).
    pub confirmations: u64,
}

impl LocationJson {
    /// A location, given the tip height.
    pub fn new(loc: &ItemLocation, tip_height: u64) -> Self {
        Self {
            block: loc.block.to_hex(),
            height: loc.height,
            position: loc.position,
            confirmations: tip_height.saturating_sub(loc.height).saturating_add(1),
        }
    }
}

/// An item looked up by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemStatusJson {
    /// `confirmed` (in the best chain) or `pending` (in the mempool).
    pub status: String,
    /// The item.
    pub item: ItemJson,
    /// Where it is, when confirmed.
    pub location: Option<LocationJson>,
}

/// An SPV proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofJson {
    /// The proven item.
    pub item: ItemJson,
    /// Id of the block holding it.
    pub block_id: String,
    /// That block's header.
    pub header: HeaderJson,
    /// Merkle leaf index.
    pub leaf_index: u64,
    /// Merkle tree size (the header's item count).
    pub tree_size: u64,
    /// Inclusion path, leaf to root.
    pub path: Vec<String>,
    /// Whether `ItemProof::verify` accepted it here.
    pub verified: bool,
    /// Its error code when it did not.
    pub verify_error: Option<String>,
    /// The proof as protobuf (`talos_chain::wire::encode_item_proof`), hex.
    pub proof_hex: String,
}

impl From<&ItemProof> for ProofJson {
    fn from(p: &ItemProof) -> Self {
        let check = p.verify();
        Self {
            item: ItemJson::from(&p.item),
            block_id: p.header.id().to_hex(),
            header: HeaderJson::from(&p.header),
            leaf_index: p.proof.leaf_index,
            tree_size: p.proof.tree_size,
            path: p.proof.path.iter().map(|h| h.to_hex()).collect(),
            verified: check.is_ok(),
            verify_error: check.err().map(|e| e.code().to_owned()),
            proof_hex: hex::encode(talos_chain::wire::encode_item_proof(p)),
        }
    }
}

/// Body of `POST /v1/items`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    /// The signed item, protobuf (`talos_chain::wire::encode_item`), hex.
    pub item: String,
}

/// Answer to `POST /v1/items`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResponse {
    /// The item id.
    pub id: String,
    /// `pending`: in the mempool, waiting for a block.
    pub status: String,
}

/// Answer to `GET /v1/peers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeersJson {
    /// Connected peers.
    pub peers: Vec<PeerJson>,
}

/// One connected peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerJson {
    /// PeerId.
    pub peer_id: String,
    /// Known addresses.
    pub addrs: Vec<String>,
    /// Agent version.
    pub agent: Option<String>,
    /// Gossipsub score.
    pub gossip_score: Option<f64>,
    /// Announced tip height.
    pub tip_height: Option<u64>,
}
