//! The header store's sled-only behaviour: reopen, corruption found on read and by the
//! integrity walk, genesis and format checks, one database per path, and the footprint
//! measurement (ignored by default).

mod header_support;

#[allow(unused_imports)]
use header_support::*;

/// sled-only behaviour.
mod sled_only {
    use super::*;

    /// Where the header store's spaces live (see `src/headers/layout.rs`): one sled tree,
    /// `headers-chain`, under one-byte key prefixes.
    fn prefix(space: &str) -> u8 {
        match space {
            "best" => 0x01,
            "side" => 0x02,
            "meta" => 0x03,
            other => panic!("no space {other}"),
        }
    }

    /// Opens the database directly (the store must be closed). sled 0.34 may hold the file
    /// lock of a just-closed database for a moment.
    fn open_raw(path: &Path) -> sled::Db {
        for _ in 0..200 {
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

    /// Runs `f` on the raw value under `key` of `space` (`None` if absent); stores what it
    /// returns (`None` removes).
    fn edit(
        path: &Path,
        space: &str,
        key: &[u8],
        f: impl FnOnce(Option<Vec<u8>>) -> Option<Vec<u8>>,
    ) {
        let db = open_raw(path);
        let tree = db.open_tree("headers-chain").unwrap();
        let mut full = vec![prefix(space)];
        full.extend_from_slice(key);
        let old = tree.get(&full).unwrap().map(|v| v.to_vec());
        match f(old) {
            Some(value) => tree.insert(full, value).unwrap(),
            None => tree.remove(full).unwrap(),
        };
        db.flush().unwrap();
    }

    fn flip_last_byte(path: &Path, space: &str, key: &[u8]) {
        edit(path, space, key, |v| {
            let mut v = v.expect("value to damage");
            *v.last_mut().unwrap() ^= 0x01;
            Some(v)
        });
    }

    /// A value framed as the store frames it: CRC-32 over the space name, the key and the
    /// payload (see `src/codec.rs`), then the payload.
    fn sealed(space: &str, key: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut h = crc32fast::Hasher::new();
        h.update(space.as_bytes());
        h.update(&[0]);
        h.update(&(key.len() as u64).to_le_bytes());
        h.update(key);
        h.update(payload);
        let mut out = h.finalize().to_le_bytes().to_vec();
        out.extend_from_slice(payload);
        out
    }

    /// A `best` or `side` payload: work length, work big-endian, the header's canonical bytes.
    fn header_payload(work: Work, header_bytes: &[u8]) -> Vec<u8> {
        let work = work.to_be_bytes_trimmed();
        let mut out = vec![work.len() as u8];
        out.extend_from_slice(&work);
        out.extend_from_slice(header_bytes);
        out
    }

    fn assert_corrupt(err: StorageError, space: &str, key: &str) {
        match &err {
            StorageError::Corrupt { what, key: k, .. } => {
                assert_eq!(*what, space, "{err}");
                assert!(k.contains(key), "{err} should name key {key}");
            }
            other => panic!("expected Corrupt in {space}, got {other:?}"),
        }
    }

    fn no_walk() -> SledHeaderConfig {
        SledHeaderConfig::default().with_integrity(IntegrityDepth::Skip)
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A closed store with 8 best-chain headers and 2 side headers; returns the path, the
    /// best chain (genesis first) and the side headers.
    fn populated(dir: &Path) -> (PathBuf, Vec<HeaderEntry>, Vec<HeaderEntry>) {
        let path = dir.join("db");
        let store = SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap();
        let mut best = vec![genesis_entry()];
        best.extend(extend(&store, 8, 0));
        let side = run(&best[3], 2, 4);
        store
            .commit(HeaderUpdate::side_headers(
                side.clone(),
                store.tip().unwrap(),
            ))
            .unwrap();
        (path, best, side)
    }

    #[test]
    fn reopen_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let (path, best, side) = populated(dir.path());
        let store = SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap();
        assert_eq!(store.tip().unwrap(), best[8].as_tip());
        assert_eq!(store.best_headers(0, 100).unwrap(), best);
        for entry in &side {
            assert_eq!(
                store.header(&entry.id(), entry.height()).unwrap(),
                Some(*entry)
            );
            assert!(!store.is_best_chain(&entry.id(), entry.height()).unwrap());
            assert_eq!(
                store.header(&entry.id(), entry.height() + 1).unwrap(),
                None,
                "a header is found at its own height only"
            );
        }
        assert_eq!(
            store.stats().unwrap(),
            HeaderStoreStats {
                headers: 11,
                heights: 9
            }
        );
        let report = store.verify(true).unwrap();
        assert_eq!((report.headers, report.reached_genesis), (9, true));
        assert_eq!(store.verify(false).unwrap(), report);
        assert!(store.disk_bytes().unwrap() > 0);
        // And it keeps taking commits after a reopen.
        extend(&store, 3, 1);
        drop(store);
        let store = SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap();
        assert_eq!(store.tip().unwrap().height, 11);
    }

    /// The sled key of best-chain height `h`, as errors name it (hex).
    fn height_key(h: u64) -> [u8; 8] {
        h.to_be_bytes()
    }

    #[test]
    fn damaged_header_is_reported_on_read_and_by_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let (path, best, side) = populated(dir.path());
        let key = height_key(4);
        flip_last_byte(&path, "best", &key);
        flip_last_byte(&path, "side", side[1].id().as_bytes());
        let store = SledHeaderStore::open_with(&path, &genesis(), no_walk()).unwrap();
        let k = hex(&key);
        assert_corrupt(store.header(&best[4].id(), 4).unwrap_err(), "best", &k);
        assert_corrupt(store.best_header_at(4).unwrap_err(), "best", &k);
        assert_corrupt(store.best_headers(0, 100).unwrap_err(), "best", &k);
        let side_id = side[1].id();
        assert_corrupt(
            store.header(&side_id, side[1].height()).unwrap_err(),
            "side",
            &side_id.to_hex(),
        );
        assert!(
            store.header(&best[5].id(), 5).unwrap().is_some(),
            "the rest is served"
        );
        assert_corrupt(store.verify(true).unwrap_err(), "best", &k);
        assert_corrupt(store.verify(false).unwrap_err(), "best", &k);
        drop(store);
        assert_corrupt(
            SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap_err(),
            "best",
            &k,
        );
        // A walk that stops above the damage does not see it.
        let shallow = SledHeaderConfig::default().with_integrity(IntegrityDepth::Recent(3));
        SledHeaderStore::open_with(&path, &genesis(), shallow).unwrap();
    }

    #[test]
    fn a_damaged_tip_record_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _, _) = populated(dir.path());
        flip_last_byte(&path, "meta", b"tip");
        assert_corrupt(
            SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap_err(),
            "meta",
            &hex(b"tip"),
        );
    }

    /// Seals `entry`'s header (with `work`) under `key` of `space`.
    fn put(path: &Path, space: &str, key: &[u8], work: Work, header: &[u8]) {
        let payload = header_payload(work, header);
        edit(path, space, key, |_| Some(sealed(space, key, &payload)));
    }

    #[test]
    fn well_sealed_but_wrong_values_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (path, best, side) = populated(dir.path());
        // Header 3 sealed under height 2.
        let h3 = &best[3];
        put(
            &path,
            "best",
            &height_key(2),
            h3.cumulative_work,
            &h3.header.canonical_bytes(),
        );
        // A side header re-sealed with a header that does not hash to its key.
        let s0 = side[0].id();
        let mut other = side[0].header;
        other.nonce ^= 1;
        put(
            &path,
            "side",
            s0.as_bytes(),
            side[0].cumulative_work,
            &other.canonical_bytes(),
        );
        // Header 7 re-sealed one byte short.
        let payload = header_payload(best[7].cumulative_work, &best[7].header.canonical_bytes());
        let short = sealed("best", &height_key(7), &payload[..payload.len() - 1]);
        edit(&path, "best", &height_key(7), |_| Some(short));
        // Header 5 replaced by another, well-formed header of height 5.
        let mut forged = best[5].header;
        forged.nonce ^= 1;
        put(
            &path,
            "best",
            &height_key(5),
            best[5].cumulative_work,
            &forged.canonical_bytes(),
        );

        let store = SledHeaderStore::open_with(&path, &genesis(), no_walk()).unwrap();
        let err = store.best_header_at(2).unwrap_err();
        assert!(err.to_string().contains("height 3 stored at 2"), "{err}");
        assert_corrupt(err, "best", "2");
        let err = store.header(&s0, side[0].height()).unwrap_err();
        assert!(err.to_string().contains("hash differs"), "{err}");
        assert_corrupt(err, "side", &s0.to_hex());
        let err = store.best_header_at(7).unwrap_err();
        assert!(err.to_string().contains("not 136"), "{err}");
        assert_corrupt(err, "best", "7");
        // The forged header reads fine: it is not header 5, so header 5 is not found...
        assert_eq!(store.header(&best[5].id(), 5).unwrap(), None);
        // ...and the walk, meeting the damage nearest the tip first, reports height 7.
        assert_corrupt(store.verify(true).unwrap_err(), "best", "7");
        drop(store);
        put(
            &path,
            "best",
            &height_key(7),
            best[7].cumulative_work,
            &best[7].header.canonical_bytes(),
        );
        let store = SledHeaderStore::open_with(&path, &genesis(), no_walk()).unwrap();
        let err = store.verify(true).unwrap_err();
        assert!(
            err.to_string().contains("the walk from the tip reached"),
            "{err}"
        );
        assert_corrupt(err, "best", "5");
    }

    #[test]
    fn broken_work_sums_fail_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let (path, best, _) = populated(dir.path());
        // Header 4 re-sealed (checksum valid) with one unit more work: its own value reads
        // fine, but header 5's sum no longer adds up.
        let work = best[4]
            .cumulative_work
            .saturating_add(Work::from_be_slice(&[1]).unwrap());
        put(
            &path,
            "best",
            &height_key(4),
            work,
            &best[4].header.canonical_bytes(),
        );
        let store = SledHeaderStore::open_with(&path, &genesis(), no_walk()).unwrap();
        assert_eq!(
            store.best_header_at(4).unwrap().unwrap().cumulative_work,
            work
        );
        let err = store.verify(true).unwrap_err();
        assert!(err.to_string().contains("cumulative work"), "{err}");
        assert_corrupt(err, "best", "5");
    }

    #[test]
    fn missing_and_stray_best_chain_entries_fail_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let (path, best, side) = populated(dir.path());
        let set = |height: u64, entry: &HeaderEntry| {
            let bytes = entry.header.canonical_bytes();
            put(
                &path,
                "best",
                &height_key(height),
                entry.cumulative_work,
                &bytes,
            );
        };
        let open_err = || SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap_err();
        // A missing entry below the tip.
        edit(&path, "best", &height_key(3), |v| {
            assert!(v.is_some());
            None
        });
        assert_corrupt(open_err(), "best", "3");
        set(3, &best[3]);
        // The side header of that height in its place.
        assert_eq!(side[0].height(), 4);
        set(4, &side[0]);
        assert_corrupt(open_err(), "best", "4");
        set(4, &best[4]);
        // A stray entry above the tip.
        let above = run(&best[8], 1, 9)[0];
        set(9, &above);
        assert_corrupt(open_err(), "best", "9");
        edit(&path, "best", &height_key(9), |_| None);
        SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap();
    }

    #[test]
    fn wrong_or_invalid_genesis_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _, _) = populated(dir.path());
        let other = NetworkSpec::testnet().genesis().header;
        match SledHeaderStore::open(&path, &other, 4 << 20) {
            Err(StorageError::WrongGenesis { stored, expected }) => {
                assert_eq!((stored, expected), (genesis().id(), other.id()));
            }
            other => panic!("expected WrongGenesis, got {other:?}"),
        }
        SledHeaderStore::open_for_spec(&path, &NetworkSpec::local(), 4 << 20).unwrap();
        let mut tall = genesis();
        tall.height = 1;
        let mut no_target = genesis();
        no_target.target = CompactTarget(0);
        for bad in [tall, no_target] {
            assert!(matches!(
                SledHeaderStore::open(dir.path().join("fresh"), &bad, 4 << 20),
                Err(StorageError::InvalidGenesis(_))
            ));
            assert!(matches!(
                MemoryHeaderStore::new(&bad),
                Err(StorageError::InvalidGenesis(_))
            ));
        }
    }

    #[test]
    fn other_format_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _, _) = populated(dir.path());
        // Format 1 kept an index by id; this build reads format 2 only.
        edit(&path, "meta", b"format", |_| {
            Some(sealed("meta", b"format", &1u32.to_be_bytes()))
        });
        match SledHeaderStore::open(&path, &genesis(), 4 << 20) {
            Err(StorageError::UnsupportedFormat { found, supported }) => {
                assert_eq!((found, supported), (1, 2));
            }
            other => panic!("expected UnsupportedFormat, got {other:?}"),
        }
    }

    #[test]
    fn a_full_chain_store_is_not_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        drop(SledStore::open_for_spec(&path, &NetworkSpec::local()).unwrap());
        let err = SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap_err();
        assert_corrupt(err, "meta", "format");
        assert!(
            open_raw(&path)
                .open_tree("headers-chain")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn one_database_per_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap();
        let clone = store.clone();
        assert!(matches!(
            SledHeaderStore::open(&path, &genesis(), 4 << 20),
            Err(StorageError::AlreadyOpen { .. })
        ));
        drop(store);
        assert!(matches!(
            SledHeaderStore::open(dir.path().join("db/../db"), &genesis(), 4 << 20),
            Err(StorageError::AlreadyOpen { .. })
        ));
        drop(clone);
        SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap();
    }

    #[test]
    fn a_store_killed_during_creation_is_recreated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let init = dir.path().join("db.init");
        std::fs::create_dir_all(&init).unwrap();
        std::fs::write(init.join("conf"), b"\xff\x00garbage").unwrap();
        std::fs::create_dir_all(&path).unwrap();
        let store = SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap();
        assert_eq!(store.tip().unwrap(), genesis_entry().as_tip());
        assert!(!init.exists(), "the unfinished store is cleaned up");
        drop(store);
        let store = SledHeaderStore::open(&path, &genesis(), 4 << 20).unwrap();
        assert_eq!(store.tip().unwrap().height, 0);
    }
}

/// Memory and disk of a light client's header store with a million headers (the goal is a
/// resident set of at most 64 MiB). A measurement, ignored by default: it writes a million
/// headers (about 1.5 minutes in a debug build) and prints what it measured; with
/// `TALOS_FOOTPRINT_MAX_MIB` set it also fails when the restarted client's peak is above that.
/// `TALOS_FOOTPRINT_HEADERS` and `TALOS_FOOTPRINT_CACHE_MIB` (default 4) change the size and the
/// sled page cache. Linux only (reads `/proc/self/status`).
///
/// The parent writes the store (the peak of a sync from scratch), then re-executes this binary
/// to run only `footprint_child`, which opens the store like a restarted light client, reads
/// 50,000 headers all over the chain, adds 2,000 and reports its own peak.
///
/// Measured with sled 0.34.7 (debug build, 4 MiB cache, 1,000,000 headers): writer peak
/// 115 MiB, 848 MiB on disk; restarted client 90 MiB after open (3.2 s, sled's own recovery),
/// 112 MiB after the reads. sled keeps per-page state for every page (leaves split at 16
/// entries) whatever the cache size, and materialized pages beyond its cache capacity.
mod footprint {
    use super::*;

    const DIR_ENV: &str = "TALOS_FOOTPRINT_DIR";
    const MARK: &str = "TALOS-FOOTPRINT";
    const PEAK: &str = "TALOS-PEAK-KIB";

    fn env_u64(name: &str, default: u64) -> u64 {
        std::env::var(name).map_or(default, |v| v.parse().expect("a number"))
    }

    fn config() -> SledHeaderConfig {
        SledHeaderConfig::default().with_cache_bytes(env_u64("TALOS_FOOTPRINT_CACHE_MIB", 4) << 20)
    }

    /// A `/proc/self/status` field in KiB.
    fn status_kib(field: &str) -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
    }

    /// The restarted light client. Does nothing unless started by the parent.
    #[test]
    #[ignore = "run by footprint_of_a_million_headers"]
    fn footprint_child() {
        let Ok(dir) = std::env::var(DIR_ENV) else {
            return;
        };
        let started = std::time::Instant::now();
        let store = SledHeaderStore::open_with(&dir, &genesis(), config()).unwrap();
        let opened = started.elapsed();
        let after_open = status_kib("VmRSS:");
        let tip = store.tip().unwrap().height;
        for i in 0..50_000u64 {
            let height = i.wrapping_mul(7_919) % tip;
            assert!(store.best_header_at(height).unwrap().is_some());
        }
        for salt in 0..20 {
            extend(&store, 100, salt);
        }
        assert_eq!(store.verify(false).unwrap().headers, 1_001);
        println!(
            "{MARK} opened in {opened:.1?}, RSS after open {} MiB, after reads and 2,000 more \
             headers {} MiB, peak {} MiB",
            after_open >> 10,
            status_kib("VmRSS:") >> 10,
            status_kib("VmHWM:") >> 10
        );
        println!("{PEAK} {}", status_kib("VmHWM:"));
    }

    #[test]
    #[ignore = "measurement: writes a million headers; run with --ignored --nocapture"]
    fn footprint_of_a_million_headers() {
        let total = env_u64("TALOS_FOOTPRINT_HEADERS", 1_000_000);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let started = std::time::Instant::now();
        let store = SledHeaderStore::open_with(&path, &genesis(), config()).unwrap();
        let mut tip = genesis_entry();
        while tip.height() < total {
            let n = (MAX_HEADER_UPDATE as u64 / 2).min(total - tip.height());
            let batch = run(&tip, n as usize, 0);
            tip = *batch.last().unwrap();
            let current = store.tip().unwrap();
            store
                .commit(HeaderUpdate::extend_many(batch, current))
                .unwrap();
        }
        eprintln!(
            "{total} headers written in {:.1?}, {} MiB on disk, writer peak RSS {} MiB",
            started.elapsed(),
            store.disk_bytes().unwrap() >> 20,
            status_kib("VmHWM:") >> 10
        );
        drop(store);
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "footprint::footprint_child",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(DIR_ENV, &path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = stdout
            .lines()
            .find(|l| l.contains(MARK))
            .expect("child report");
        eprintln!(
            "restarted client: {}",
            &report[report.find(MARK).unwrap() + MARK.len()..]
        );
        let peak: u64 = stdout
            .lines()
            .find_map(|l| l[l.find(PEAK)? + PEAK.len()..].trim().parse().ok())
            .expect("child peak");
        if let Ok(max) = std::env::var("TALOS_FOOTPRINT_MAX_MIB") {
            let max: u64 = max.parse().expect("a number of MiB");
            assert!(
                peak <= max << 10,
                "restarted client peak {} MiB over {max} MiB",
                peak >> 10
            );
        }
    }
}
