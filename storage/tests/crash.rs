//! Crash test: a child process imports blocks (with occasional reorgs) into a sled store and
//! prints each block only after `commit` returned; the parent SIGKILLs it at random moments,
//! reopens the store and checks that everything reported is there and consistent, then starts
//! the next round on the same data directory.
//!
//! The child is this test binary itself, re-executed to run only `crash_child` with
//! `TALOS_CRASH_CHILD_DIR` set (without it, `crash_child` does nothing), which works the same
//! under `cargo test` and `cargo nextest run`.
//!
//! `TALOS_CRASH_KILLS` sets the number of kills (default 200), `TALOS_CRASH_SEED` replays a
//! run. The `sigkill_many_times` test (ignored) does 1,000 kills.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{Maker, child, genesis, limits, tip_entry};
use talos_chain::Hash256;
use talos_storage::{
    ChainStore, ChainUpdate, IntegrityDepth, IntegrityOptions, SledConfig, SledStore,
};

const CHILD_DIR_ENV: &str = "TALOS_CRASH_CHILD_DIR";
const CHILD_SEED_ENV: &str = "TALOS_CRASH_CHILD_SEED";
const READY: &str = "TALOS-READY";
const COMMITTED: &str = "TALOS-COMMITTED";

fn config(depth: IntegrityDepth) -> SledConfig {
    SledConfig::new(limits())
        .with_cache_bytes(8 << 20)
        .with_integrity(IntegrityOptions::default().with_depth(depth))
}

/// The child: imports until killed. Does nothing unless started by the parent.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let seed: u64 = std::env::var(CHILD_SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut rng = StdRng::seed_from_u64(seed);
    let store = SledStore::open(&dir, &genesis(), config(IntegrityDepth::Recent(16))).unwrap();
    let maker = Maker::new(7);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{READY}").unwrap();
    out.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let tip = tip_entry(&store);
        let items = |rng: &mut StdRng| {
            let n = rng.gen_range(1..=3);
            maker.items((0..n).map(|_| rng.r#gen::<u64>()))
        };
        let update = if tip.height() >= 3 && rng.gen_ratio(1, 6) {
            // Reorg: drop 1–2 blocks, connect 2–3 new ones from the fork point.
            let drop_n = rng.gen_range(1..=2u64);
            let path_ids: Vec<Hash256> = (0..drop_n)
                .map(|d| store.best_id_at(tip.height() - d).unwrap().unwrap())
                .collect();
            let fork = store
                .best_header_at(tip.height() - drop_n)
                .unwrap()
                .unwrap();
            let salt = rng.gen_range(1..1_000_000);
            let mut blocks = Vec::new();
            let mut parent = fork;
            for _ in 0..drop_n + rng.gen_range(1..=2u64) {
                let nb = child(&parent, items(&mut rng), salt);
                parent = support::entry(&nb);
                blocks.push(nb);
            }
            ChainUpdate {
                connect: blocks.iter().map(|b| b.block.id()).collect(),
                store: blocks,
                disconnect: path_ids,
                new_tip: parent.as_tip(),
            }
        } else {
            let nb = child(&tip, items(&mut rng), 0);
            ChainUpdate::extend(nb.block, nb.cumulative_work)
        };
        let summary = store.commit(update).unwrap();
        writeln!(out, "{COMMITTED} {} {}", summary.tip.height, summary.tip.id).unwrap();
        out.flush().unwrap();
    }
}

/// Results of one run of the kill loop.
#[derive(Debug, Default)]
struct Outcome {
    kills: u32,
    commits: usize,
    killed_before_ready: u32,
    max_height: u64,
}

fn spawn_child(dir: &Path, seed: u64) -> (std::process::Child, mpsc::Receiver<String>) {
    let exe = std::env::current_exe().unwrap();
    let mut process = Command::new(exe)
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir)
        .env(CHILD_SEED_ENV, seed.to_string())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = process.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (process, rx)
}

fn parse_commit(line: &str) -> Option<(u64, Hash256)> {
    // libtest may print "test crash_child ... " in front of the first line.
    let rest = &line[line.find(COMMITTED)? + COMMITTED.len()..];
    let rest = rest.trim();
    let (height, id) = rest.split_once(' ')?;
    Some((height.parse().ok()?, id.parse().ok()?))
}

/// The checks after each kill. `anchor` is the last tip the child reported in this round, or
/// the tip found at the previous reopen when it reported nothing.
fn check_store(store: &SledStore, round_commits: &[(u64, Hash256)], anchor: (u64, Hash256)) {
    for (height, id) in round_commits {
        let entry = store
            .header(id)
            .unwrap()
            .unwrap_or_else(|| panic!("reported block {id} at height {height} is missing"));
        assert_eq!(entry.height(), *height);
        assert!(
            store.block(id).unwrap().is_some(),
            "reported block body {id} missing"
        );
    }
    let tip = store.tip().unwrap();
    {
        let (height, id) = anchor;
        // At most one more commit (returned, killed before printing) may follow the anchor:
        // an extension (+1) or a reorg (disconnect ≤ 2, connect ≤ 3 more).
        assert!(
            tip.height >= height && tip.height <= height + 3,
            "tip height {} vs last reported {height}",
            tip.height
        );
        if tip.id != id {
            let mut ancestor = store.header(&id).unwrap().unwrap();
            for _ in 0..2 {
                if store.is_best_chain(&ancestor.id()).unwrap() || ancestor.height() == 0 {
                    break;
                }
                ancestor = store.header(&ancestor.header.prev_hash).unwrap().unwrap();
            }
            assert!(
                store.is_best_chain(&ancestor.id()).unwrap(),
                "tip {} is more than one commit away from the last reported tip {id}",
                tip.id
            );
        }
    }
}

/// Waits up to 30 s for the child to say it is ready.
fn wait_ready(lines: &mpsc::Receiver<String>) -> bool {
    let wait_until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < wait_until {
        match lines.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains(READY) => return true,
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return false,
        }
    }
    false
}

fn kill_loop(kills: u32) -> Outcome {
    let seed = std::env::var("TALOS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().r#gen::<u64>());
    eprintln!("crash test: seed {seed} (replay with TALOS_CRASH_SEED={seed}), {kills} kills");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let mut outcome = Outcome::default();
    let mut reported: HashMap<Hash256, u64> = HashMap::new();
    let g = genesis().id();
    let mut last_tip = (0u64, g);
    let started = Instant::now();

    while outcome.kills < kills {
        let (mut process, lines) = spawn_child(&path, rng.r#gen());
        let early_kill = rng.gen_ratio(1, 10);
        let mut ready = false;
        if early_kill {
            // Kill during start-up: while opening, writing genesis, or walking the chain.
            std::thread::sleep(Duration::from_micros(rng.gen_range(0..15_000)));
        } else {
            ready = wait_ready(&lines);
            assert!(
                ready,
                "child did not get ready (exit: {:?})",
                process.try_wait()
            );
            std::thread::sleep(Duration::from_micros(rng.gen_range(0..30_000)));
        }
        // std's Child::kill sends SIGKILL on Unix.
        process.kill().unwrap();
        let status = process.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "child ended otherwise: {status:?}"
        );
        outcome.kills += 1;
        if !ready && !early_kill {
            outcome.killed_before_ready += 1;
        }

        let mut round = Vec::new();
        for line in lines.iter() {
            if line.contains(READY) {
                ready = true;
            } else if let Some(commit) = parse_commit(&line) {
                round.push(commit);
            }
        }
        if !ready {
            outcome.killed_before_ready += 1;
        }
        outcome.commits += round.len();
        for (h, id) in &round {
            reported.insert(*id, *h);
            outcome.max_height = outcome.max_height.max(*h);
        }
        let anchor = round.last().copied().unwrap_or(last_tip);

        let depth = if outcome.kills % 50 == 0 {
            IntegrityDepth::Full
        } else {
            IntegrityDepth::Recent(200)
        };
        match SledStore::open(&path, &genesis(), config(depth)) {
            Ok(store) => {
                check_store(&store, &round, anchor);
                let tip = store.tip().unwrap();
                last_tip = (tip.height, tip.id);
            }
            Err(e) => panic!(
                "reopen after kill {} failed: {e} (seed {seed})",
                outcome.kills
            ),
        }
    }

    // Final: every block ever reported is stored, and the whole chain checks.
    let store = SledStore::open(&path, &genesis(), config(IntegrityDepth::Full)).unwrap();
    for (id, height) in &reported {
        let entry = store
            .header(id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} lost"));
        assert_eq!(entry.height(), *height);
    }
    let report = store.verify_integrity(IntegrityOptions::full()).unwrap();
    assert!(report.reached_genesis);
    eprintln!(
        "crash test: {} kills ({} before the child was ready), {} commits reported, tip height {}, {} blocks walked, {:.1?}",
        outcome.kills,
        outcome.killed_before_ready,
        outcome.commits,
        store.tip().unwrap().height,
        report.blocks,
        started.elapsed()
    );
    outcome
}

/// At least 200 SIGKILLs in a default run (`TALOS_CRASH_KILLS` to change).
#[test]
fn sigkill_during_imports() {
    let kills = std::env::var("TALOS_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let outcome = kill_loop(kills);
    assert!(outcome.commits > 0, "{outcome:?}");
}

/// 1,000 SIGKILLs.
#[test]
#[ignore = "long: 1,000 kills; run with --ignored"]
fn sigkill_many_times() {
    kill_loop(1_000);
}
