//! Sync benchmark (issue 3): a chain of N blocks of M signed items each, synced from one peer
//! over TCP loopback, as a ratio of the local import rate measured in the same run.
//!
//! 1. Generation (not timed): a `bench` network (the `local` spec with the easiest target),
//!    N blocks of M anchor items signed by ~100 authors with unique nonces, one block
//!    interval apart, built with [`talos_chain::BlockTemplate`] and mined with
//!    [`talos_chain::mine_nonce`] (`support/chain_gen.rs`, shared with the `light` bench).
//! 2. Local import: node A (real chain service, sled store in a temp dir, network task
//!    listening on `127.0.0.1` TCP port 0, no bootnodes) gets every block through its import
//!    queue with source `Sync`, the path sync uses; timed until its tip is at height N.
//! 3. Sync: node B (started with [`talos_node::node::start_with`], fresh sled store) with A as
//!    its only bootnode; timed from B's start until its tip is at height N.
//!
//! ```sh
//! cargo bench -p talos-node --bench sync
//! TALOS_SYNC_BENCH_BLOCKS=500 TALOS_SYNC_BENCH_ITEMS=100 cargo bench -p talos-node --bench sync
//! ```
//!
//! B's sync settings can be varied with `TALOS_SYNC_BENCH_BATCH` (blocks per request),
//! `TALOS_SYNC_BENCH_IN_FLIGHT` (requests in flight per peer) and `TALOS_SYNC_BENCH_WINDOW`
//! (blocks downloaded ahead of the last imported one); unset, B runs the node's defaults.
//! `TALOS_SYNC_BENCH_CACHE_MIB` sets both sled stores' page cache (default: the store's).
//! `RUST_LOG` turns on the nodes' logs (stderr). Exits non-zero only on errors, never on a
//! missed target.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use libp2p::Multiaddr;
use libp2p::PeerId;
use libp2p::multiaddr::Protocol;
use talos_chain::{Block, NetworkSpec};
use talos_chain_service::{
    BlockSource, ChainOutputs, ChainService, ChainServiceConfig, ImportOutcome, ImportRequest,
    NOTICE_QUEUE, Started,
};
use talos_network::{NetCommand, NetConfig, NetParts, Network};
use talos_node::config::LogFormat;
use talos_node::identity::NodeIdentity;
use talos_node::metrics::MetricsHub;
use talos_node::node::{NodeParts, RunningNode, start_with};
use talos_storage::{SledConfig, SledStore, Store};
use talos_sync::SyncConfig;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

#[path = "support/chain_gen.rs"]
mod chain_gen;
use chain_gen::{bench_spec, generate};

/// Import verdicts awaited at once while feeding node A.
const MAX_PENDING_VERDICTS: usize = 256;
/// How long one import verdict may take.
const VERDICT_TIMEOUT: Duration = Duration::from_secs(60);
/// How often B's tip is polled.
const POLL: Duration = Duration::from_millis(50);
/// How often sync progress is reported on stderr.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

struct Params {
    blocks: u64,
    items: usize,
    cache_mib: Option<u64>,
    sync: SyncConfig,
    sync_overrides: Vec<String>,
}

fn env_number<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not a number")),
        Err(_) => Ok(None),
    }
}

impl Params {
    fn from_env() -> anyhow::Result<Self> {
        let blocks = env_number("TALOS_SYNC_BENCH_BLOCKS")?.unwrap_or(10_000u64);
        let items = env_number("TALOS_SYNC_BENCH_ITEMS")?.unwrap_or(100usize);
        ensure!(blocks > 0, "TALOS_SYNC_BENCH_BLOCKS must be positive");
        let cache_mib = env_number("TALOS_SYNC_BENCH_CACHE_MIB")?;
        let mut sync = SyncConfig::default();
        let mut sync_overrides = Vec::new();
        if let Some(n) = env_number("TALOS_SYNC_BENCH_BATCH")? {
            sync = sync.with_blocks_per_request(n);
            sync_overrides.push(format!("TALOS_SYNC_BENCH_BATCH={n}"));
        }
        if let Some(n) = env_number("TALOS_SYNC_BENCH_IN_FLIGHT")? {
            sync = sync.with_max_in_flight_per_peer(n);
            sync_overrides.push(format!("TALOS_SYNC_BENCH_IN_FLIGHT={n}"));
        }
        if let Some(n) = env_number("TALOS_SYNC_BENCH_WINDOW")? {
            sync = sync.with_window(n);
            sync_overrides.push(format!("TALOS_SYNC_BENCH_WINDOW={n}"));
        }
        Ok(Self {
            blocks,
            items,
            cache_mib,
            sync,
            sync_overrides,
        })
    }

    fn command(&self) -> String {
        let mut env = vec![
            format!("TALOS_SYNC_BENCH_BLOCKS={}", self.blocks),
            format!("TALOS_SYNC_BENCH_ITEMS={}", self.items),
        ];
        if let Some(mib) = self.cache_mib {
            env.push(format!("TALOS_SYNC_BENCH_CACHE_MIB={mib}"));
        }
        env.extend(self.sync_overrides.iter().cloned());
        format!("{} cargo bench -p talos-node --bench sync", env.join(" "))
    }
}

/// Node A: the chain service and network task assembled from parts, so the bench holds the
/// chain service's import queue.
struct ServerNode {
    peer_id: PeerId,
    store: Arc<dyn Store>,
    metrics: MetricsHub,
    imports: mpsc::Sender<ImportRequest<PeerId>>,
    commands: mpsc::Sender<NetCommand>,
    shutdown: Arc<Notify>,
    service: ChainService,
    net: JoinHandle<()>,
}

fn listen_any() -> anyhow::Result<Vec<Multiaddr>> {
    Ok(vec!["/ip4/127.0.0.1/tcp/0".parse()?])
}

fn open_store(
    dir: &tempfile::TempDir,
    spec: &NetworkSpec,
    cache_mib: Option<u64>,
) -> anyhow::Result<Arc<dyn Store>> {
    let mut config = SledConfig::for_spec(spec);
    if let Some(mib) = cache_mib {
        config = config.with_cache_bytes(mib << 20);
    }
    let store = SledStore::open(dir.path().join("chain"), &spec.genesis(), config)?;
    Ok(Arc::new(store))
}

async fn start_server(spec: &NetworkSpec, store: Arc<dyn Store>) -> anyhow::Result<ServerNode> {
    let identity = NodeIdentity::generate();
    let metrics = MetricsHub::new();
    let (events, _) = broadcast::channel(16);
    let shutdown = Arc::new(Notify::new());
    let (notice_tx, notices) = mpsc::channel(NOTICE_QUEUE);
    let (commands, commands_rx) = mpsc::channel(16);
    let Started {
        channels,
        index,
        service,
    } = talos_chain_service::spawn(
        ChainServiceConfig::new(spec.clone()),
        store.clone(),
        ChainOutputs {
            metrics: metrics.chain.clone(),
            events,
            notices: notice_tx,
        },
        shutdown.clone(),
    )?;
    let imports = channels.imports.clone();
    let config =
        NetConfig::new(spec.clone(), identity.keypair().clone()).with_listen(listen_any()?);
    let network = Network::start(
        config,
        NetParts {
            store: store.clone(),
            chain: channels,
            index,
            notices,
            commands: commands_rx,
            messaging: None,
        },
        &mut metrics.registry(),
        metrics.net.clone(),
    )?;
    let net = tokio::spawn(network.run(shutdown.clone()));
    Ok(ServerNode {
        peer_id: identity.peer_id(),
        store,
        metrics,
        imports,
        commands,
        shutdown,
        service,
        net,
    })
}

impl ServerNode {
    /// A's dialable address: its first TCP listen address with `/p2p/<id>`.
    async fn dial_addr(&self) -> anyhow::Result<Multiaddr> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (reply, rx) = oneshot::channel();
            self.commands
                .send(NetCommand::ListenAddrs { reply })
                .await
                .context("network gone")?;
            let addrs = rx.await.context("network gone")?;
            if let Some(addr) = addrs.into_iter().find(|a| {
                a.iter()
                    .any(|p| matches!(p, Protocol::Tcp(port) if port != 0))
            }) {
                return Ok(addr.with(Protocol::P2p(self.peer_id)));
            }
            ensure!(Instant::now() < deadline, "node A never listened");
            tokio::time::sleep(POLL).await;
        }
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
        drop(self.imports);
        self.service.join().await?;
        self.net.await?;
        Ok(())
    }
}

/// Feeds every block to A's import queue (source `Sync`, like the sync feeder), keeping up to
/// [`MAX_PENDING_VERDICTS`] verdicts outstanding; returns when the last one is in.
async fn import_all(
    store: &dyn Store,
    imports: &mpsc::Sender<ImportRequest<PeerId>>,
    blocks: Vec<Block>,
) -> anyhow::Result<()> {
    let source = BlockSource::Sync(PeerId::random());
    let mut pending: VecDeque<(u64, oneshot::Receiver<ImportOutcome>)> = VecDeque::new();
    async fn settle(height: u64, rx: oneshot::Receiver<ImportOutcome>) -> anyhow::Result<()> {
        let outcome = tokio::time::timeout(VERDICT_TIMEOUT, rx)
            .await
            .with_context(|| format!("no verdict for block {height}"))?
            .context("chain service gone")?;
        if !matches!(outcome, ImportOutcome::Imported { new_tip: true }) {
            bail!("block {height} not imported: {outcome:?}");
        }
        Ok(())
    }
    let start = Instant::now();
    let mut last_report = Instant::now();
    for block in blocks {
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            let done = store.tip()?.height;
            eprintln!(
                "  import: height {done} after {:.1}s ({:.0} blocks/s so far)",
                start.elapsed().as_secs_f64(),
                done as f64 / start.elapsed().as_secs_f64()
            );
        }
        let height = block.header.height;
        let (reply, rx) = oneshot::channel();
        imports
            .send(ImportRequest {
                block,
                source,
                reply: Some(reply),
            })
            .await
            .context("chain service gone")?;
        pending.push_back((height, rx));
        while pending.len() > MAX_PENDING_VERDICTS {
            if let Some((h, rx)) = pending.pop_front() {
                settle(h, rx).await?;
            }
        }
    }
    while let Some((h, rx)) = pending.pop_front() {
        settle(h, rx).await?;
    }
    Ok(())
}

/// Waits until `handle`'s tip reaches `height`, reporting progress; returns when it did and
/// when the first block arrived.
async fn wait_for_height(
    store: &dyn Store,
    height: u64,
    start: Instant,
    limit: Duration,
) -> anyhow::Result<Option<Duration>> {
    let mut first_block = None;
    let mut last_report = Instant::now();
    loop {
        let tip = store.tip()?.height;
        if tip > 0 && first_block.is_none() {
            first_block = Some(start.elapsed());
        }
        if tip >= height {
            return Ok(first_block);
        }
        if start.elapsed() > limit {
            bail!(
                "sync stalled: height {tip} of {height} after {:.1?}",
                start.elapsed()
            );
        }
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            eprintln!(
                "  sync: height {tip}/{height} after {:.1}s ({:.0} blocks/s so far)",
                start.elapsed().as_secs_f64(),
                tip as f64 / start.elapsed().as_secs_f64()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Linux clock ticks per second of `/proc` CPU times (`USER_HZ`, 100 on every mainstream
/// architecture).
const CLOCK_TICKS: f64 = 100.0;

/// CPU seconds used so far by this process's threads named `talos-chain` (the chain
/// services) and by the whole process.
#[derive(Clone, Copy, Default)]
struct CpuTimes {
    chain: f64,
    process: f64,
}

impl CpuTimes {
    fn now() -> Self {
        let mut times = Self::default();
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return times;
        };
        for task in tasks.flatten() {
            let path = task.path();
            let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            let ticks = proc_ticks(path.join("stat"));
            if name.trim_end() == "talos-chain" {
                times.chain += ticks / CLOCK_TICKS;
            }
        }
        // The process's own line also counts threads that have exited.
        times.process = proc_ticks("/proc/self/stat") / CLOCK_TICKS;
        times
    }

    /// CPU use between `self` and `later` over `wall` seconds, as text.
    fn report(&self, later: &Self, wall: f64) -> String {
        let chain = later.chain - self.chain;
        let process = later.process - self.process;
        format!(
            "chain-service threads {chain:.1} CPU-s ({:.0} % of one core), whole process {process:.1} CPU-s ({:.0} %)",
            100.0 * chain / wall,
            100.0 * process / wall
        )
    }
}

/// utime + stime, in clock ticks, of a `/proc/.../stat` file (0 when unreadable).
fn proc_ticks(path: impl AsRef<std::path::Path>) -> f64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    let Some(close) = stat.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // After the name: state is field 0, utime field 11, stime field 12.
    [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum()
}

/// Peak resident set size of this process (`VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mib(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.0} MiB"))
}

async fn run(params: Params) -> anyhow::Result<()> {
    let spec = bench_spec();
    let n = params.blocks;
    println!("command: {}", params.command());
    println!(
        "sync config of B: blocks_per_request={} max_in_flight_per_peer={} window={}",
        params.sync.blocks_per_request, params.sync.max_in_flight_per_peer, params.sync.window
    );

    // 1. Generation (not measured).
    let t = Instant::now();
    let gen_spec = spec.clone();
    let items = params.items;
    let blocks = tokio::task::spawn_blocking(move || generate(&gen_spec, n, items)).await??;
    let block_bytes: usize = blocks.iter().map(Block::encoded_len).sum();
    println!(
        "generated {n} blocks × {items} items ({:.1} MiB canonical) in {:.1}s",
        block_bytes as f64 / (1 << 20) as f64,
        t.elapsed().as_secs_f64()
    );
    let rss_generated = peak_rss_mib();
    let tip_id = blocks.last().map(Block::id);

    // 2. Local import into A.
    let dir_a = tempfile::tempdir()?;
    let server = start_server(&spec, open_store(&dir_a, &spec, params.cache_mib)?).await?;
    let cpu = CpuTimes::now();
    let t = Instant::now();
    import_all(&*server.store, &server.imports, blocks).await?;
    let import_secs = t.elapsed().as_secs_f64();
    let import_cpu = cpu.report(&CpuTimes::now(), import_secs);
    let tip_a = server.store.tip()?;
    ensure!(
        tip_a.height == n,
        "A's tip is at {} after import",
        tip_a.height
    );
    ensure!(Some(tip_a.id) == tip_id, "A's tip is not the generated tip");
    println!("local import: {n} blocks in {import_secs:.2}s");
    let rss_imported = peak_rss_mib();

    // 3. Sync from A into B over TCP loopback.
    let bootnode = server.dial_addr().await?;
    let dir_b = tempfile::tempdir()?;
    let store_b = open_store(&dir_b, &spec, params.cache_mib)?;
    let identity_b = NodeIdentity::generate();
    let net_b = NetConfig::new(spec.clone(), identity_b.keypair().clone())
        .with_listen(listen_any()?)
        .with_bootnodes(vec![bootnode.clone()])
        .with_sync_config(params.sync.clone());
    let limit = Duration::from_secs(120).max(Duration::from_secs_f64(import_secs * 20.0));
    let cpu = CpuTimes::now();
    let t = Instant::now();
    let node_b: RunningNode = start_with(
        &identity_b,
        NodeParts {
            store: store_b,
            chain: ChainServiceConfig::new(spec.clone()),
            net: net_b,
        },
    )
    .await?;
    let first_block = wait_for_height(&**node_b.handle.store(), n, t, limit).await;
    let sync_secs = t.elapsed().as_secs_f64();
    let sync_cpu = cpu.report(&CpuTimes::now(), sync_secs);
    let tip_b = node_b.handle.tip()?;
    let metrics_a = interesting_metrics(&server.metrics);
    let metrics_b = interesting_metrics(&node_b.metrics);
    node_b.handle.shutdown();
    node_b.wait().await?;
    server.stop().await?;
    let first_block = first_block?;
    ensure!(tip_b.id == tip_a.id, "B synced to another tip");
    println!("sync from A ({bootnode}): {n} blocks in {sync_secs:.2}s");

    // 4. Report.
    let local_bps = n as f64 / import_secs;
    let sync_bps = n as f64 / sync_secs;
    let per_block = items as f64;
    println!();
    println!(
        "| N blocks | items/block | local import blocks/s (items/s) | sync blocks/s (items/s) | sync / local (target ≥ 0.5) | peak RSS |"
    );
    println!("|---|---|---|---|---|---|");
    println!(
        "| {n} | {items} | {local_bps:.0} ({:.0}) | {sync_bps:.0} ({:.0}) | **{:.2}** | {} |",
        local_bps * per_block,
        sync_bps * per_block,
        sync_bps / local_bps,
        mib(peak_rss_mib())
    );
    println!();
    println!(
        "time to B's first block: {}; peak RSS after generation {}, after local import {}",
        first_block.map_or_else(|| "n/a".into(), |d| format!("{:.2}s", d.as_secs_f64())),
        mib(rss_generated),
        mib(rss_imported),
    );
    println!("CPU during local import: {import_cpu}");
    println!("CPU during sync: {sync_cpu}");
    println!("node A (server) counters: {metrics_a}");
    println!("node B (syncing) counters: {metrics_b}");
    println!("command: {}", params.command());
    Ok(())
}

/// The import, rejection, gossip and ban counters of a node, non-zero ones only.
fn interesting_metrics(metrics: &MetricsHub) -> String {
    let text = metrics.encode();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            [
                "talos_blocks_imported",
                "talos_blocks_rejected",
                "talos_gossip_validation",
                "talos_peers_banned",
            ]
            .iter()
            .any(|m| l.starts_with(m))
        })
        .filter(|l| !l.ends_with(" 0"))
        .collect();
    if lines.is_empty() {
        "none".into()
    } else {
        lines.join("; ")
    }
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    if std::env::var_os("RUST_LOG").is_some() {
        talos_node::logging::init(LogFormat::Text)?;
    }
    let params = Params::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(params))
}
