//! sled-only behaviour: persistence, genesis checks, one database per path, and detection of
//! damaged values (on read and by the integrity walk).

mod support;

use std::path::Path;

use support::{Maker, extend, genesis, limits};
use talos_chain::{Hash256, NetworkSpec};
use talos_storage::{
    ChainStore, IntegrityDepth, IntegrityOptions, KvStore, SledConfig, SledMode, SledStore,
    StorageError,
};

fn config() -> SledConfig {
    SledConfig::new(limits()).with_cache_bytes(8 << 20)
}

fn no_walk() -> SledConfig {
    config().with_integrity(IntegrityOptions::default().with_depth(IntegrityDepth::Skip))
}

/// Where a logical tree lives on disk (format 2, see `src/sled/trees.rs`): the chain spaces
/// share the sled tree `chain` under one-byte key prefixes; the key-value space has its own
/// tree `kv`.
fn location(space: &str) -> (&'static str, Option<u8>) {
    match space {
        "blocks" => ("chain", Some(0x01)),
        "headers" => ("chain", Some(0x02)),
        "heights" => ("chain", Some(0x03)),
        "items" => ("chain", Some(0x04)),
        "nonces" => ("chain", Some(0x05)),
        "meta" => ("chain", Some(0x06)),
        "kv" => ("kv", None),
        other => panic!("no space {other}"),
    }
}

/// One logical tree of a closed store, addressed by its keys without the prefix.
struct RawSpace {
    tree: sled::Tree,
    prefix: Option<u8>,
}

impl RawSpace {
    fn key(&self, key: &[u8]) -> Vec<u8> {
        self.prefix.into_iter().chain(key.iter().copied()).collect()
    }

    fn get(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<sled::IVec>> {
        self.tree.get(self.key(key.as_ref()))
    }

    fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<sled::IVec>,
    ) -> sled::Result<Option<sled::IVec>> {
        self.tree.insert(self.key(key.as_ref()), value)
    }

    fn remove(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<sled::IVec>> {
        self.tree.remove(self.key(key.as_ref()))
    }
}

/// Opens the database underneath the store (the store must be closed) and runs `f` on one
/// logical tree.
fn raw(path: &Path, space: &str, f: impl FnOnce(&RawSpace)) {
    let db = open_raw(path);
    let (tree, prefix) = location(space);
    f(&RawSpace {
        tree: db.open_tree(tree).unwrap(),
        prefix,
    });
    db.flush().unwrap();
}

/// Opens the database directly. sled 0.34 may finish a log write on a background thread just
/// after the last handle of a database is dropped, holding its file lock a moment longer.
fn open_raw(path: &Path) -> sled::Db {
    for _ in 0..100 {
        match sled::open(path) {
            Ok(db) => return db,
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("opening {}: {e}", path.display()),
        }
    }
    panic!("{} stayed locked", path.display())
}

fn flip_last_byte(tree: &RawSpace, key: &[u8]) {
    let mut value = tree.get(key).unwrap().expect("value to damage").to_vec();
    *value.last_mut().unwrap() ^= 0x01;
    tree.insert(key, value).unwrap();
}

fn assert_corrupt(err: StorageError, tree: &str, key: &str) {
    match &err {
        StorageError::Corrupt { what, key: k, .. } => {
            assert_eq!(*what, tree, "{err}");
            assert!(k.contains(key), "{err} should name key {key}");
        }
        other => panic!("expected Corrupt in {tree}, got {other:?}"),
    }
}

/// A store with 5 blocks of 2 items; returns the path and the block ids.
fn populated(dir: &Path) -> (std::path::PathBuf, Vec<Hash256>) {
    let path = dir.join("db");
    let store = SledStore::open(&path, &genesis(), config()).unwrap();
    let m = Maker::new(9);
    let ids = (1..=5u64)
        .map(|h| extend(&store, m.items([h * 2, h * 2 + 1]), 0).block.id())
        .collect();
    store.kv_put("ratchet", b"session", b"state").unwrap();
    (path, ids)
}

#[test]
fn survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = populated(dir.path());
    let store = SledStore::open(&path, &genesis(), config()).unwrap();
    assert_eq!(store.tip().unwrap().id, ids[4]);
    assert_eq!(store.tip().unwrap().height, 5);
    assert_eq!(
        store.kv_get("ratchet", b"session").unwrap(),
        Some(b"state".to_vec())
    );
    let report = store.verify_integrity(IntegrityOptions::full()).unwrap();
    assert_eq!((report.blocks, report.items), (6, 10));
    assert!(store.size_on_disk().unwrap() > 0);
}

#[test]
fn wrong_genesis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = populated(dir.path());
    let other = NetworkSpec::testnet().genesis();
    match SledStore::open(&path, &other, config()) {
        Err(StorageError::WrongGenesis { stored, expected }) => {
            assert_eq!(stored, genesis().id());
            assert_eq!(expected, other.id());
        }
        other => panic!("expected WrongGenesis, got {other:?}"),
    }
    // The right genesis still opens.
    SledStore::open(&path, &genesis(), config()).unwrap();
}

#[test]
fn invalid_genesis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = genesis();
    g.header.height = 1;
    assert!(matches!(
        SledStore::open(dir.path(), &g, config()),
        Err(StorageError::InvalidGenesis(_))
    ));
}

#[test]
fn one_database_per_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = SledStore::open(&path, &genesis(), config()).unwrap();
    let clone = store.clone();
    assert!(matches!(
        SledStore::open(&path, &genesis(), config()),
        Err(StorageError::AlreadyOpen { .. })
    ));
    drop(store);
    assert!(matches!(
        SledStore::open(dir.path().join("db/../db"), &genesis(), config()),
        Err(StorageError::AlreadyOpen { .. })
    ));
    drop(clone);
    SledStore::open(&path, &genesis(), config().with_mode(SledMode::LowSpace)).unwrap();
}

#[test]
fn damaged_block_is_reported_on_read_and_by_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = populated(dir.path());
    raw(&path, "blocks", |t| flip_last_byte(t, ids[2].as_bytes()));

    let store = SledStore::open(&path, &genesis(), no_walk()).unwrap();
    assert_corrupt(
        store.block(&ids[2]).unwrap_err(),
        "blocks",
        &ids[2].to_hex(),
    );
    // Other data is still served.
    assert!(store.block(&ids[1]).unwrap().is_some());
    assert_corrupt(
        store.best_blocks(1, 10, usize::MAX).unwrap_err(),
        "blocks",
        &ids[2].to_hex(),
    );
    assert_corrupt(
        store
            .verify_integrity(IntegrityOptions::default())
            .unwrap_err(),
        "blocks",
        &ids[2].to_hex(),
    );
    drop(store);
    assert_corrupt(
        SledStore::open(&path, &genesis(), config()).unwrap_err(),
        "blocks",
        &ids[2].to_hex(),
    );
    // A walk that stops above the damage does not see it.
    let shallow =
        config().with_integrity(IntegrityOptions::default().with_depth(IntegrityDepth::Recent(1)));
    SledStore::open(&path, &genesis(), shallow).unwrap();
}

#[test]
fn damaged_header_height_and_index_values_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = populated(dir.path());
    raw(&path, "headers", |t| flip_last_byte(t, ids[0].as_bytes()));
    raw(&path, "heights", |t| flip_last_byte(t, &4u64.to_be_bytes()));
    let store = SledStore::open(&path, &genesis(), no_walk()).unwrap();
    assert_corrupt(
        store.header(&ids[0]).unwrap_err(),
        "headers",
        &ids[0].to_hex(),
    );
    assert_corrupt(
        store.best_id_at(4).unwrap_err(),
        "heights",
        &hex(&4u64.to_be_bytes()),
    );
    let block = store.block(&ids[1]).unwrap().unwrap();
    let item = block.items[0].id();
    drop(store);

    raw(&path, "items", |t| flip_last_byte(t, item.as_bytes()));
    let store = SledStore::open(&path, &genesis(), no_walk()).unwrap();
    assert_corrupt(
        store.item_location(&item).unwrap_err(),
        "items",
        &item.to_hex(),
    );
    assert_corrupt(
        store.item_proof(&item).unwrap_err(),
        "items",
        &item.to_hex(),
    );
    // The walk reports the first damage it meets from the tip down: heights at 4.
    assert_corrupt(
        store
            .verify_integrity(IntegrityOptions::full())
            .unwrap_err(),
        "heights",
        &hex(&4u64.to_be_bytes()),
    );
}

#[test]
fn value_moved_to_another_key_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = populated(dir.path());
    raw(&path, "blocks", |t| {
        let other = t.get(ids[0].as_bytes()).unwrap().unwrap();
        t.insert(ids[1].as_bytes(), other).unwrap();
    });
    let store = SledStore::open(&path, &genesis(), no_walk()).unwrap();
    assert_corrupt(
        store.block(&ids[1]).unwrap_err(),
        "blocks",
        &ids[1].to_hex(),
    );
}

#[test]
fn missing_index_entries_fail_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = populated(dir.path());
    let store = SledStore::open(&path, &genesis(), config()).unwrap();
    let item = store.block(&ids[3]).unwrap().unwrap().items[1].clone();
    drop(store);

    raw(&path, "nonces", |t| {
        let mut key = item.author().to_bytes().to_vec();
        key.extend_from_slice(&item.nonce().to_be_bytes());
        t.remove(key).unwrap().expect("nonce entry");
    });
    let err = SledStore::open(&path, &genesis(), config()).unwrap_err();
    assert!(
        matches!(err, StorageError::Corrupt { what: "nonces", .. }),
        "{err}"
    );

    raw(&path, "heights", |t| {
        t.remove(5u64.to_be_bytes()).unwrap().expect("height entry");
    });
    // Walking from the tip, the missing tip height is met before the missing nonce entry.
    let err = SledStore::open(&path, &genesis(), config()).unwrap_err();
    assert_corrupt(err, "heights", "5");
}

#[test]
fn damaged_kv_value_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = populated(dir.path());
    let mut key = vec![7u8];
    key.extend_from_slice(b"ratchet");
    key.extend_from_slice(b"session");
    raw(&path, "kv", |t| flip_last_byte(t, &key));
    let store = SledStore::open(&path, &genesis(), config()).unwrap();
    assert!(
        store
            .kv_get("ratchet", b"session")
            .unwrap_err()
            .is_corruption()
    );
    assert!(
        store
            .kv_scan("ratchet", None, 10)
            .unwrap_err()
            .is_corruption()
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A value framed as the store frames it: CRC-32 over the logical tree name, the key and the
/// payload (see `src/codec.rs`), then the payload.
fn sealed(tree: &str, key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut h = crc32fast::Hasher::new();
    h.update(tree.as_bytes());
    h.update(&[0]);
    h.update(&(key.len() as u64).to_le_bytes());
    h.update(key);
    h.update(payload);
    let mut out = h.finalize().to_le_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

#[test]
fn format_one_store_is_refused() {
    // Format 1 kept each logical tree in its own sled tree, its version in `meta`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let db = sled::open(&path).unwrap();
        let meta = db.open_tree("meta").unwrap();
        meta.insert(b"format", sealed("meta", b"format", &1u32.to_be_bytes()))
            .unwrap();
        db.open_tree("blocks")
            .unwrap()
            .insert([7u8; 32], sealed("blocks", &[7u8; 32], b"old block"))
            .unwrap();
        db.flush().unwrap();
    }
    match SledStore::open(&path, &genesis(), config()) {
        Err(StorageError::UnsupportedFormat { found, supported }) => {
            assert_eq!((found, supported), (1, 4));
        }
        other => panic!("expected UnsupportedFormat, got {other:?}"),
    }
    // Nothing was written over the old store.
    let db = open_raw(&path);
    assert!(db.open_tree("chain").unwrap().is_empty());
}

#[test]
fn other_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = populated(dir.path());
    raw(&path, "meta", |t| {
        t.insert(b"format", sealed("meta", b"format", &3u32.to_be_bytes()))
            .unwrap();
    });
    assert!(matches!(
        SledStore::open(&path, &genesis(), config()),
        Err(StorageError::UnsupportedFormat {
            found: 3,
            supported: 4
        })
    ));
}

#[test]
fn value_moved_to_another_logical_tree_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = populated(dir.path());
    let mut header = None;
    raw(&path, "headers", |t| {
        header = t.get(ids[2].as_bytes()).unwrap();
    });
    raw(&path, "blocks", |t| {
        t.insert(ids[2].as_bytes(), header.unwrap()).unwrap();
    });
    let store = SledStore::open(&path, &genesis(), no_walk()).unwrap();
    assert_corrupt(
        store.block(&ids[2]).unwrap_err(),
        "blocks",
        &ids[2].to_hex(),
    );
    assert!(store.header(&ids[2]).unwrap().is_some());
}

#[test]
fn a_store_killed_during_creation_is_recreated() {
    // A crash while creating a store leaves at most an unfinished sibling `<name>.init`
    // directory (here with a corrupt sled config) and maybe an empty store directory.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let init = dir.path().join("db.init");
    std::fs::create_dir_all(&init).unwrap();
    std::fs::write(init.join("conf"), b"\xff\x00garbage").unwrap();
    std::fs::create_dir_all(&path).unwrap();

    let store = SledStore::open(&path, &genesis(), config()).unwrap();
    assert_eq!(store.tip().unwrap().id, genesis().id());
    assert!(!init.exists(), "the unfinished store is cleaned up");
    drop(store);
    // And it reopens as an ordinary store.
    let store = SledStore::open(&path, &genesis(), config()).unwrap();
    assert_eq!(store.tip().unwrap().height, 0);
}
