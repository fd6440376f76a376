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

/// Opens the database underneath the store (the store must be closed) and runs `f` on a tree.
fn raw(path: &Path, tree: &str, f: impl FnOnce(&sled::Tree)) {
    let db = sled::open(path).unwrap();
    f(&db.open_tree(tree).unwrap());
    db.flush().unwrap();
}

fn flip_last_byte(tree: &sled::Tree, key: &[u8]) {
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
