//! The sled trees, typed and checksummed reads, and applying a write set in one transaction.

use std::borrow::Cow;
use std::convert::Infallible;

use sled::Tree;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use talos_chain::spec::Limits;
use talos_chain::wire::{decode_block, decode_header, encode_block, encode_header};
use talos_chain::{Block, Hash256};

use crate::codec::{
    NonceKey, decode_header_entry, decode_location, decode_tip, encode_header_entry,
    encode_location, encode_tip, height_key, key_display, seal, unseal,
};
use crate::error::{Result, StorageError};
use crate::plan::{PlanReader, WriteSet};
use crate::types::{ChainTip, HeaderEntry, ItemLocation};

/// Tree names (also part of every value's checksum).
pub(crate) const BLOCKS: &str = "blocks";
pub(crate) const HEADERS: &str = "headers";
pub(crate) const HEIGHTS: &str = "heights";
pub(crate) const ITEMS: &str = "items";
pub(crate) const NONCES: &str = "nonces";
pub(crate) const META: &str = "meta";
pub(crate) const KV: &str = "kv";

/// Meta keys.
pub(crate) const META_TIP: &[u8] = b"tip";
pub(crate) const META_GENESIS: &[u8] = b"genesis";
pub(crate) const META_FORMAT: &[u8] = b"format";

/// The on-disk format this build reads and writes.
pub(crate) const FORMAT_VERSION: u32 = 1;

fn backend(context: &'static str) -> impl FnOnce(sled::Error) -> StorageError {
    move |e| StorageError::backend(context, e)
}

/// All trees of one store.
#[derive(Clone, Debug)]
pub(crate) struct Trees {
    pub blocks: Tree,
    pub headers: Tree,
    pub heights: Tree,
    pub items: Tree,
    pub nonces: Tree,
    pub meta: Tree,
    pub kv: Tree,
    pub limits: Limits,
}

impl Trees {
    pub(crate) fn open(db: &sled::Db, limits: Limits) -> Result<Self> {
        let open = |name: &str| db.open_tree(name).map_err(backend("opening a tree"));
        Ok(Self {
            blocks: open(BLOCKS)?,
            headers: open(HEADERS)?,
            heights: open(HEIGHTS)?,
            items: open(ITEMS)?,
            nonces: open(NONCES)?,
            meta: open(META)?,
            kv: open(KV)?,
            limits,
        })
    }

    fn get_with<T>(
        tree: &Tree,
        name: &'static str,
        key: &[u8],
        parse: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Option<T>> {
        match tree.get(key).map_err(backend("reading"))? {
            Some(stored) => parse(unseal(name, key, &stored)?).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn tip(&self) -> Result<Option<ChainTip>> {
        Self::get_with(&self.meta, META, META_TIP, |p| {
            decode_tip(p).ok_or_else(|| StorageError::corrupt(META, "tip", "malformed tip record"))
        })
    }

    pub(crate) fn meta_hash(&self, key: &'static [u8]) -> Result<Option<Hash256>> {
        Self::get_with(&self.meta, META, key, |p| {
            Hash256::from_slice(p)
                .ok_or_else(|| StorageError::corrupt(META, key_display(key), "not a 32-byte id"))
        })
    }

    pub(crate) fn format(&self) -> Result<Option<u32>> {
        Self::get_with(&self.meta, META, META_FORMAT, |p| {
            <[u8; 4]>::try_from(p)
                .map(u32::from_be_bytes)
                .map_err(|_| StorageError::corrupt(META, "format", "not a 4-byte version"))
        })
    }

    pub(crate) fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        Self::get_with(&self.headers, HEADERS, id.as_bytes(), |p| {
            let bad = |reason: String| StorageError::corrupt(HEADERS, id.to_hex(), reason);
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
        Self::get_with(&self.blocks, BLOCKS, id.as_bytes(), |p| {
            let bad = |reason: String| StorageError::corrupt(BLOCKS, id.to_hex(), reason);
            let block = decode_block(p, &self.limits)
                .map_err(|e| bad(format!("block decode failed: {e}")))?;
            if block.id() != *id {
                return Err(bad("block's header hash differs from its key".into()));
            }
            Ok(block)
        })
    }

    pub(crate) fn contains_block(&self, id: &Hash256) -> Result<bool> {
        self.blocks
            .contains_key(id.as_bytes())
            .map_err(backend("reading"))
    }

    pub(crate) fn best_id_at(&self, height: u64) -> Result<Option<Hash256>> {
        Self::get_with(&self.heights, HEIGHTS, &height_key(height), |p| {
            Hash256::from_slice(p).ok_or_else(|| {
                StorageError::corrupt(HEIGHTS, height.to_string(), "not a 32-byte id")
            })
        })
    }

    pub(crate) fn item_location(&self, id: &Hash256) -> Result<Option<ItemLocation>> {
        Self::get_with(&self.items, ITEMS, id.as_bytes(), |p| {
            decode_location(p)
                .ok_or_else(|| StorageError::corrupt(ITEMS, id.to_hex(), "malformed location"))
        })
    }

    pub(crate) fn nonce_item(&self, key: &NonceKey) -> Result<Option<Hash256>> {
        Self::get_with(&self.nonces, NONCES, key, |p| {
            Hash256::from_slice(p)
                .ok_or_else(|| StorageError::corrupt(NONCES, key_display(key), "not a 32-byte id"))
        })
    }

    pub(crate) fn kv_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Self::get_with(&self.kv, KV, key, |p| Ok(p.to_vec()))
    }

    /// Applies a planned update (plus optional extra meta records) as one transaction over the
    /// chain trees. Values are encoded before the transaction, which sled may retry.
    pub(crate) fn apply(&self, ws: &WriteSet<'_>, extra_meta: &[(&[u8], Vec<u8>)]) -> Result<()> {
        let blocks: Vec<([u8; 32], Vec<u8>, Vec<u8>)> = ws
            .blocks
            .iter()
            .map(|(block, entry)| {
                let id = entry.id();
                let body = seal(BLOCKS, id.as_bytes(), &encode_block(block));
                let header = seal(
                    HEADERS,
                    id.as_bytes(),
                    &encode_header_entry(&encode_header(&entry.header), &entry.cumulative_work),
                );
                (id.0, body, header)
            })
            .collect();
        let heights: Vec<([u8; 8], Option<Vec<u8>>)> = ws
            .heights
            .iter()
            .map(|(h, id)| {
                let key = height_key(*h);
                (key, id.map(|id| seal(HEIGHTS, &key, id.as_bytes())))
            })
            .collect();
        let items: Vec<([u8; 32], Option<Vec<u8>>)> = ws
            .items
            .iter()
            .map(|(id, loc)| {
                (
                    id.0,
                    loc.map(|l| seal(ITEMS, id.as_bytes(), &encode_location(&l))),
                )
            })
            .collect();
        let nonces: Vec<(NonceKey, Option<Vec<u8>>)> = ws
            .nonces
            .iter()
            .map(|(k, item)| (*k, item.map(|i| seal(NONCES, k, i.as_bytes()))))
            .collect();
        let mut meta: Vec<(&[u8], Vec<u8>)> =
            vec![(META_TIP, seal(META, META_TIP, &encode_tip(&ws.tip)))];
        meta.extend(extra_meta.iter().map(|(k, v)| (*k, seal(META, k, v))));

        let result: std::result::Result<(), TransactionError<Infallible>> = (
            &self.blocks,
            &self.headers,
            &self.heights,
            &self.items,
            &self.nonces,
            &self.meta,
        )
            .transaction(|(tb, th, tht, ti, tn, tm)| {
                for (id, body, header) in &blocks {
                    tb.insert(&id[..], body.as_slice())?;
                    th.insert(&id[..], header.as_slice())?;
                }
                for (key, value) in &heights {
                    match value {
                        Some(v) => tht.insert(&key[..], v.as_slice())?,
                        None => tht.remove(&key[..])?,
                    };
                }
                for (key, value) in &items {
                    match value {
                        Some(v) => ti.insert(&key[..], v.as_slice())?,
                        None => ti.remove(&key[..])?,
                    };
                }
                for (key, value) in &nonces {
                    match value {
                        Some(v) => tn.insert(&key[..], v.as_slice())?,
                        None => tn.remove(&key[..])?,
                    };
                }
                for (key, value) in &meta {
                    tm.insert(*key, value.as_slice())?;
                }
                Ok::<(), ConflictableTransactionError<Infallible>>(())
            });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(StorageError::backend("committing", e)),
            Err(TransactionError::Abort(never)) => match never {},
        }
    }
}

/// Planner reads straight from the trees (commits are serialized by the store's write lock).
impl PlanReader for Trees {
    fn tip(&self) -> Result<ChainTip> {
        Trees::tip(self)?.ok_or_else(|| StorageError::corrupt(META, "tip", "no tip recorded"))
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

/// Counts entries of a tree (scans it).
pub(crate) fn count(tree: &Tree) -> Result<u64> {
    let mut n = 0u64;
    for entry in tree.iter().keys() {
        entry.map_err(backend("scanning"))?;
        n += 1;
    }
    Ok(n)
}
