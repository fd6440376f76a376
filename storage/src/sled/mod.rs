//! The sled backend.
//!
//! One [`sled::Db`] per path per process (a second open of the same path in this process is
//! refused with [`StorageError::AlreadyOpen`]; clones of a [`SledStore`] share the database).
//! Chain data lives in the trees `blocks`, `headers`, `heights`, `items`, `nonces` and `meta`;
//! each [`ChainStore::commit`] is one transaction over all of them followed by
//! [`sled::Db::flush`], so a commit that returned survives a crash and one that did not leaves
//! no trace. Every value carries a checksum checked on every read, and [`SledStore::open`]
//! walks the chain back from the tip before handing out the store.

mod trees;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sled::Tree;
use talos_chain::spec::Limits;
use talos_chain::{Block, Hash256, NetworkSpec, VerifyingKey};

use crate::codec::{nonce_key, seal};
use crate::error::{Result, StorageError};
use crate::genesis::{check_genesis, genesis_work};
use crate::integrity::{IntegrityOptions, IntegrityReport, verify_chain};
use crate::kv::{KvBatch, KvOp, MAX_KV_SCAN, full_key, namespace_prefix, scan_start};
use crate::plan::{WriteSet, plan};
use crate::traits::{ChainStore, KvStore};
use crate::types::{ChainTip, ChainUpdate, CommitSummary, HeaderEntry, ItemLocation, StoreStats};

use trees::{FORMAT_VERSION, KV, META_FORMAT, META_GENESIS, Trees, count};

/// Default sled page cache size.
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// sled's space/throughput trade-off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SledMode {
    /// Rewrite more to use less disk.
    LowSpace,
    /// Favour write throughput (the default).
    #[default]
    HighThroughput,
}

/// Configuration of a [`SledStore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SledConfig {
    /// Network limits: bound every block decoded from disk.
    pub limits: Limits,
    /// sled page cache size in bytes.
    pub cache_bytes: u64,
    /// sled mode.
    pub mode: SledMode,
    /// The integrity walk run at open.
    pub integrity: IntegrityOptions,
}

impl SledConfig {
    /// Defaults for a network with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            cache_bytes: DEFAULT_CACHE_BYTES,
            mode: SledMode::default(),
            integrity: IntegrityOptions::default(),
        }
    }

    /// Defaults for `spec`'s network.
    pub fn for_spec(spec: &NetworkSpec) -> Self {
        Self::new(spec.limits)
    }

    /// Sets the page cache size.
    #[must_use]
    pub fn with_cache_bytes(mut self, bytes: u64) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// Sets the sled mode.
    #[must_use]
    pub fn with_mode(mut self, mode: SledMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the integrity walk run at open.
    #[must_use]
    pub fn with_integrity(mut self, integrity: IntegrityOptions) -> Self {
        self.integrity = integrity;
        self
    }
}

/// Paths open in this process.
static OPEN_PATHS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn open_paths() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    OPEN_PATHS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Holds a path in [`OPEN_PATHS`] until dropped.
#[derive(Debug)]
struct PathClaim(PathBuf);

impl PathClaim {
    fn claim(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path)
            .map_err(|e| StorageError::backend("creating the store directory", e))?;
        restrict_permissions(path)?;
        let path = path
            .canonicalize()
            .map_err(|e| StorageError::backend("resolving the store path", e))?;
        if !open_paths().insert(path.clone()) {
            return Err(StorageError::AlreadyOpen {
                path: path.display().to_string(),
            });
        }
        Ok(Self(path))
    }
}

impl Drop for PathClaim {
    fn drop(&mut self) {
        open_paths().remove(&self.0);
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| StorageError::backend("restricting the store directory to its owner", e))
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> Result<()> {
    Ok(())
}

#[derive(Debug)]
struct Inner {
    // Field order is drop order: trees and the database close before the path is released.
    trees: Trees,
    db: sled::Db,
    genesis: Hash256,
    /// Serializes commits: the planner reads, then the transaction writes.
    write_lock: Mutex<()>,
    _claim: PathClaim,
}

/// A crash-safe store on sled. Clones share one database.
#[derive(Clone, Debug)]
pub struct SledStore {
    inner: Arc<Inner>,
}

impl SledStore {
    /// Opens (or creates) the store at `path` for the chain starting at `genesis`.
    ///
    /// An empty store gets `genesis` written; a non-empty one must hold the same genesis
    /// ([`StorageError::WrongGenesis`] otherwise) and pass the integrity walk configured in
    /// `config` ([`StorageError::Corrupt`] otherwise).
    pub fn open(path: impl AsRef<Path>, genesis: &Block, config: SledConfig) -> Result<Self> {
        check_genesis(genesis)?;
        let claim = PathClaim::claim(path.as_ref())?;
        let mode = match config.mode {
            SledMode::LowSpace => sled::Mode::LowSpace,
            SledMode::HighThroughput => sled::Mode::HighThroughput,
        };
        let db = sled::Config::new()
            .path(&claim.0)
            .cache_capacity(config.cache_bytes)
            .mode(mode)
            .open()
            .map_err(|e| StorageError::backend("opening the database", e))?;
        let trees = Trees::open(&db, config.limits)?;
        let genesis_id = init_or_check(&db, &trees, genesis)?;
        let store = Self {
            inner: Arc::new(Inner {
                trees,
                db,
                genesis: genesis_id,
                write_lock: Mutex::new(()),
                _claim: claim,
            }),
        };
        store.verify_integrity(config.integrity)?;
        Ok(store)
    }

    /// Opens the store for `spec`'s network with default settings.
    pub fn open_for_spec(path: impl AsRef<Path>, spec: &NetworkSpec) -> Result<Self> {
        Self::open(path, &spec.genesis(), SledConfig::for_spec(spec))
    }

    /// Runs the integrity walk now.
    pub fn verify_integrity(&self, options: IntegrityOptions) -> Result<IntegrityReport> {
        verify_chain(self, options)
    }

    /// Flushes everything to disk (commits already do; for callers of other APIs).
    pub fn flush(&self) -> Result<()> {
        self.inner
            .db
            .flush()
            .map(drop)
            .map_err(|e| StorageError::backend("flushing", e))
    }

    /// Bytes the database occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.inner
            .db
            .size_on_disk()
            .map_err(|e| StorageError::backend("measuring", e))
    }

    fn trees(&self) -> &Trees {
        &self.inner.trees
    }
}

/// Writes genesis into an empty store, or checks the stored one. Returns the genesis id.
fn init_or_check(db: &sled::Db, trees: &Trees, genesis: &Block) -> Result<Hash256> {
    let expected = genesis.id();
    match trees.format()? {
        Some(FORMAT_VERSION) => {}
        Some(found) => {
            return Err(StorageError::UnsupportedFormat {
                found,
                supported: FORMAT_VERSION,
            });
        }
        None => {
            let chain_trees = [
                &trees.blocks,
                &trees.headers,
                &trees.heights,
                &trees.items,
                &trees.nonces,
                &trees.meta,
            ];
            if chain_trees.iter().any(|t| !t.is_empty()) {
                return Err(StorageError::corrupt(
                    "meta",
                    "format",
                    "store holds chain data but no format record",
                ));
            }
            write_genesis(trees, genesis)?;
            db.flush()
                .map_err(|e| StorageError::backend("flushing genesis", e))?;
            return Ok(expected);
        }
    }
    let stored = trees.meta_hash(META_GENESIS)?.ok_or_else(|| {
        StorageError::corrupt("meta", "genesis", "format recorded but no genesis id")
    })?;
    if stored != expected {
        return Err(StorageError::WrongGenesis { stored, expected });
    }
    if trees.tip()?.is_none() {
        return Err(StorageError::corrupt("meta", "tip", "no tip recorded"));
    }
    Ok(expected)
}

fn write_genesis(trees: &Trees, genesis: &Block) -> Result<()> {
    let id = genesis.id();
    let entry = HeaderEntry {
        header: genesis.header,
        cumulative_work: genesis_work(genesis),
    };
    let mut ws = WriteSet {
        blocks: vec![(genesis, entry)],
        heights: [(0, Some(id))].into_iter().collect(),
        items: Default::default(),
        nonces: Default::default(),
        tip: entry.as_tip(),
    };
    for (position, item) in genesis.items.iter().enumerate() {
        ws.items.insert(
            item.id(),
            Some(ItemLocation {
                block: id,
                height: 0,
                position: u32::try_from(position).unwrap_or(u32::MAX),
            }),
        );
        ws.nonces
            .insert(nonce_key(item.author(), item.nonce()), Some(item.id()));
    }
    trees.apply(
        &ws,
        &[
            (META_GENESIS, id.as_bytes().to_vec()),
            (META_FORMAT, FORMAT_VERSION.to_be_bytes().to_vec()),
        ],
    )
}

impl ChainStore for SledStore {
    fn genesis_id(&self) -> Hash256 {
        self.inner.genesis
    }

    fn tip(&self) -> Result<ChainTip> {
        crate::plan::PlanReader::tip(self.trees())
    }

    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        self.trees().header(id)
    }

    fn block(&self, id: &Hash256) -> Result<Option<Block>> {
        self.trees().block(id)
    }

    fn contains_block(&self, id: &Hash256) -> Result<bool> {
        self.trees().contains_block(id)
    }

    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>> {
        self.trees().best_id_at(height)
    }

    fn item_location(&self, item: &Hash256) -> Result<Option<ItemLocation>> {
        self.trees().item_location(item)
    }

    fn item_by_nonce(&self, author: &VerifyingKey, nonce: u64) -> Result<Option<Hash256>> {
        self.trees().nonce_item(&nonce_key(author, nonce))
    }

    fn commit(&self, update: ChainUpdate) -> Result<CommitSummary> {
        let _guard = self
            .inner
            .write_lock
            .lock()
            .map_err(|_| StorageError::Poisoned)?;
        let ws = plan(self.trees(), &update)?;
        self.trees().apply(&ws, &[])?;
        self.inner
            .db
            .flush()
            .map_err(|e| StorageError::backend("flushing a commit", e))?;
        Ok(CommitSummary {
            tip: ws.tip,
            blocks_written: ws.blocks.len(),
            disconnected: update.disconnect.len(),
            connected: update.connect.len(),
        })
    }

    fn stats(&self) -> Result<StoreStats> {
        let t = self.trees();
        Ok(StoreStats {
            blocks: count(&t.blocks)?,
            headers: count(&t.headers)?,
            heights: count(&t.heights)?,
            items: count(&t.items)?,
            nonces: count(&t.nonces)?,
            kv_entries: count(&t.kv)?,
        })
    }
}

impl KvStore for SledStore {
    fn kv_get(&self, namespace: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.trees().kv_get(&full_key(namespace, key)?)
    }

    fn kv_write(&self, batch: KvBatch) -> Result<()> {
        let mut sled_batch = sled::Batch::default();
        for op in batch.ops() {
            match op {
                KvOp::Put { key, value } => sled_batch.insert(key.as_slice(), seal(KV, key, value)),
                KvOp::Delete { key } => sled_batch.remove(key.as_slice()),
            }
        }
        self.trees()
            .kv
            .apply_batch(sled_batch)
            .map_err(|e| StorageError::backend("writing key-value entries", e))?;
        self.flush()
    }

    fn kv_scan(
        &self,
        namespace: &str,
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let prefix = namespace_prefix(namespace)?;
        let tree: &Tree = &self.trees().kv;
        let mut out = Vec::new();
        for entry in tree.range(scan_start(&prefix, start_after)) {
            if out.len() >= limit.min(MAX_KV_SCAN) {
                break;
            }
            let (key, value) = entry.map_err(|e| StorageError::backend("scanning", e))?;
            if !key.starts_with(&prefix) {
                break;
            }
            let payload = crate::codec::unseal(KV, &key, &value)?;
            out.push((key[prefix.len()..].to_vec(), payload.to_vec()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SledStore>();
        check::<crate::MemoryStore>();
        check::<std::sync::Arc<dyn crate::Store>>();
    }
}
