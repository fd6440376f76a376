//! The sled backend.
//!
//! One [`sled::Db`] per path per process (a second open of the same path in this process is
//! refused with [`StorageError::AlreadyOpen`]; clones of a [`SledStore`] share the database).
//!
//! Layout (format version 2): all chain data lives in one sled tree, `chain`, split into
//! logical trees by a one-byte key prefix: `blocks`, `headers`, `heights`, `items`, `nonces`
//! and `meta` (see `trees.rs` for the exact keys and values). Because they share one tree,
//! each [`ChainStore::commit`] is a single [`sled::Tree::apply_batch`] — atomic in sled's log
//! recovery, and far cheaper than a multi-tree transaction, which tracks and re-reads every
//! key it writes — followed by [`sled::Db::flush`], so a commit that returned survives a crash
//! and one that did not leaves no trace. The key-value space is a separate tree, `kv`, written
//! with its own batch + flush (its writes are never part of a chain commit).
//!
//! Every value carries a checksum over the logical tree's name, the key and the payload,
//! checked on every read; a mismatch is reported as [`StorageError::Corrupt`] naming the
//! logical tree and key. [`SledStore::open`] refuses stores of another format version
//! (including format 1, one sled tree per logical tree) with
//! [`StorageError::UnsupportedFormat`], and walks the chain back from the tip before handing
//! out the store.

mod trees;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use sled::Tree;
use talos_chain::chain_state::StateRecord;
use talos_chain::spec::Limits;
use talos_chain::state::Node;
use talos_chain::{Block, Hash256, NetworkSpec, VerifyingKey};

use crate::codec::{nonce_key, seal};
use crate::error::{Result, StorageError};
use crate::genesis::{check_genesis, genesis_work};
use crate::integrity::{IntegrityOptions, IntegrityReport, verify_chain};
use crate::kv::{KvBatch, KvOp, MAX_KV_SCAN, full_key, namespace_prefix, scan_start};
use crate::open::{PathClaim, open_db};
use crate::plan::{WriteSet, plan};
use crate::traits::{ChainStore, KvStore};
use crate::types::{ChainTip, ChainUpdate, CommitSummary, HeaderEntry, ItemLocation, StoreStats};

use trees::{
    BLOCKS, FORMAT_VERSION, HEADERS, HEIGHTS, ITEMS, KV, LEGACY_TREES, META, META_FORMAT,
    META_GENESIS, NONCES, Trees, count, parse_format,
};

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

#[derive(Debug)]
struct Inner {
    // Field order is drop order: trees and the database close before the path is released.
    trees: Trees,
    db: sled::Db,
    genesis: Hash256,
    /// Serializes commits: the planner reads, then the batch writes.
    write_lock: Mutex<()>,
    /// Recently read and written state tree nodes. Nodes are addressed by their hash and never
    /// change, so a cached node is never stale; the tree's upper levels, which every block's
    /// state update walks, stay here instead of being read and hash-checked from sled again.
    state_cache: Mutex<HashMap<Hash256, Node>>,
    _claim: PathClaim,
}

/// Most state nodes kept in [`Inner::state_cache`] (≈ 100 bytes each); the cache is emptied
/// when full.
const STATE_CACHE_NODES: usize = 65_536;

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
        create_if_absent(path.as_ref(), genesis, &config)?;
        let claim = PathClaim::claim(path.as_ref())?;
        let db = open_db(&claim.0, config.cache_bytes, config.mode)?;
        let trees = Trees::open(&db, config.limits)?;
        let genesis_id = init_or_check(&db, &trees, genesis)?;
        let store = Self {
            inner: Arc::new(Inner {
                trees,
                db,
                genesis: genesis_id,
                write_lock: Mutex::new(()),
                state_cache: Mutex::new(HashMap::new()),
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

    fn cached_state(&self) -> std::sync::MutexGuard<'_, HashMap<Hash256, Node>> {
        self.inner
            .state_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cache_state(&self, nodes: impl IntoIterator<Item = Node>) {
        let mut cache = self.cached_state();
        for node in nodes {
            if cache.len() >= STATE_CACHE_NODES {
                cache.clear();
            }
            cache.insert(node.hash(), node);
        }
    }
}

/// Creates a new store atomically when `path` holds none yet.
///
/// sled cannot always reopen a database killed while it writes its first files (its `conf`
/// file reads back as corrupt). So a new store is built in a sibling `<name>.init` directory,
/// genesis written and flushed, and only then renamed to `path`: a crash at any point leaves
/// either no store (and a stale `.init` directory, which never held a committed block and is
/// removed on the next start) or a complete one.
fn create_if_absent(path: &Path, genesis: &Block, config: &SledConfig) -> Result<()> {
    crate::open::create_if_absent(path, |claim| {
        let db = open_db(&claim.0, config.cache_bytes, config.mode)?;
        let trees = Trees::open(&db, config.limits)?;
        init_or_check(&db, &trees, genesis)?;
        db.flush()
            .map(drop)
            .map_err(|e| StorageError::backend("flushing a new store", e))
    })
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
            check_no_legacy_store(db)?;
            if !trees.chain.is_empty() {
                return Err(StorageError::corrupt(
                    META.name,
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
        StorageError::corrupt(META.name, "genesis", "format recorded but no genesis id")
    })?;
    if stored != expected {
        return Err(StorageError::WrongGenesis { stored, expected });
    }
    if trees.tip()?.is_none() {
        return Err(StorageError::corrupt(META.name, "tip", "no tip recorded"));
    }
    Ok(expected)
}

/// Refuses a store written in format 1 (one sled tree per logical tree), which keeps its
/// format record in its own `meta` tree. Empty format-1 trees (a first open killed before
/// genesis was committed) hold nothing and are ignored.
fn check_no_legacy_store(db: &sled::Db) -> Result<()> {
    let names = db.tree_names();
    let present = |name: &str| names.iter().any(|n| n.as_ref() == name.as_bytes());
    let open = |name: &str| {
        db.open_tree(name)
            .map_err(|e| StorageError::backend("opening a tree", e))
    };
    if present(META.name) {
        let record = open(META.name)?
            .get(META_FORMAT)
            .map_err(|e| StorageError::backend("reading", e))?;
        if let Some(stored) = record {
            let found = parse_format(crate::codec::unseal(META.name, META_FORMAT, &stored)?)?;
            return Err(StorageError::UnsupportedFormat {
                found,
                supported: FORMAT_VERSION,
            });
        }
    }
    for name in LEGACY_TREES {
        if present(name) && !open(name)?.is_empty() {
            return Err(StorageError::corrupt(
                META.name,
                "format",
                format!("store holds a format-1 tree `{name}` but no format record"),
            ));
        }
    }
    Ok(())
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
        state_nodes: Vec::new(),
        state_records: Vec::new(),
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

    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>> {
        if let Some(node) = self.cached_state().get(hash) {
            return Ok(Some(*node));
        }
        let node = self.trees().state_node(hash)?;
        if let Some(node) = node {
            self.cache_state([node]);
        }
        Ok(node)
    }

    fn state_record(&self, value: &Hash256) -> Result<Option<StateRecord>> {
        self.trees().state_record(value)
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
        // The next block's state update walks the nodes this one wrote.
        self.cache_state(ws.state_nodes.iter().map(|n| **n));
        Ok(CommitSummary {
            tip: ws.tip,
            blocks_written: ws.blocks.len(),
            disconnected: update.disconnect.len(),
            connected: update.connect.len(),
        })
    }

    fn prune_side_blocks(&self, ids: &[Hash256]) -> Result<usize> {
        crate::plan::check_prune_len(ids)?;
        let _guard = self
            .inner
            .write_lock
            .lock()
            .map_err(|_| StorageError::Poisoned)?;
        let pruned = self.trees().delete_side_blocks(ids)?;
        if pruned > 0 {
            self.inner
                .db
                .flush()
                .map_err(|e| StorageError::backend("flushing a prune", e))?;
        }
        Ok(pruned)
    }

    fn stats(&self) -> Result<StoreStats> {
        let t = self.trees();
        Ok(StoreStats {
            blocks: t.count(BLOCKS)?,
            headers: t.count(HEADERS)?,
            heights: t.count(HEIGHTS)?,
            items: t.count(ITEMS)?,
            nonces: t.count(NONCES)?,
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
    use crate::open::is_lock_contention;

    #[test]
    fn stores_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SledStore>();
        check::<crate::MemoryStore>();
        check::<std::sync::Arc<dyn crate::Store>>();
    }

    #[test]
    fn a_lock_held_for_a_moment_is_waited_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let config = SledConfig::for_spec(&talos_chain::NetworkSpec::local());
        let holder = sled::Config::new().path(&path).open().unwrap();
        // While the lock is held, sled's own error is the one `open_db` must recognise.
        match sled::Config::new().path(&path).open() {
            Err(sled::Error::Io(e)) => assert!(is_lock_contention(&e), "{e}"),
            other => panic!("expected a lock error, got {other:?}"),
        }
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(holder);
        });
        let db =
            open_db(&path, config.cache_bytes, config.mode).expect("opened once the holder let go");
        drop(db);
        release.join().unwrap();
    }
}
