//! Light client header sync (issue 10): N headers synced by a light client from one full node
//! over TCP loopback, as a ratio of the light client's local header acceptance rate measured in
//! the same run.
//!
//! 1. Generation (not timed): N empty blocks on a `bench` network (the `local` spec with the
//!    easiest target and a 1 ms block interval, so N block times stay behind the clock), stored
//!    in the full node's in-memory store.
//! 2. Local rate: the same headers accepted by `talos_light::plan_headers` and committed to a
//!    fresh sled header store (in a temp dir, the light client's 8 MiB cache) in batches of
//!    512, as the header importer does; headers per second.
//! 3. Sync: a full node (real chain service and network task, TCP on 127.0.0.1) serving the
//!    chain, and a light client (`start_light_with`, fresh sled header store) with the full node
//!    as its only bootnode; timed from the light client's start until its tip is at height N.
//!
//! ```sh
//! cargo bench -p talos-node --bench light_sync                  # N = 100,000
//! TALOS_LIGHT_BENCH_HEADERS=20000 cargo bench -p talos-node --bench light_sync
//! ```
//!
//! Prints both rates and the ratio (goal ≥ 0.5). Exits non-zero only on errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use talos_chain::testkit::{ChainBuilder, easy_spec};
use talos_chain::validate::genesis_work;
use talos_chain::{BlockHeader, NetworkSpec};
use talos_chain_service::ChainServiceConfig;
use talos_light::{Lighter, plan_headers};
use talos_network::NetConfig;
use talos_network::light::LightHeaders;
use talos_network::light::import::header_update;
use talos_node::identity::NodeIdentity;
use talos_node::light::{LIGHT_CACHE_BYTES, start_light_with};
use talos_node::node::{NodeParts, start_with};
use talos_storage::{ChainStore, ChainUpdate, HeaderStore, MemoryStore, SledHeaderStore};

/// Headers per acceptance batch (the sync machine hands over at most a request's worth).
const BATCH: usize = 512;

/// How long the sync may take before the bench gives up.
const SYNC_TIMEOUT: Duration = Duration::from_secs(1_800);

fn bench_spec() -> NetworkSpec {
    let mut spec = easy_spec();
    spec.name = "bench".into();
    spec.retarget.block_interval_ms = 1;
    spec
}

fn headers_wanted() -> anyhow::Result<usize> {
    match std::env::var("TALOS_LIGHT_BENCH_HEADERS") {
        Ok(v) => v.parse().context("TALOS_LIGHT_BENCH_HEADERS"),
        Err(_) => Ok(100_000),
    }
}

/// N empty blocks, committed to a fresh memory store; their headers.
fn generate(spec: &NetworkSpec, n: usize) -> anyhow::Result<(MemoryStore, Vec<BlockHeader>)> {
    let store = MemoryStore::new(&spec.genesis())?;
    let mut builder = ChainBuilder::new(spec);
    let mut work = genesis_work(spec);
    let mut headers = Vec::with_capacity(n);
    for _ in 0..n {
        let block = builder.next_block();
        work = work.saturating_add(block.header.target.to_target()?.work());
        headers.push(block.header);
        store.commit(ChainUpdate::extend(block, work))?;
    }
    Ok((store, headers))
}

/// Local acceptance: plan + commit in batches into a fresh sled header store; headers/s.
fn local_rate(spec: &NetworkSpec, headers: &[BlockHeader]) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let store = SledHeaderStore::open(dir.path(), &spec.genesis().header, LIGHT_CACHE_BYTES)?;
    let now = u64::MAX / 2;
    let start = Instant::now();
    for batch in headers.chunks(BATCH) {
        let plan = plan_headers(
            &LightHeaders(&store),
            batch,
            spec,
            now,
            1_000,
            Lighter::Refuse,
        )
        .map_err(|e| anyhow::anyhow!("local acceptance: {e}"))?;
        store.commit(header_update(&plan))?;
    }
    Ok(headers.len() as f64 / start.elapsed().as_secs_f64())
}

/// Sync over loopback; headers/s.
async fn sync_rate(spec: &NetworkSpec, store: MemoryStore, n: u64) -> anyhow::Result<f64> {
    let full_id = NodeIdentity::generate();
    let full = start_with(
        &full_id,
        NodeParts {
            store: Arc::new(store),
            chain: ChainServiceConfig::new(spec.clone()),
            net: NetConfig::new(spec.clone(), full_id.keypair().clone())
                .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse()?]),
        },
    )
    .await?;
    let addr = loop {
        if let Some(addr) = full.handle.listen_addrs().await?.into_iter().next() {
            break addr.with(libp2p::multiaddr::Protocol::P2p(full_id.peer_id()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let dir = tempfile::tempdir()?;
    let headers = SledHeaderStore::open(dir.path(), &spec.genesis().header, LIGHT_CACHE_BYTES)?;
    let light_id = NodeIdentity::generate();
    let start = Instant::now();
    let light = start_light_with(
        &light_id,
        Arc::new(headers),
        Some(dir.path().to_owned()),
        NetConfig::new(spec.clone(), light_id.keypair().clone())
            .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse()?])
            .with_bootnodes(vec![addr]),
    )
    .await?;
    loop {
        if light.handle.tip()?.height >= n {
            break;
        }
        ensure!(
            start.elapsed() < SYNC_TIMEOUT,
            "the light client did not sync in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    light.handle.shutdown();
    full.handle.shutdown();
    Ok(rate)
}

fn main() -> anyhow::Result<()> {
    let spec = bench_spec();
    let n = headers_wanted()?;
    let t = Instant::now();
    let (store, headers) = generate(&spec, n)?;
    println!("generated {n} blocks in {:.1} s", t.elapsed().as_secs_f64());
    let local = local_rate(&spec, &headers)?;
    println!("local acceptance (plan + sled commit): {local:>10.0} headers/s");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let synced = runtime.block_on(sync_rate(&spec, store, n as u64))?;
    println!("sync from one full node over loopback: {synced:>10.0} headers/s");
    println!("ratio sync / local: {:.2} (goal >= 0.5)", synced / local);
    Ok(())
}
