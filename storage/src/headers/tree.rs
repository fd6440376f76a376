//! Typed, checked reads of the `headers-chain` tree and applying a write set as one batch.

use sled::{Batch, Tree};
use talos_chain::Hash256;

use super::layout::{
    BEST, FORMAT_VERSION, META, META_FORMAT, META_GENESIS, META_TIP, SIDE, Space, decode_best,
    decode_format, decode_id, decode_side, encode_header,
};
use super::plan::{HeaderReader, HeaderWriteSet};
use crate::codec::{decode_tip, encode_tip, height_key, key_display, seal, unseal};
use crate::error::{Result, StorageError};
use crate::types::{ChainTip, HeaderEntry};

fn backend(context: &'static str) -> impl FnOnce(sled::Error) -> StorageError {
    move |e| StorageError::backend(context, e)
}

/// The writes of one commit, named by space.
#[derive(Default)]
struct SpaceBatch(Batch);

impl SpaceBatch {
    fn put(&mut self, space: Space, key: &[u8], payload: &[u8]) {
        self.0
            .insert(space.key(key), seal(space.name, key, payload));
    }

    fn delete(&mut self, space: Space, key: &[u8]) {
        self.0.remove(space.key(key));
    }
}

/// The `headers-chain` tree of one header store.
#[derive(Clone, Debug)]
pub(crate) struct HeaderTree {
    tree: Tree,
}

impl HeaderTree {
    pub(crate) fn new(tree: Tree) -> Self {
        Self { tree }
    }

    /// Whether the tree holds nothing at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Reads and unseals `key` of `space`, then parses the payload.
    fn get_with<T>(
        &self,
        space: Space,
        key: &[u8],
        parse: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Option<T>> {
        match self.tree.get(space.key(key)).map_err(backend("reading"))? {
            Some(stored) => parse(unseal(space.name, key, &stored)?).map(Some),
            None => Ok(None),
        }
    }

    /// The best-chain header at `height`.
    pub(crate) fn best_at(&self, height: u64) -> Result<Option<HeaderEntry>> {
        self.get_with(BEST, &height_key(height), |p| decode_best(height, p))
    }

    /// A side header by id.
    pub(crate) fn side(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        self.get_with(SIDE, id.as_bytes(), |p| decode_side(id, p))
    }

    /// Header `id` of height `height`: the best chain's there if it is that one, else a side
    /// header.
    pub(crate) fn header(&self, id: &Hash256, height: u64) -> Result<Option<HeaderEntry>> {
        if let Some(best) = self.best_at(height)?
            && best.id() == *id
        {
            return Ok(Some(best));
        }
        Ok(self.side(id)?.filter(|e| e.height() == height))
    }

    pub(crate) fn tip(&self) -> Result<Option<ChainTip>> {
        self.get_with(META, META_TIP, |p| {
            decode_tip(p)
                .ok_or_else(|| StorageError::corrupt(META.name, "tip", "malformed tip record"))
        })
    }

    pub(crate) fn genesis(&self) -> Result<Option<Hash256>> {
        self.get_with(META, META_GENESIS, |p| {
            decode_id(META, || key_display(META_GENESIS), p)
        })
    }

    pub(crate) fn format(&self) -> Result<Option<u32>> {
        self.get_with(META, META_FORMAT, decode_format)
    }

    /// Counts the entries of `space` (scans it).
    pub(crate) fn count(&self, space: Space) -> Result<u64> {
        let mut n = 0u64;
        for key in self.tree.scan_prefix([space.prefix]).keys() {
            key.map_err(backend("scanning"))?;
            n += 1;
        }
        Ok(n)
    }

    /// Writes `genesis` as the only header, the tip, the genesis id and the format version,
    /// in one batch. The caller flushes.
    pub(crate) fn write_genesis(&self, genesis: &HeaderEntry) -> Result<()> {
        let id = genesis.id();
        let ws = HeaderWriteSet {
            best: [(0, Some(*genesis))].into_iter().collect(),
            side_puts: Vec::new(),
            side_deletes: Vec::new(),
            tip: genesis.as_tip(),
        };
        self.apply(
            &ws,
            &[
                (META_GENESIS, id.as_bytes().to_vec()),
                (META_FORMAT, FORMAT_VERSION.to_be_bytes().to_vec()),
            ],
        )
    }

    /// Applies a planned update (plus extra meta records) as one [`sled::Batch`]: sled
    /// recovers a batch whole or not at all. The caller flushes.
    pub(crate) fn apply(&self, ws: &HeaderWriteSet, extra_meta: &[(&[u8], Vec<u8>)]) -> Result<()> {
        let mut batch = SpaceBatch::default();
        for (height, entry) in &ws.best {
            match entry {
                Some(entry) => batch.put(BEST, &height_key(*height), &encode_header(entry)),
                None => batch.delete(BEST, &height_key(*height)),
            }
        }
        for entry in &ws.side_puts {
            batch.put(SIDE, entry.id().as_bytes(), &encode_header(entry));
        }
        for id in &ws.side_deletes {
            batch.delete(SIDE, id.as_bytes());
        }
        batch.put(META, META_TIP, &encode_tip(&ws.tip));
        for (key, value) in extra_meta {
            batch.put(META, key, value);
        }
        self.tree
            .apply_batch(batch.0)
            .map_err(backend("committing"))
    }
}

/// The planner reads straight from the tree (commits are serialized by the store's lock).
impl HeaderReader for HeaderTree {
    fn tip(&self) -> Result<ChainTip> {
        HeaderTree::tip(self)?
            .ok_or_else(|| StorageError::corrupt(META.name, "tip", "no tip recorded"))
    }

    fn best_at(&self, height: u64) -> Result<Option<HeaderEntry>> {
        HeaderTree::best_at(self, height)
    }

    fn header(&self, id: &Hash256, height: u64) -> Result<Option<HeaderEntry>> {
        HeaderTree::header(self, id, height)
    }
}
