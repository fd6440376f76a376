//! Shared by the header store's test files: header builders and the two backends' fixtures.

#![allow(dead_code, unreachable_pub, unused_imports)]

pub(crate) use std::path::{Path, PathBuf};
pub(crate) use std::sync::Arc;

pub(crate) use talos_chain::{BlockHeader, CompactTarget, Hash256, NetworkSpec, Work};
pub(crate) use talos_storage::headers::{HeaderIntegrityReport, header_work, verify_headers};
pub(crate) use talos_storage::{
    ChainTip, HeaderEntry, HeaderStore, HeaderStoreStats, HeaderUpdate, IntegrityDepth,
    MAX_HEADER_UPDATE, MAX_HEADERS_PER_QUERY, MemoryHeaderStore, SledHeaderConfig, SledHeaderStore,
    SledStore, StorageError, UpdateError,
};
pub(crate) use tempfile::TempDir;

/// A harder target than `local`'s (testnet's genesis target: 256 times the work).
pub(crate) const HARD: CompactTarget = CompactTarget(0x1e00_ffff);

pub(crate) fn genesis() -> BlockHeader {
    NetworkSpec::local().genesis().header
}

pub(crate) fn own_work(header: &BlockHeader) -> Work {
    header.target.to_target().expect("valid target").work()
}

pub(crate) fn genesis_entry() -> HeaderEntry {
    let header = genesis();
    HeaderEntry {
        header,
        cumulative_work: own_work(&header),
    }
}

/// A child of `parent` with `target`; `salt` distinguishes siblings.
pub(crate) fn child_with(parent: &HeaderEntry, salt: u64, target: CompactTarget) -> HeaderEntry {
    let header = BlockHeader {
        version: parent.header.version,
        network_id: parent.header.network_id,
        height: parent.height() + 1,
        prev_hash: parent.id(),
        merkle_root: Hash256::sha256_parts(&[b"root", &salt.to_be_bytes()]),
        state_root: parent.header.state_root,
        item_count: 0,
        timestamp_ms: parent.header.timestamp_ms + 1_000 + salt,
        target,
        nonce: salt,
    };
    HeaderEntry {
        header,
        cumulative_work: parent.cumulative_work.saturating_add(own_work(&header)),
    }
}

pub(crate) fn child(parent: &HeaderEntry, salt: u64) -> HeaderEntry {
    child_with(parent, salt, parent.header.target)
}

/// `n` headers in a row on `parent`.
pub(crate) fn run(parent: &HeaderEntry, n: usize, salt: u64) -> Vec<HeaderEntry> {
    let mut out: Vec<HeaderEntry> = Vec::with_capacity(n);
    for _ in 0..n {
        let p = out.last().copied().unwrap_or(*parent);
        out.push(child(&p, salt));
    }
    out
}

pub(crate) fn tip_entry(s: &impl HeaderStore) -> HeaderEntry {
    let tip = s.tip().unwrap();
    s.header(&tip.id, tip.height).unwrap().expect("tip header")
}

/// Stores and connects `n` headers on the tip, in one commit; returns them.
pub(crate) fn extend(s: &impl HeaderStore, n: usize, salt: u64) -> Vec<HeaderEntry> {
    let headers = run(&tip_entry(s), n, salt);
    let tip = s.tip().unwrap();
    let new_tip = s
        .commit(HeaderUpdate::extend_many(headers.clone(), tip))
        .unwrap();
    assert_eq!(new_tip, headers.last().map_or(tip, HeaderEntry::as_tip));
    headers
}

pub(crate) fn full_check(s: &impl HeaderStore) -> HeaderIntegrityReport {
    let report = verify_headers(s, IntegrityDepth::Full).unwrap();
    assert!(report.reached_genesis);
    report
}

/// Everything observable about a store, to show a refused update changed nothing.
pub(crate) fn snapshot(s: &impl HeaderStore) -> (ChainTip, HeaderStoreStats, Vec<HeaderEntry>) {
    (
        s.tip().unwrap(),
        s.stats().unwrap(),
        s.best_headers(0, usize::MAX).unwrap(),
    )
}

pub(crate) struct Fixture<S> {
    pub(crate) store: S,
    _dir: Option<TempDir>,
}

pub(crate) fn memory() -> Fixture<MemoryHeaderStore> {
    Fixture {
        store: MemoryHeaderStore::new(&genesis()).unwrap(),
        _dir: None,
    }
}

pub(crate) fn sled() -> Fixture<SledHeaderStore> {
    let dir = tempfile::tempdir().unwrap();
    let store = SledHeaderStore::open(dir.path().join("db"), &genesis(), 4 << 20).unwrap();
    Fixture {
        store,
        _dir: Some(dir),
    }
}
