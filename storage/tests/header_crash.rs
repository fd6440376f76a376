//! Crash test of the header store: a child process commits headers (extensions, side headers
//! and reorgs) into a sled header store; the parent SIGKILLs it at random moments, reopens the
//! store and checks it is exactly the state after the last commit that returned, or after the
//! one in flight — never part of one, never anything else — then starts the next round on the
//! same directory.
//!
//! Before each commit the child prints `BEGIN <tip height> <tip id> <new id@height…>`, after
//! it returned `COMMITTED <tip height> <tip id>`. So the parent knows every header the store
//! may hold. After each kill it checks: the store opens (integrity walk included), the tip
//! is the last committed one or the in-flight one's, the in-flight commit's headers are all
//! there or none is, the store holds exactly the headers of the commits that landed (no
//! header past them), and the full integrity walk passes (every header below the tip present,
//! links, index and work sums).
//!
//! The child is this test binary re-executed to run only `header_crash_child` with
//! `TALOS_HEADER_CRASH_CHILD_DIR` set (without it, that test does nothing).
//! `TALOS_HEADER_CRASH_KILLS` sets the number of kills (default 100), `TALOS_HEADER_CRASH_SEED`
//! replays a run; the ignored `header_sigkill_many_times` does 1,000 kills.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use talos_chain::{BlockHeader, Hash256, NetworkSpec};
use talos_storage::{
    HeaderEntry, HeaderStore, HeaderUpdate, IntegrityDepth, SledHeaderConfig, SledHeaderStore,
};

const CHILD_DIR_ENV: &str = "TALOS_HEADER_CRASH_CHILD_DIR";
const CHILD_SEED_ENV: &str = "TALOS_HEADER_CRASH_CHILD_SEED";
const READY: &str = "TALOS-READY";
const BEGIN: &str = "TALOS-BEGIN";
const COMMITTED: &str = "TALOS-COMMITTED";

fn genesis() -> BlockHeader {
    NetworkSpec::local().genesis().header
}

fn config(depth: IntegrityDepth) -> SledHeaderConfig {
    SledHeaderConfig::default()
        .with_cache_bytes(2 << 20)
        .with_integrity(depth)
}

/// A child of `parent`; `salt` distinguishes siblings. Its work is its parent's plus its own
/// target's, as the store requires.
fn child(parent: &HeaderEntry, salt: u64) -> HeaderEntry {
    let header = BlockHeader {
        version: parent.header.version,
        network_id: parent.header.network_id,
        height: parent.height() + 1,
        prev_hash: parent.id(),
        merkle_root: Hash256::sha256_parts(&[b"root", &salt.to_be_bytes()]),
        state_root: parent.header.state_root,
        item_count: 0,
        timestamp_ms: parent.header.timestamp_ms + 1_000 + salt,
        target: parent.header.target,
        nonce: salt,
    };
    let own = header.target.to_target().expect("valid target").work();
    HeaderEntry {
        header,
        cumulative_work: parent.cumulative_work.saturating_add(own),
    }
}

fn run(parent: &HeaderEntry, n: u64, salt: u64) -> Vec<HeaderEntry> {
    let mut out: Vec<HeaderEntry> = Vec::new();
    for _ in 0..n {
        let p = out.last().copied().unwrap_or(*parent);
        out.push(child(&p, salt));
    }
    out
}

fn best(store: &SledHeaderStore, height: u64) -> HeaderEntry {
    store.best_header_at(height).unwrap().expect("best header")
}

/// The child's next update: mostly extensions of 1–6 headers, sometimes 1–3 side headers below
/// the tip, sometimes a reorg dropping 1–3 headers for 2–5 new ones.
fn next_update(store: &SledHeaderStore, rng: &mut StdRng) -> HeaderUpdate {
    let tip = store.tip().unwrap();
    let salt = rng.gen_range(1..1_000_000_000u64);
    match rng.gen_range(0..10) {
        0 | 1 if tip.height >= 4 => {
            let drop_n = rng.gen_range(1..=3u64);
            let fork = best(store, tip.height - drop_n);
            let branch = run(&fork, drop_n + rng.gen_range(1..=2), salt);
            HeaderUpdate {
                disconnect: (0..drop_n)
                    .map(|d| best(store, tip.height - d).id())
                    .collect(),
                connect: branch.iter().map(HeaderEntry::id).collect(),
                new_tip: branch.last().unwrap().as_tip(),
                store: branch,
            }
        }
        2 if tip.height >= 2 => {
            let from = rng.gen_range(tip.height.saturating_sub(6)..tip.height);
            let side = run(&best(store, from), rng.gen_range(1..=3), salt);
            HeaderUpdate::side_headers(side, tip)
        }
        _ => {
            let headers = run(&best(store, tip.height), rng.gen_range(1..=6), salt);
            HeaderUpdate::extend_many(headers, tip)
        }
    }
}

/// The child: commits until killed. Does nothing unless started by the parent.
#[test]
fn header_crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_ENV) else {
        return;
    };
    let seed: u64 = std::env::var(CHILD_SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut rng = StdRng::seed_from_u64(seed);
    let store =
        SledHeaderStore::open_with(&dir, &genesis(), config(IntegrityDepth::Recent(16))).unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{READY}").unwrap();
    out.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let update = next_update(&store, &mut rng);
        let mut line = format!("{BEGIN} {} {}", update.new_tip.height, update.new_tip.id);
        for entry in &update.store {
            if !store.contains(&entry.id(), entry.height()).unwrap() {
                line.push_str(&format!(" {}@{}", entry.id(), entry.height()));
            }
        }
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
        let tip = store.commit(update).unwrap();
        writeln!(out, "{COMMITTED} {} {}", tip.height, tip.id).unwrap();
        out.flush().unwrap();
    }
}

/// A header as the store addresses it: id and height.
type Key = (Hash256, u64);

/// A commit the child announced: its tip and the headers it adds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Announced {
    tip: (u64, Hash256),
    ids: Vec<Key>,
}

/// The words after `marker` in `line` (libtest may print "test … " in front of a line).
fn words<'a>(line: &'a str, marker: &str) -> Option<Vec<&'a str>> {
    let rest = &line[line.find(marker)? + marker.len()..];
    Some(rest.split_whitespace().collect())
}

fn parse_tip(words: &[&str]) -> Option<(u64, Hash256)> {
    Some((words.first()?.parse().ok()?, words.get(1)?.parse().ok()?))
}

fn parse_begin(line: &str) -> Option<Announced> {
    let words = words(line, BEGIN)?;
    let ids = words
        .get(2..)?
        .iter()
        .map(|w| {
            let (id, height) = w.split_once('@')?;
            Some((id.parse().ok()?, height.parse().ok()?))
        })
        .collect::<Option<_>>()?;
    Some(Announced {
        tip: parse_tip(&words)?,
        ids,
    })
}

fn parse_committed(line: &str) -> Option<(u64, Hash256)> {
    parse_tip(&words(line, COMMITTED)?)
}

/// What the store must hold: every header of the commits that landed, and their last tip.
#[derive(Debug)]
struct Model {
    headers: HashSet<Key>,
    tip: (u64, Hash256),
}

impl Model {
    fn apply(&mut self, commit: Announced) {
        self.headers.extend(commit.ids);
        self.tip = commit.tip;
    }
}

/// One round's output: the commits that returned, and the one in flight when killed.
#[derive(Debug, Default)]
struct Round {
    ready: bool,
    committed: Vec<Announced>,
    in_flight: Option<Announced>,
}

fn read_round(lines: &mpsc::Receiver<String>) -> Round {
    let mut round = Round::default();
    for line in lines.iter() {
        if line.contains(READY) {
            round.ready = true;
        } else if let Some(begin) = parse_begin(&line) {
            assert!(round.in_flight.is_none(), "two BEGINs without a COMMITTED");
            round.in_flight = Some(begin);
        } else if let Some(tip) = parse_committed(&line) {
            let commit = round.in_flight.take().expect("COMMITTED without BEGIN");
            assert_eq!(
                commit.tip, tip,
                "the commit returned another tip than announced"
            );
            round.committed.push(commit);
        }
    }
    round
}

/// Checks the reopened store against the model after the round's returned commits, and
/// applies the in-flight commit to the model if (and only if) it landed whole. Returns whether
/// it did.
fn check_store(store: &SledHeaderStore, model: &mut Model, in_flight: Option<Announced>) -> bool {
    let tip = store.tip().unwrap();
    let tip = (tip.height, tip.id);
    let mut landed = false;
    if let Some(commit) = in_flight {
        let present = commit
            .ids
            .iter()
            .filter(|(id, height)| store.contains(id, *height).unwrap())
            .count();
        landed = if commit.ids.is_empty() {
            tip == commit.tip
        } else {
            assert!(
                present == 0 || present == commit.ids.len(),
                "commit in flight partly applied: {present} of {} headers",
                commit.ids.len()
            );
            present > 0
        };
        if landed {
            model.apply(commit);
        }
    }
    assert_eq!(
        tip, model.tip,
        "tip is neither the last returned nor the in-flight commit's"
    );
    let stats = store.stats().unwrap();
    assert_eq!(
        stats.headers,
        model.headers.len() as u64,
        "the store holds headers of no landed commit, or lost some"
    );
    for (id, height) in &model.headers {
        assert!(
            store.contains(id, *height).unwrap(),
            "committed header {id} lost"
        );
    }
    let report = store.verify(true).unwrap();
    assert!(report.reached_genesis);
    assert_eq!(report.headers, tip.0 + 1);
    landed
}

fn spawn_child(dir: &Path, seed: u64) -> (std::process::Child, mpsc::Receiver<String>) {
    let exe = std::env::current_exe().unwrap();
    let mut process = Command::new(exe)
        .args([
            "header_crash_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
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

/// Starts a child, kills it with SIGKILL at a random moment (one round in ten during
/// start-up), and returns its output. The ready line may be consumed by the wait.
fn kill_child(path: &Path, rng: &mut StdRng) -> Round {
    let (mut process, lines) = spawn_child(path, rng.r#gen());
    let early_kill = rng.gen_ratio(1, 10);
    let mut ready = false;
    if early_kill {
        // While opening, creating the store, or walking the chain.
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..15_000)));
    } else {
        ready = wait_ready(&lines);
        assert!(
            ready,
            "child did not get ready (exit: {:?})",
            process.try_wait()
        );
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..25_000)));
    }
    // std's Child::kill sends SIGKILL on Unix.
    process.kill().unwrap();
    let status = process.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(libc::SIGKILL),
        "child ended otherwise: {status:?}"
    );
    let mut round = read_round(&lines);
    round.ready |= ready;
    round
}

fn kill_loop(kills: u32) -> usize {
    let seed = std::env::var("TALOS_HEADER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().r#gen::<u64>());
    eprintln!("header crash test: seed {seed} (replay with TALOS_HEADER_CRASH_SEED={seed})");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let g = genesis().id();
    let mut model = Model {
        headers: [(g, 0)].into_iter().collect(),
        tip: (0, g),
    };
    let (started, mut commits, mut in_flight_landed, mut unready) = (Instant::now(), 0, 0, 0);
    for kill in 1..=kills {
        let round = kill_child(&path, &mut rng);
        unready += u32::from(!round.ready);
        commits += round.committed.len();
        for commit in round.committed {
            model.apply(commit);
        }
        let depth = if kill % 10 == 0 {
            IntegrityDepth::Full
        } else {
            IntegrityDepth::Recent(100)
        };
        let store = SledHeaderStore::open_with(&path, &genesis(), config(depth))
            .unwrap_or_else(|e| panic!("reopen after kill {kill} failed: {e} (seed {seed})"));
        in_flight_landed += usize::from(check_store(&store, &mut model, round.in_flight));
    }
    let store =
        SledHeaderStore::open_with(&path, &genesis(), config(IntegrityDepth::Full)).unwrap();
    for (id, height) in &model.headers {
        let entry = store
            .header(id, *height)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} lost"));
        assert_eq!(entry.id(), *id);
    }
    eprintln!(
        "header crash test: {kills} kills ({unready} before the child was ready), {commits} \
         commits reported, {in_flight_landed} in-flight commits found landed, {} headers, tip \
         height {}, disk {} KiB, {:.1?}",
        model.headers.len(),
        model.tip.0,
        store.disk_bytes().unwrap() / 1024,
        started.elapsed()
    );
    commits
}

/// 100 SIGKILLs in a default run (`TALOS_HEADER_CRASH_KILLS` to change).
#[test]
fn header_sigkill_during_commits() {
    let kills = std::env::var("TALOS_HEADER_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    assert!(kill_loop(kills) > 0, "no commit was reported");
}

/// 1,000 SIGKILLs.
#[test]
#[ignore = "long: 1,000 kills; run with --ignored"]
fn header_sigkill_many_times() {
    kill_loop(1_000);
}
