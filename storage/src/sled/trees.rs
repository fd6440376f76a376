//! The on-disk layout: logical trees ("spaces") as one-byte key prefixes inside the single sled
//! tree `chain`, typed and checksummed reads, and applying a write set as one [`sled::Batch`].
//!
//! | space     | prefix | key (after the prefix)        | payload                          |
//! |-----------|--------|-------------------------------|----------------------------------|
//! | `blocks`  | `0x01` | block id (32)                 | the block's wire encoding        |
//! | `headers` | `0x02` | block id (32)                 | cumulative work ‖ header wire    |
//! | `heights` | `0x03` | height, big-endian (8)        | best-chain block id (32)         |
//! | `items`   | `0x04` | item id (32)                  | block id ‖ height ‖ position     |
//! | `nonces`  | `0x05` | author key (32) ‖ nonce BE (8)| item id (32)                     |
//! | `meta`    | `0x06` | `tip`, `genesis`, `format`    | tip record, genesis id, version  |
//! | `state`   | `0x07` | node hash (32)                | state tree node (65)             |
//! | `records` | `0x08` | state value (32)              | state record (41 or 73)          |
//!
//! `state` holds the nodes of every state root a stored block commits to, addressed by hash, so
//! every branch's state is readable and a reorg rewrites nothing there.
//!
//! Every value is framed by [`seal`]: its checksum covers the space *name* and the key without
//! the prefix, so errors and checksums name the logical tree exactly as before the spaces
//! shared one sled tree. The key-value space of other protocols is a separate sled tree, `kv`:
//! its writes are never part of a chain commit.

use std::borrow::Cow;

use sled::{Batch, IVec, Tree};
use talos_chain::chain_state::StateRecord;
use talos_chain::spec::Limits;
use talos_chain::state::Node;
use talos_chain::wire::{decode_block, decode_header, encode_block, encode_header};
use talos_chain::{Block, Hash256};

use crate::codec::{
    NonceKey, decode_header_entry, decode_location, decode_tip, encode_header_entry,
    encode_location, encode_tip, height_key, key_display, seal, unseal,
};
use crate::error::{Result, StorageError};
use crate::plan::{PlanReader, WriteSet};
use crate::types::{ChainTip, HeaderEntry, ItemLocation};

/// The sled tree holding every chain space.
pub(crate) const CHAIN_TREE: &str = "chain";
/// The sled tree of the key-value space (also the name in its values' checksums).
pub(crate) const KV: &str = "kv";

/// Longest key of any space, without the prefix (a nonce key).
const MAX_SPACE_KEY: usize = 40;

/// A logical tree: a key prefix inside [`CHAIN_TREE`] and the name errors and checksums use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Space {
    /// Name in errors ([`StorageError::Corrupt`]'s `what`) and in value checksums.
    pub name: &'static str,
    /// First byte of every key of this space.
    pub prefix: u8,
}

/// Block bodies by id.
pub(crate) const BLOCKS: Space = Space {
    name: "blocks",
    prefix: 0x01,
};
/// Headers with cumulative work, by id.
pub(crate) const HEADERS: Space = Space {
    name: "headers",
    prefix: 0x02,
};
/// The best chain's height index.
pub(crate) const HEIGHTS: Space = Space {
    name: "heights",
    prefix: 0x03,
};
/// The best chain's item index.
pub(crate) const ITEMS: Space = Space {
    name: "items",
    prefix: 0x04,
};
/// The best chain's (author, nonce) index.
pub(crate) const NONCES: Space = Space {
    name: "nonces",
    prefix: 0x05,
};
/// Tip, genesis id and format version.
pub(crate) const META: Space = Space {
    name: "meta",
    prefix: 0x06,
};

/// State tree nodes by hash.
pub(crate) const STATE: Space = Space {
    name: "state",
    prefix: 0x07,
};

/// State records by the tree value they hash to.
pub(crate) const RECORDS: Space = Space {
    name: "records",
    prefix: 0x08,
};

/// Meta keys.
pub(crate) const META_TIP: &[u8] = b"tip";
pub(crate) const META_GENESIS: &[u8] = b"genesis";
pub(crate) const META_FORMAT: &[u8] = b"format";

/// The on-disk format this build reads and writes.
///
/// 1: one sled tree per space, one multi-tree transaction per commit.
/// 2: all chain spaces in the `chain` tree under one-byte prefixes, one batch per commit.
/// 3: headers carry a state root; the `state` space.
/// 4: state tree nodes hashed with one SHA-256 compression from a tagged midstate (node
///    addresses and non-empty state roots differ from format 3's).
pub(crate) const FORMAT_VERSION: u32 = 4;

/// Format 1's trees; their presence marks a store written by an older build.
pub(crate) const LEGACY_TREES: [&str; 6] =
    ["blocks", "headers", "heights", "items", "nonces", "meta"];

/// A prefixed key, built on the stack.
#[derive(Clone, Copy)]
pub(crate) struct SpaceKey {
    buf: [u8; 1 + MAX_SPACE_KEY],
    len: usize,
}

impl AsRef<[u8]> for SpaceKey {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Space {
    /// The full sled key of `key` in this space.
    pub(crate) fn key(self, key: &[u8]) -> SpaceKey {
        assert!(
            key.len() <= MAX_SPACE_KEY,
            "space keys are at most 40 bytes"
        );
        let mut buf = [0u8; 1 + MAX_SPACE_KEY];
        buf[0] = self.prefix;
        buf[1..=key.len()].copy_from_slice(key);
        SpaceKey {
            buf,
            len: 1 + key.len(),
        }
    }
}

fn backend(context: &'static str) -> impl FnOnce(sled::Error) -> StorageError {
    move |e| StorageError::backend(context, e)
}

/// Writes of one commit, named by space; applied atomically by [`Trees::apply_batch`].
#[derive(Default)]
pub(crate) struct ChainBatch {
    batch: Batch,
}

impl ChainBatch {
    /// Stores `payload` (sealed) under `key` in `space`.
    pub(crate) fn put(&mut self, space: Space, key: &[u8], payload: &[u8]) {
        self.batch
            .insert(space.key(key).as_ref(), seal(space.name, key, payload));
    }

    /// Removes `key` from `space`.
    pub(crate) fn delete(&mut self, space: Space, key: &[u8]) {
        self.batch.remove(space.key(key).as_ref());
    }
}

/// The trees of one store.
#[derive(Clone, Debug)]
pub(crate) struct Trees {
    /// Every chain space (see the module docs).
    pub chain: Tree,
    /// The key-value space.
    pub kv: Tree,
    /// Bounds every block decoded from disk.
    pub limits: Limits,
}

impl Trees {
    pub(crate) fn open(db: &sled::Db, limits: Limits) -> Result<Self> {
        let open = |name: &str| db.open_tree(name).map_err(backend("opening a tree"));
        Ok(Self {
            chain: open(CHAIN_TREE)?,
            kv: open(KV)?,
            limits,
        })
    }

    /// Reads and unseals `key` of `space`, then parses the payload.
    fn get_with<T>(
        &self,
        space: Space,
        key: &[u8],
        parse: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.chain.get(space.key(key)).map_err(backend("reading"))? {
            Some(stored) => parse(unseal(space.name, key, &stored)?).map(Some),
            None => Ok(None),
        }
    }

    /// Counts the entries of `space` (scans it).
    pub(crate) fn count(&self, space: Space) -> Result<u64> {
        count_iter(self.chain.scan_prefix([space.prefix]).keys())
    }

    pub(crate) fn tip(&self) -> Result<Option<ChainTip>> {
        self.get_with(META, META_TIP, |p| {
            decode_tip(p)
                .ok_or_else(|| StorageError::corrupt(META.name, "tip", "malformed tip record"))
        })
    }

    pub(crate) fn meta_hash(&self, key: &'static [u8]) -> Result<Option<Hash256>> {
        self.get_with(META, key, |p| {
            Hash256::from_slice(p).ok_or_else(|| {
                StorageError::corrupt(META.name, key_display(key), "not a 32-byte id")
            })
        })
    }

    pub(crate) fn format(&self) -> Result<Option<u32>> {
        self.get_with(META, META_FORMAT, parse_format)
    }

    pub(crate) fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        self.get_with(HEADERS, id.as_bytes(), |p| {
            let bad = |reason: String| StorageError::corrupt(HEADERS.name, id.to_hex(), reason);
            let (cumulative_work, wire) =
                decode_header_entry(p).ok_or_else(|| bad("malformed cumulative work".into()))?;
            let header =
                decode_header(wire).map_err(|e| bad(format!("header decode failed: {e}")))?;
            if header.id() != *id {
                return Err(bad("header hash differs from its key".into()));
            }
            Ok(HeaderEntry {
                header,
                cumulative_work,
            })
        })
    }

    pub(crate) fn block(&self, id: &Hash256) -> Result<Option<Block>> {
        self.get_with(BLOCKS, id.as_bytes(), |p| {
            let bad = |reason: String| StorageError::corrupt(BLOCKS.name, id.to_hex(), reason);
            let block = decode_block(p, &self.limits)
                .map_err(|e| bad(format!("block decode failed: {e}")))?;
            if block.id() != *id {
                return Err(bad("block's header hash differs from its key".into()));
            }
            Ok(block)
        })
    }

    pub(crate) fn contains_block(&self, id: &Hash256) -> Result<bool> {
        self.chain
            .contains_key(BLOCKS.key(id.as_bytes()))
            .map_err(backend("reading"))
    }

    pub(crate) fn best_id_at(&self, height: u64) -> Result<Option<Hash256>> {
        self.get_with(HEIGHTS, &height_key(height), |p| {
            Hash256::from_slice(p).ok_or_else(|| {
                StorageError::corrupt(HEIGHTS.name, height.to_string(), "not a 32-byte id")
            })
        })
    }

    pub(crate) fn item_location(&self, id: &Hash256) -> Result<Option<ItemLocation>> {
        self.get_with(ITEMS, id.as_bytes(), |p| {
            decode_location(p)
                .ok_or_else(|| StorageError::corrupt(ITEMS.name, id.to_hex(), "malformed location"))
        })
    }

    pub(crate) fn nonce_item(&self, key: &NonceKey) -> Result<Option<Hash256>> {
        self.get_with(NONCES, key, |p| {
            Hash256::from_slice(p).ok_or_else(|| {
                StorageError::corrupt(NONCES.name, key_display(key), "not a 32-byte id")
            })
        })
    }

    pub(crate) fn state_node(&self, hash: &Hash256) -> Result<Option<Node>> {
        self.get_with(STATE, hash.as_bytes(), |p| {
            let bad = |reason: String| StorageError::corrupt(STATE.name, hash.to_hex(), reason);
            let node = Node::decode(p).map_err(|e| bad(format!("node decode failed: {e}")))?;
            if node.hash() != *hash {
                return Err(bad("node hash differs from its key".into()));
            }
            Ok(node)
        })
    }

    pub(crate) fn state_record(&self, value: &Hash256) -> Result<Option<StateRecord>> {
        self.get_with(RECORDS, value.as_bytes(), |p| {
            let bad = |reason: String| StorageError::corrupt(RECORDS.name, value.to_hex(), reason);
            let record = StateRecord::decode(p).map_err(|e| bad(e.to_string()))?;
            if record.value() != *value {
                return Err(bad("record hash differs from its key".into()));
            }
            Ok(record)
        })
    }

    pub(crate) fn kv_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.kv.get(key).map_err(backend("reading"))? {
            Some(stored) => Ok(Some(unseal(KV, key, &stored)?.to_vec())),
            None => Ok(None),
        }
    }

    /// Applies a planned update (plus extra meta records) as one [`sled::Batch`] on the chain
    /// tree: sled recovers a batch whole or not at all. The caller flushes.
    pub(crate) fn apply(&self, ws: &WriteSet<'_>, extra_meta: &[(&[u8], Vec<u8>)]) -> Result<()> {
        let mut batch = ChainBatch::default();
        for (block, entry) in &ws.blocks {
            let id = entry.id();
            batch.put(BLOCKS, id.as_bytes(), &encode_block(block));
            batch.put(
                HEADERS,
                id.as_bytes(),
                &encode_header_entry(&encode_header(&entry.header), &entry.cumulative_work),
            );
        }
        for (height, id) in &ws.heights {
            match id {
                Some(id) => batch.put(HEIGHTS, &height_key(*height), id.as_bytes()),
                None => batch.delete(HEIGHTS, &height_key(*height)),
            }
        }
        for (id, location) in &ws.items {
            match location {
                Some(l) => batch.put(ITEMS, id.as_bytes(), &encode_location(l)),
                None => batch.delete(ITEMS, id.as_bytes()),
            }
        }
        for (key, item) in &ws.nonces {
            match item {
                Some(item) => batch.put(NONCES, key, item.as_bytes()),
                None => batch.delete(NONCES, key),
            }
        }
        for node in &ws.state_nodes {
            batch.put(STATE, node.hash().as_bytes(), &node.encode());
        }
        for record in &ws.state_records {
            batch.put(RECORDS, record.value().as_bytes(), &record.encode());
        }
        batch.put(META, META_TIP, &encode_tip(&ws.tip));
        for (key, value) in extra_meta {
            batch.put(META, key, value);
        }
        self.apply_batch(batch)
    }

    /// Deletes, in one batch, the listed blocks stored off the best chain; returns how many.
    /// The caller holds the write lock and flushes.
    pub(crate) fn delete_side_blocks(&self, ids: &[Hash256]) -> Result<usize> {
        let mut batch = ChainBatch::default();
        let mut pruned = 0;
        for id in ids {
            let Some(entry) = self.header(id)? else {
                continue;
            };
            if self.best_id_at(entry.height())? == Some(*id) {
                continue;
            }
            batch.delete(BLOCKS, id.as_bytes());
            batch.delete(HEADERS, id.as_bytes());
            pruned += 1;
        }
        if pruned > 0 {
            self.apply_batch(batch)?;
        }
        Ok(pruned)
    }

    /// Applies `batch` atomically.
    pub(crate) fn apply_batch(&self, batch: ChainBatch) -> Result<()> {
        self.chain
            .apply_batch(batch.batch)
            .map_err(backend("committing"))
    }
}

/// Parses a format record.
pub(crate) fn parse_format(payload: &[u8]) -> Result<u32> {
    <[u8; 4]>::try_from(payload)
        .map(u32::from_be_bytes)
        .map_err(|_| StorageError::corrupt(META.name, "format", "not a 4-byte version"))
}

/// Planner reads straight from the trees (commits are serialized by the store's write lock).
impl PlanReader for Trees {
    fn tip(&self) -> Result<ChainTip> {
        Trees::tip(self)?.ok_or_else(|| StorageError::corrupt(META.name, "tip", "no tip recorded"))
    }

    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        Trees::header(self, id)
    }

    fn block(&self, id: &Hash256) -> Result<Option<Cow<'_, Block>>> {
        Ok(Trees::block(self, id)?.map(Cow::Owned))
    }

    fn contains_block(&self, id: &Hash256) -> Result<bool> {
        Trees::contains_block(self, id)
    }

    fn item_location(&self, id: &Hash256) -> Result<Option<ItemLocation>> {
        Trees::item_location(self, id)
    }

    fn nonce_item(&self, key: &NonceKey) -> Result<Option<Hash256>> {
        Trees::nonce_item(self, key)
    }
}

/// Counts the entries of a whole sled tree (scans it).
pub(crate) fn count(tree: &Tree) -> Result<u64> {
    count_iter(tree.iter().keys())
}

fn count_iter(keys: impl Iterator<Item = sled::Result<IVec>>) -> Result<u64> {
    let mut n = 0u64;
    for entry in keys {
        entry.map_err(backend("scanning"))?;
        n += 1;
    }
    Ok(n)
}
