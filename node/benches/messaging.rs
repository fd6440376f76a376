//! Agent messaging benchmark: two (or four) real nodes in this process, each with its own
//! sled store in a temporary directory and its libp2p TCP transport on `127.0.0.1`.
//!
//! 1. **Round trip** (A → B, connected): one message at a time, timed from
//!    [`AgentClient::send`] until A holds B's acknowledgement. That is sealing and a durable
//!    write at A, the request over TCP, signature check, ratchet decryption and a durable write
//!    at B, and the acknowledgement back: p50, p90, p99 over `TALOS_MSG_BENCH_ROUNDS`
//!    (default 1,000) after 100 warm-up messages.
//! 2. **Throughput** (A → B): `TALOS_MSG_BENCH_BURST` (default 20,000) messages queued in
//!    sends of 256, timed until B's agent has opened the last one; messages per second.
//! 3. **Mailbox path** (A → C while C is offline, B and D keep mailboxes): the time until a
//!    message is stored by at least two of C's mailbox nodes (A first tries C itself for up
//!    to 4 s: its QUIC address, if any, never answers), and, once C starts, the time until its
//!    agent has fetched and opened all of them.
//!
//! ```sh
//! cargo bench -p talos-node --bench messaging
//! ```
//!
//! Prints one line per measurement; exits non-zero only on errors, never on a missed goal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use talos_chain::NetworkSpec;
use talos_chain_service::ChainServiceConfig;
use talos_network::NetConfig;
use talos_node::agent::{AgentClient, Delivery, Recipient};
use talos_node::identity::NodeIdentity;
use talos_node::node::{NodeParts, RunningNode, start_with};
use talos_storage::{SledConfig, SledStore};

struct BenchNode {
    running: RunningNode,
    identity: NodeIdentity,
    _dir: tempfile::TempDir,
}

impl BenchNode {
    fn agent(&self) -> &AgentClient {
        self.running
            .handle
            .agent()
            .expect("full nodes have an agent")
    }

    fn recipient(&self) -> Recipient {
        Recipient(self.identity.verifying_key())
    }

    async fn addr(&self) -> anyhow::Result<Multiaddr> {
        // The swarm reports its addresses shortly after it starts listening.
        for _ in 0..200 {
            if let Some(addr) = self.running.handle.listen_addrs().await?.first() {
                return Ok(addr.clone().with(Protocol::P2p(self.identity.peer_id())));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        bail!("no listen address")
    }
}

async fn start(
    spec: &NetworkSpec,
    identity: NodeIdentity,
    dir: tempfile::TempDir,
    bootnodes: Vec<Multiaddr>,
) -> anyhow::Result<BenchNode> {
    let store = SledStore::open(
        dir.path().join("chain"),
        &spec.genesis(),
        SledConfig::for_spec(spec),
    )?;
    let net = NetConfig::new(spec.clone(), identity.keypair().clone())
        .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse()?])
        .with_bootnodes(bootnodes);
    let running = start_with(
        &identity,
        NodeParts {
            store: Arc::new(store),
            chain: ChainServiceConfig::new(spec.clone()),
            net,
        },
    )
    .await?;
    Ok(BenchNode {
        running,
        identity,
        _dir: dir,
    })
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Waits until `events` (subscribed before the sends) has reported `n` opened messages.
async fn wait_received(
    events: &mut tokio::sync::broadcast::Receiver<talos_node::agent::InboxEntry>,
    n: usize,
    limit: Duration,
) -> anyhow::Result<Duration> {
    use tokio::sync::broadcast::error::RecvError;
    let t = Instant::now();
    let mut count = 0;
    while count < n {
        let left = limit.saturating_sub(t.elapsed());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(_)) => count += 1,
            Ok(Err(RecvError::Lagged(missed))) => count += usize::try_from(missed).unwrap_or(0),
            Ok(Err(RecvError::Closed)) => bail!("the agent stopped"),
            Err(_) => bail!("only {count} of {n} messages arrived in {limit:?}"),
        }
    }
    Ok(t.elapsed())
}

async fn round_trips(a: &BenchNode, b: &BenchNode, rounds: usize) -> anyhow::Result<()> {
    let to = b.recipient();
    for i in 0..100 {
        send_one(a.agent(), to, format!("warm-up {i}")).await?;
    }
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let t = Instant::now();
        send_one(a.agent(), to, format!("round trip {i}")).await?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "round trip A→B (send to acknowledgement, {rounds} messages of ~16 B): p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.9)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
    );
    Ok(())
}

async fn send_one(agent: &AgentClient, to: Recipient, text: String) -> anyhow::Result<()> {
    let mut sent = agent.send(to, vec![text.into_bytes()], true).await?;
    let rx = sent
        .pop()
        .and_then(|s| s.delivery)
        .context("a delivery receiver")?;
    match rx.await? {
        Delivery::Direct => Ok(()),
        other => bail!("not delivered directly: {other:?}"),
    }
}

async fn throughput(a: &BenchNode, b: &BenchNode, burst: usize) -> anyhow::Result<()> {
    let mut events = b.agent().subscribe();
    let body = vec![b'x'; 256];
    let t = Instant::now();
    let mut left = burst;
    while left > 0 {
        let n = left.min(256);
        a.agent()
            .send(b.recipient(), vec![body.clone(); n], false)
            .await?;
        left -= n;
    }
    let queued = t.elapsed();
    wait_received(&mut events, burst, Duration::from_secs(300)).await?;
    let total = t.elapsed();
    println!(
        "throughput A→B: {burst} messages of 256 B queued in {:.2} s, all opened by B after {:.2} s: {:.0} messages/s",
        queued.as_secs_f64(),
        total.as_secs_f64(),
        burst as f64 / total.as_secs_f64()
    );
    Ok(())
}

async fn mailbox_path(spec: &NetworkSpec, a: &BenchNode, boot: Multiaddr) -> anyhow::Result<()> {
    const N: usize = 50;
    // C starts, publishes its DID record, and goes offline.
    let c_identity = NodeIdentity::generate();
    let c = start(
        spec,
        c_identity.clone(),
        tempfile::tempdir()?,
        vec![boot.clone()],
    )
    .await?;
    let to = c.recipient();
    let did = to.did();
    let t = Instant::now();
    while a.agent().resolve_did(&did).await.is_err() {
        if t.elapsed() > Duration::from_secs(30) {
            bail!("C's DID record was not found");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.running.handle.shutdown();
    let BenchNode {
        running,
        _dir: c_dir,
        ..
    } = c;
    running.wait().await?;
    let mut times = Vec::with_capacity(N);
    for i in 0..N {
        let t = Instant::now();
        let mut sent = a
            .agent()
            .send(to, vec![format!("offline {i}").into_bytes()], true)
            .await?;
        let rx = sent
            .pop()
            .and_then(|s| s.delivery)
            .context("a delivery receiver")?;
        match rx.await? {
            Delivery::Mailboxes(n) if n >= 2 => times.push(t.elapsed()),
            other => bail!("not deposited: {other:?}"),
        }
    }
    times.sort();
    println!(
        "mailbox deposit A→(C offline), {N} messages one at a time: p50 {:.1} ms, p99 {:.1} ms (the first includes the 4 s direct attempt)",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
    );
    // C comes back on the same data dir and fetches its mailboxes.
    let restarted = Instant::now();
    let store = SledStore::open(
        c_dir.path().join("chain"),
        &spec.genesis(),
        SledConfig::for_spec(spec),
    )?;
    let net = NetConfig::new(spec.clone(), c_identity.keypair().clone())
        .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse()?])
        .with_bootnodes(vec![boot]);
    let back = start_with(
        &c_identity,
        NodeParts {
            store: Arc::new(store),
            chain: ChainServiceConfig::new(spec.clone()),
            net,
        },
    )
    .await?;
    let mut events = back.handle.agent().context("an agent")?.subscribe();
    wait_received(&mut events, N, Duration::from_secs(60)).await?;
    println!(
        "mailbox fetch: C restarted and opened all {N} messages {:.2} s after its start (first fetch 1 s after start)",
        restarted.elapsed().as_secs_f64()
    );
    back.handle.shutdown();
    back.wait().await?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let spec = NetworkSpec::local();
        let a = start(
            &spec,
            NodeIdentity::generate(),
            tempfile::tempdir()?,
            Vec::new(),
        )
        .await?;
        let boot = a.addr().await?;
        let b = start(
            &spec,
            NodeIdentity::generate(),
            tempfile::tempdir()?,
            vec![boot.clone()],
        )
        .await?;
        let d = start(
            &spec,
            NodeIdentity::generate(),
            tempfile::tempdir()?,
            vec![boot.clone()],
        )
        .await?;
        // B's DID record must be in the DHT before A can start a session by DID.
        let did = b.recipient().did();
        let t = Instant::now();
        while a.agent().resolve_did(&did).await.is_err() {
            if t.elapsed() > Duration::from_secs(30) {
                bail!("B's DID record was not found");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        round_trips(&a, &b, env_usize("TALOS_MSG_BENCH_ROUNDS", 1000)).await?;
        throughput(&a, &b, env_usize("TALOS_MSG_BENCH_BURST", 20_000)).await?;
        mailbox_path(&spec, &a, boot).await?;
        for node in [a, b, d] {
            node.running.handle.shutdown();
            node.running.wait().await?;
        }
        Ok(())
    })
}
