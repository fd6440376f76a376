//! Light-client benchmark: three figures, measured in one run.
//!
//! 1. **Light vs full storage**: N blocks of 100 anchor items (generated like the `sync`
//!    bench's, `support/chain_gen.rs`) committed to a full node's [`SledStore`] in batches of
//!    [`BLOCKS_PER_UPDATE`] blocks, and their headers (with cumulative work) to a light
//!    client's [`SledHeaderStore`] with the light client's page cache, each in its own temp
//!    dir; after the stores are flushed and closed, the total size of the files in each dir.
//! 2. **RSS at H stored headers**: a child process (this binary re-executed with a hidden
//!    argument) opens a [`SledHeaderStore`] with [`LIGHT_CACHE_BYTES`] and appends H empty
//!    headers on the easiest target, mined in batches of [`HEADER_BATCH`]; each batch goes
//!    through what a light client does with a batch from header sync: the proof-of-work check
//!    of the sync machine, [`talos_light::plan_headers`] over the store
//!    ([`talos_network::light::LightHeaders`]) and the commit (in updates of
//!    [`HEADERS_PER_UPDATE`] headers, the most one [`HeaderUpdate`] may carry). Then it reads
//!    `VmRSS` and `VmHWM` from `/proc/self/status`. The time spent accepting (mining
//!    excluded) gives the local header validation + commit rate.
//! 3. **What the state root costs block import**: on a chain whose state holds 10,000 entries
//!    (100 blocks of 50 revocations + 50 DID anchors, each followed by a block of 100 anchors,
//!    committed one block per update with their state nodes to a [`SledStore`]; those commits
//!    are timed per kind of block), sibling blocks of 100 items on its tip, each item setting a new entry
//!    (50 revocations + 50 DID anchors), are timed through [`Block::check`] +
//!    [`talos_chain::CheckedBlock::validate`] against the store (as the chain service reads
//!    it), then [`apply_block`] alone on the same blocks; the state cost is the second over the
//!    first. The same for blocks of 100 anchors (no state change), and both again against an
//!    in-memory [`MemoryItemIndex`] for reference. Times are medians over rounds.
//!
//! ```sh
//! cargo bench -p talos-node --bench light              # N = 10,000 blocks, H = 1,000,000
//! cargo bench -p talos-node --bench light -- --quick   # N = 1,000, H = 100,000
//! ```
//!
//! Prints a table on stdout and progress on stderr; writes nothing outside its temp dirs,
//! which it removes. Exits non-zero only on errors, never on a missed goal.

use std::fmt::Display;
use std::hint::black_box;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, ensure};
use talos_chain::chain_state::apply_block;
use talos_chain::item::{Anchor, DidAnchor, Revocation};
use talos_chain::state::{Node, NodeSource};
use talos_chain::{
    Block, BlockHeader, BlockTemplate, Hash256, ItemKind, ItemLookup, MemoryItemIndex, NetworkSpec,
    ParentContext, SignedItem, SigningKey, UnsignedItem, VerifyingKey, mine_nonce,
};
use talos_light::{Lighter, plan_headers};
use talos_network::light::{LightHeaders, MAX_LIGHT_REORG};
use talos_node::light::LIGHT_CACHE_BYTES;
use talos_storage::{
    ChainStore, ChainTip, ChainUpdate, HeaderEntry, HeaderStore, HeaderUpdate, MAX_UPDATE_BLOCKS,
    NewBlock, SledConfig, SledHeaderStore, SledStore, StorageError,
};

#[path = "support/chain_gen.rs"]
mod chain_gen;
use chain_gen::{BLOCK_INTERVAL_MS, MAX_NONCE_TRIES, bench_spec};

/// Items per block in figures 1 and 3.
const ITEMS_PER_BLOCK: usize = 100;
/// Blocks per [`ChainUpdate`] when filling the full store (sync imports in batches).
const BLOCKS_PER_UPDATE: usize = 64;
/// Headers per [`HeaderUpdate`]: each header is one stored and one connected entry.
const HEADERS_PER_UPDATE: usize = MAX_UPDATE_BLOCKS / 2;
/// Headers accepted through `plan_headers` at a time.
const HEADER_BATCH: usize = 2_000;
/// Blocks of 100 state-setting items before the measured ones (10,000 state entries), each
/// followed by a block of 100 anchors.
const STATE_PREFIX_BLOCKS: u64 = 100;
/// Measured sibling blocks of each kind.
const MEASURED_BLOCKS: u64 = 100;
/// The hidden argument that makes this binary the RSS child; followed by the header count.
const CHILD_ARG: &str = "--light-bench-rss-child";
/// How the child's report line starts.
const CHILD_REPORT: &str = "light-bench-rss";

/// How big a run is.
struct Sizes {
    /// Blocks of figure 1.
    blocks: u64,
    /// Headers of figure 2.
    headers: u64,
    /// Timing rounds of figure 3.
    rounds: usize,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                blocks: 1_000,
                headers: 100_000,
                rounds: 3,
            }
        } else {
            Self {
                blocks: 10_000,
                headers: 1_000_000,
                rounds: 9,
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; only `--quick` and the child's argument mean anything.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == CHILD_ARG) {
        let headers = args
            .get(at + 1)
            .context("the child needs a header count")?
            .parse()
            .context("the child's header count")?;
        return rss_child(headers);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let sizes = Sizes::new(quick);
    let spec = bench_spec();
    let started = Instant::now();
    eprintln!("light bench: {} headers in a child process", sizes.headers);
    let rss = rss_figure(sizes.headers)?;
    eprintln!("light bench: state cost ({} rounds)", sizes.rounds);
    let state = state_figure(&spec, sizes.rounds)?;
    eprintln!("light bench: storage of {} blocks", sizes.blocks);
    let storage = storage_figure(&spec, sizes.blocks)?;
    let command = if quick {
        "cargo bench -p talos-node --bench light -- --quick"
    } else {
        "cargo bench -p talos-node --bench light"
    };
    print_report(command, &storage, &rss, &state);
    eprintln!(
        "light bench: done in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Figure 1: light vs full storage.

/// Bytes on disk of both stores holding the same chain.
struct StorageFigure {
    blocks: u64,
    full_bytes: DiskBytes,
    light_bytes: DiskBytes,
    /// Wall time of the full store's commits, per block.
    full_commit: Duration,
}

fn storage_figure(spec: &NetworkSpec, blocks: u64) -> anyhow::Result<StorageFigure> {
    let chain = chain_gen::generate(spec, blocks, ITEMS_PER_BLOCK)?;
    let full_dir = tempfile::tempdir()?;
    let light_dir = tempfile::tempdir()?;
    let mut entries = Vec::with_capacity(chain.len());
    let started = Instant::now();
    {
        let full = SledStore::open(
            full_dir.path().join("chain"),
            &spec.genesis(),
            SledConfig::for_spec(spec),
        )?;
        let mut ctx = ParentContext::for_genesis(spec);
        let mut chain = chain.into_iter().peekable();
        while chain.peek().is_some() {
            let mut batch = Vec::with_capacity(BLOCKS_PER_UPDATE);
            for block in chain.by_ref().take(BLOCKS_PER_UPDATE) {
                ctx = ctx.child_of_header(&block.header);
                entries.push(HeaderEntry {
                    header: block.header,
                    cumulative_work: ctx.cumulative_work,
                });
                batch.push(NewBlock::new(block, ctx.cumulative_work));
            }
            full.commit(chain_extension(batch)?)?;
        }
        full.flush()?;
    }
    let full_commit = started.elapsed() / u32::try_from(blocks.max(1)).unwrap_or(u32::MAX);
    {
        let light = SledHeaderStore::open(
            light_dir.path().join("headers"),
            &spec.genesis().header,
            LIGHT_CACHE_BYTES,
        )?;
        for batch in entries.chunks(HEADERS_PER_UPDATE) {
            let ids = batch.iter().map(HeaderEntry::id).collect();
            light.commit(header_extension(batch.to_vec(), ids)?)?;
        }
        ensure!(light.tip()?.height == blocks, "the header store is short");
    }
    // Both stores are closed: what is measured is what stays on disk.
    Ok(StorageFigure {
        blocks,
        full_bytes: dir_bytes(full_dir.path())?,
        light_bytes: dir_bytes(light_dir.path())?,
        full_commit,
    })
}

/// Stores `blocks` (consecutive, the first a child of the tip) and makes the last the tip.
fn chain_extension(blocks: Vec<NewBlock>) -> anyhow::Result<ChainUpdate> {
    let last = blocks.last().context("an empty batch")?;
    let new_tip = ChainTip {
        id: last.block.id(),
        height: last.block.header.height,
        cumulative_work: last.cumulative_work,
    };
    let connect = blocks.iter().map(|b| b.block.id()).collect();
    Ok(ChainUpdate {
        store: blocks,
        disconnect: Vec::new(),
        connect,
        new_tip,
    })
}

/// Stores `headers` (consecutive, the first a child of the tip, `ids` theirs) and makes the
/// last the tip.
fn header_extension(headers: Vec<HeaderEntry>, ids: Vec<Hash256>) -> anyhow::Result<HeaderUpdate> {
    let new_tip = headers.last().context("an empty batch")?.as_tip();
    Ok(HeaderUpdate {
        store: headers,
        disconnect: Vec::new(),
        connect: ids,
        new_tip,
    })
}

/// Total length of the files under `path`, and the disk space allocated to them.
fn dir_bytes(path: &Path) -> std::io::Result<DiskBytes> {
    let mut total = DiskBytes::default();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            let sub = dir_bytes(&entry.path())?;
            total.len += sub.len;
            total.allocated += sub.allocated;
        } else {
            total.len += meta.len();
            total.allocated += meta.blocks() * 512;
        }
    }
    Ok(total)
}

/// File sizes of a directory tree.
#[derive(Clone, Copy, Default)]
struct DiskBytes {
    /// Sum of the file lengths.
    len: u64,
    /// Sum of the blocks allocated to them (`st_blocks` × 512).
    allocated: u64,
}

// ---------------------------------------------------------------------------------------------
// Figure 2: RSS of a header store at H headers, and the local acceptance rate.

/// What the child reported.
struct RssFigure {
    headers: u64,
    rss_kib: u64,
    peak_kib: u64,
    /// Seconds spent accepting headers (mining excluded).
    accept_secs: f64,
    /// RSS (KiB) by headers stored: after opening, then every tenth of the way.
    marks: Vec<(u64, u64)>,
}

impl RssFigure {
    fn headers_per_sec(&self) -> f64 {
        self.headers as f64 / self.accept_secs
    }
}

/// Runs the child and reads its report.
fn rss_figure(headers: u64) -> anyhow::Result<RssFigure> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let output = Command::new(exe)
        .arg(CHILD_ARG)
        .arg(headers.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running the RSS child")?;
    ensure!(
        output.status.success(),
        "the RSS child failed: {}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(CHILD_REPORT))
        .context("the RSS child reported nothing")?;
    let field = |name: &str| -> anyhow::Result<&str> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .with_context(|| format!("the RSS child reported no {name}"))
    };
    Ok(RssFigure {
        headers,
        rss_kib: field("rss_kib")?.parse()?,
        peak_kib: field("peak_kib")?.parse()?,
        accept_secs: field("accept_secs")?.parse()?,
        marks: field("marks")?
            .split(',')
            .filter_map(|m| {
                let (stored, kib) = m.split_once(':')?;
                Some((stored.parse().ok()?, kib.parse().ok()?))
            })
            .collect(),
    })
}

/// The child: fills a header store and reports its RSS and acceptance time on stdout.
fn rss_child(headers: u64) -> anyhow::Result<()> {
    let spec = bench_spec();
    let dir = tempfile::tempdir()?;
    let store = SledHeaderStore::open(
        dir.path().join("headers"),
        &spec.genesis().header,
        LIGHT_CACHE_BYTES,
    )?;
    let mut ctx = ParentContext::for_genesis(&spec);
    let mut accepting = Duration::ZERO;
    let mut stored = 0u64;
    // `stored:rss_kib` after opening and at every tenth of the way.
    let mut marks = vec![format!("0:{}", rss_kib("VmRSS:")?)];
    while stored < headers {
        let n = usize::try_from(headers - stored)
            .unwrap_or(usize::MAX)
            .min(HEADER_BATCH);
        let batch = mine_headers(&spec, &mut ctx, n)?;
        let t = Instant::now();
        accept_headers(&store, &spec, &batch)?;
        accepting += t.elapsed();
        let tenth = headers.div_ceil(10);
        if (stored + n as u64) / tenth > stored / tenth {
            marks.push(format!("{}:{}", stored + n as u64, rss_kib("VmRSS:")?));
        }
        stored += n as u64;
    }
    ensure!(store.tip()?.height == headers, "the header store is short");
    println!(
        "{CHILD_REPORT} rss_kib={} peak_kib={} accept_secs={} marks={}",
        rss_kib("VmRSS:")?,
        rss_kib("VmHWM:")?,
        accepting.as_secs_f64(),
        marks.join(",")
    );
    drop(store);
    dir.close()?;
    Ok(())
}

/// `n` mined empty headers on `ctx`, one block interval apart; `ctx` ends at the last.
fn mine_headers(
    spec: &NetworkSpec,
    ctx: &mut ParentContext,
    n: usize,
) -> anyhow::Result<Vec<BlockHeader>> {
    (0..n)
        .map(|_| {
            let time = ctx.header.timestamp_ms + BLOCK_INTERVAL_MS;
            let template = BlockTemplate::empty(spec, ctx, time);
            let header = mine_nonce(template.header(), MAX_NONCE_TRIES).context("mining failed")?;
            *ctx = ctx.child_of_header(&header);
            Ok(header)
        })
        .collect()
}

/// What a light client does with a batch from header sync: the sync machine's proof-of-work
/// check, then `plan_headers` over the store, then the commit.
fn accept_headers(
    store: &SledHeaderStore,
    spec: &NetworkSpec,
    headers: &[BlockHeader],
) -> anyhow::Result<()> {
    ensure!(
        headers.iter().all(BlockHeader::meets_own_target),
        "a header lacks its proof of work"
    );
    // The chain runs ahead of the wall clock (one block a second from genesis).
    let last_ms = headers.last().map_or(0, |h| h.timestamp_ms);
    let now_ms = unix_ms().max(last_ms);
    let plan = plan_headers(
        &LightHeaders(store),
        headers,
        spec,
        now_ms,
        MAX_LIGHT_REORG,
        Lighter::Refuse,
    )
    .map_err(|e| anyhow!("headers refused: {e}"))?;
    ensure!(
        plan.disconnect.is_empty() && plan.connect.len() == plan.store.len(),
        "the batch is not an extension"
    );
    for (stored, ids) in plan
        .store
        .chunks(HEADERS_PER_UPDATE)
        .zip(plan.connect.chunks(HEADERS_PER_UPDATE))
    {
        let entries = stored
            .iter()
            .map(|h| HeaderEntry {
                header: h.header,
                cumulative_work: h.cumulative_work,
            })
            .collect();
        store.commit(header_extension(entries, ids.to_vec())?)?;
    }
    Ok(())
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A `/proc/self/status` field in KiB.
fn rss_kib(field: &str) -> anyhow::Result<u64> {
    std::fs::read_to_string("/proc/self/status")?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no {field} in /proc/self/status"))
}

#[path = "support/light_state.rs"]
mod light_state;
use light_state::{StateFigure, Timing, state_figure};

// ---------------------------------------------------------------------------------------------
// The report.

fn mib(bytes: f64) -> f64 {
    bytes / f64::from(1u32 << 20)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(pass: bool) -> &'static str {
    if pass { "pass" } else { "**FAIL**" }
}

/// One table row of a state-cost timing.
fn state_row(what: &str, t: &Timing, goal: Option<f64>) -> String {
    let fraction = t.fraction();
    let (goal_text, result) = match goal {
        Some(g) => (format!("≤ {:.0} %", g * 100.0), verdict(fraction <= g)),
        None => ("(reference)".into(), "—"),
    };
    format!(
        "| {what} | {:.3} of {:.3} ms = **{:.2} %** | {goal_text} | {result} |",
        ms(t.state),
        ms(t.import),
        fraction * 100.0
    )
}

fn print_report(command: &str, storage: &StorageFigure, rss: &RssFigure, state: &StateFigure) {
    let ratio = storage.light_bytes.len as f64 / storage.full_bytes.len as f64;
    let rss_mib = rss.rss_kib as f64 / 1024.0;
    println!("command: {command}");
    println!();
    println!("| figure | measured | goal | result |");
    println!("|---|---|---|---|");
    println!(
        "| light / full storage, {} blocks × {ITEMS_PER_BLOCK} items | {:.2} MiB / {:.1} MiB = **{:.2} %** | ≤ 1 % | {} |",
        storage.blocks,
        mib(storage.light_bytes.len as f64),
        mib(storage.full_bytes.len as f64),
        ratio * 100.0,
        verdict(ratio <= 0.01)
    );
    println!(
        "| light client RSS at {} headers (peak) | **{rss_mib:.1} MiB** ({:.1} MiB) | ≤ 64 MiB | {} |",
        rss.headers,
        rss.peak_kib as f64 / 1024.0,
        verdict(rss_mib <= 64.0)
    );
    println!(
        "| local header validation + commit | **{:.0} headers/s** | (denominator) | — |",
        rss.headers_per_sec()
    );
    let (goal, zero) = (Some(0.10), Some(0.01));
    for row in [
        state_row(
            "state cost / import, 50 revocations + 50 DID anchors, sled",
            &state.sled_state,
            goal,
        ),
        state_row(
            "state cost / import, 100 anchors, sled",
            &state.sled_anchors,
            zero,
        ),
        state_row(
            "state cost / import, 50 revocations + 50 DID anchors, in memory",
            &state.memory_state,
            None,
        ),
        state_row(
            "state cost / import, 100 anchors, in memory",
            &state.memory_anchors,
            None,
        ),
    ] {
        println!("{row}");
    }
    println!();
    println!(
        "storage: file lengths {} B light, {} B full; allocated {} B light, {} B full ({:.2} %); full store commits {:.2} ms per block ({BLOCKS_PER_UPDATE} blocks per update)",
        storage.light_bytes.len,
        storage.full_bytes.len,
        storage.light_bytes.allocated,
        storage.full_bytes.allocated,
        100.0 * storage.light_bytes.allocated as f64 / storage.full_bytes.allocated as f64,
        ms(storage.full_commit)
    );
    let marks: Vec<String> = rss
        .marks
        .iter()
        .map(|(stored, kib)| format!("{stored}: {:.1}", *kib as f64 / 1024.0))
        .collect();
    println!("RSS (MiB) by headers stored: {}", marks.join(", "));
    println!(
        "state chain: {} entries; apply_block of a state block reads {:.0} tree nodes and creates {:.0}",
        state.entries, state.reads_per_block, state.nodes_per_block
    );
    println!(
        "commit, one block per update: state block {:.2} ms (with its nodes), anchor block {:.2} ms",
        ms(state.state_commit),
        ms(state.anchor_commit)
    );
}
