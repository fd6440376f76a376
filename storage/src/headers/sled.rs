//! The sled header store.
//!
//! One [`sled::Db`] per path per process (a second open of the same path by a header store of
//! this process is refused with [`StorageError::AlreadyOpen`]; clones share the database).
//! Everything lives in one sled tree, `headers-chain`, under one-byte key prefixes (see
//! `layout.rs`: the best chain by height, side headers by id, meta), so each [`HeaderStore::commit`] is a single [`sled::Tree::apply_batch`] —
//! atomic in sled's log recovery — followed by [`sled::Db::flush`]: a commit that returned
//! survives a crash and one that did not leaves no trace.
//!
//! Nothing per header is kept in memory: reads go to sled, whose page cache is the
//! configured `cache_bytes`, and opening walks only the configured number of headers below
//! the tip (never the whole store unless asked to).

use std::path::Path;
use std::sync::{Arc, Mutex};

use talos_chain::{BlockHeader, Hash256, NetworkSpec};

use super::entry::genesis_entry;
use super::integrity::{HeaderIntegrityReport, verify_headers};
use super::layout::{BEST, FORMAT_VERSION, HEADER_TREE, META, SIDE};
use super::plan::plan_headers;
use super::store::HeaderStore;
use super::tree::HeaderTree;
use super::update::{HeaderStoreStats, HeaderUpdate};
use crate::SledMode;
use crate::error::{Result, StorageError};
use crate::integrity::{DEFAULT_INTEGRITY_DEPTH, IntegrityDepth};
use crate::open::{PathClaim, create_if_absent, open_db};
use crate::types::{ChainTip, HeaderEntry};

/// Default sled page cache of a header store: small, as a light client runs with little
/// memory.
pub const DEFAULT_HEADER_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// Configuration of a [`SledHeaderStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SledHeaderConfig {
    /// sled page cache size in bytes.
    pub cache_bytes: u64,
    /// sled's space/throughput trade-off.
    pub mode: SledMode,
    /// How far below the tip the integrity walk at open goes (default: the tip and
    /// [`DEFAULT_INTEGRITY_DEPTH`] headers below it).
    pub integrity: IntegrityDepth,
}

impl Default for SledHeaderConfig {
    fn default() -> Self {
        Self {
            cache_bytes: DEFAULT_HEADER_CACHE_BYTES,
            mode: SledMode::default(),
            integrity: IntegrityDepth::default(),
        }
    }
}

impl SledHeaderConfig {
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
    pub fn with_integrity(mut self, depth: IntegrityDepth) -> Self {
        self.integrity = depth;
        self
    }
}

#[derive(Debug)]
struct Inner {
    // Field order is drop order: the tree and the database close before the path is released.
    tree: HeaderTree,
    db: sled::Db,
    genesis: Hash256,
    /// Serializes commits: the planner reads, then the batch writes.
    write_lock: Mutex<()>,
    _claim: PathClaim,
}

/// A crash-safe header store on sled. Clones share one database.
#[derive(Clone, Debug)]
pub struct SledHeaderStore {
    inner: Arc<Inner>,
}

impl SledHeaderStore {
    /// Opens (or creates) the header store at `path` for the chain starting at `genesis`, with
    /// a sled page cache of `cache_bytes` and the default integrity walk.
    ///
    /// An empty store gets `genesis` written; a non-empty one must be of this build's format
    /// ([`StorageError::UnsupportedFormat`]), hold the same genesis
    /// ([`StorageError::WrongGenesis`]) and pass the integrity walk
    /// ([`StorageError::Corrupt`]).
    pub fn open(path: impl AsRef<Path>, genesis: &BlockHeader, cache_bytes: u64) -> Result<Self> {
        Self::open_with(
            path,
            genesis,
            SledHeaderConfig::default().with_cache_bytes(cache_bytes),
        )
    }

    /// Opens the header store for `spec`'s network.
    pub fn open_for_spec(
        path: impl AsRef<Path>,
        spec: &NetworkSpec,
        cache_bytes: u64,
    ) -> Result<Self> {
        Self::open(path, &spec.genesis().header, cache_bytes)
    }

    /// Opens (or creates) the header store at `path` with `config`; see [`Self::open`].
    pub fn open_with(
        path: impl AsRef<Path>,
        genesis: &BlockHeader,
        config: SledHeaderConfig,
    ) -> Result<Self> {
        let path = path.as_ref();
        let genesis = genesis_entry(genesis)?;
        create_if_absent(path, |claim| {
            let db = open_db(&claim.0, config.cache_bytes, config.mode)?;
            init_or_check(&db, &genesis)
        })?;
        let claim = PathClaim::claim(path)?;
        let db = open_db(&claim.0, config.cache_bytes, config.mode)?;
        init_or_check(&db, &genesis)?;
        let store = Self {
            inner: Arc::new(Inner {
                tree: header_tree(&db)?,
                db,
                genesis: genesis.id(),
                write_lock: Mutex::new(()),
                _claim: claim,
            }),
        };
        verify_headers(&store, config.integrity)?;
        Ok(store)
    }

    /// Runs the integrity walk now: the whole best chain (and the entry counts) when `full`,
    /// else the tip and [`DEFAULT_INTEGRITY_DEPTH`] headers below it.
    pub fn verify(&self, full: bool) -> Result<HeaderIntegrityReport> {
        let depth = if full {
            IntegrityDepth::Full
        } else {
            IntegrityDepth::Recent(DEFAULT_INTEGRITY_DEPTH)
        };
        verify_headers(self, depth)
    }

    /// Bytes the database occupies on disk.
    pub fn disk_bytes(&self) -> Result<u64> {
        self.inner
            .db
            .size_on_disk()
            .map_err(|e| StorageError::backend("measuring", e))
    }

    fn tree(&self) -> &HeaderTree {
        &self.inner.tree
    }
}

fn header_tree(db: &sled::Db) -> Result<HeaderTree> {
    db.open_tree(HEADER_TREE)
        .map(HeaderTree::new)
        .map_err(|e| StorageError::backend("opening a tree", e))
}

/// Writes genesis into an empty database (and flushes), or checks the stored format, genesis
/// and tip record.
fn init_or_check(db: &sled::Db, genesis: &HeaderEntry) -> Result<()> {
    let tree = header_tree(db)?;
    match tree.format()? {
        Some(FORMAT_VERSION) => {}
        Some(found) => {
            return Err(StorageError::UnsupportedFormat {
                found,
                supported: FORMAT_VERSION,
            });
        }
        None => {
            check_no_other_store(db)?;
            if !tree.is_empty() {
                return Err(StorageError::corrupt(
                    META.name,
                    "format",
                    "store holds headers but no format record",
                ));
            }
            tree.write_genesis(genesis)?;
            return db
                .flush()
                .map(drop)
                .map_err(|e| StorageError::backend("flushing genesis", e));
        }
    }
    let stored = tree.genesis()?.ok_or_else(|| {
        StorageError::corrupt(META.name, "genesis", "format recorded but no genesis id")
    })?;
    if stored != genesis.id() {
        return Err(StorageError::WrongGenesis {
            stored,
            expected: genesis.id(),
        });
    }
    if tree.tip()?.is_none() {
        return Err(StorageError::corrupt(META.name, "tip", "no tip recorded"));
    }
    Ok(())
}

/// Refuses to write a header store into a database holding anything else (a full chain
/// store, say): any other non-empty sled tree.
fn check_no_other_store(db: &sled::Db) -> Result<()> {
    for name in db.tree_names() {
        if name.as_ref() == HEADER_TREE.as_bytes() {
            continue;
        }
        let tree = db
            .open_tree(&name)
            .map_err(|e| StorageError::backend("opening a tree", e))?;
        if !tree.is_empty() {
            return Err(StorageError::corrupt(
                META.name,
                "format",
                format!(
                    "the database holds another store (sled tree `{}`), not a header store",
                    String::from_utf8_lossy(&name)
                ),
            ));
        }
    }
    Ok(())
}

impl HeaderStore for SledHeaderStore {
    fn genesis_id(&self) -> Hash256 {
        self.inner.genesis
    }

    fn tip(&self) -> Result<ChainTip> {
        super::plan::HeaderReader::tip(self.tree())
    }

    fn best_header_at(&self, height: u64) -> Result<Option<HeaderEntry>> {
        self.tree().best_at(height)
    }

    fn header(&self, id: &Hash256, height: u64) -> Result<Option<HeaderEntry>> {
        self.tree().header(id, height)
    }

    fn commit(&self, update: HeaderUpdate) -> Result<ChainTip> {
        let _guard = self
            .inner
            .write_lock
            .lock()
            .map_err(|_| StorageError::Poisoned)?;
        let ws = plan_headers(self.tree(), &update)?;
        self.tree().apply(&ws, &[])?;
        self.inner
            .db
            .flush()
            .map_err(|e| StorageError::backend("flushing a commit", e))?;
        Ok(ws.tip)
    }

    fn stats(&self) -> Result<HeaderStoreStats> {
        Ok(HeaderStoreStats {
            headers: self.tree().count(BEST)? + self.tree().count(SIDE)?,
            heights: self.tree().count(BEST)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_stores_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<SledHeaderStore>();
        check::<super::super::MemoryHeaderStore>();
        check::<Arc<dyn HeaderStore>>();
    }
}
