//! Shared harness of the network tests: a real node (sled store in a temporary directory, the
//! real chain service, the real network task) and helpers.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use talos_chain::{
    Block, BlockTemplate, CompactTarget, Hash256, HeaderTree, NetworkSpec, mine_nonce,
};
use talos_node::chain::{ChainChannels, ChainService, ChainServiceConfig, spawn};
use talos_node::handle::{NetCommand, PeerInfo};
use talos_node::metrics::MetricsHub;
use talos_node::net::{self, NetConfig, TransportKind};
use talos_node::pipeline::{BlockSource, ImportOutcome, ImportRequest, NOTICE_QUEUE};
use talos_storage::{SledStore, Store};
use tempfile::TempDir;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

/// How long a test waits for a condition.
pub(crate) const WAIT: Duration = Duration::from_secs(30);
/// The easiest target: blocks mine in a few hashes.
pub(crate) const EASY: CompactTarget = CompactTarget(0x207f_ffff);

/// The `local` spec with the easiest target.
pub(crate) fn easy_spec() -> NetworkSpec {
    let mut spec = NetworkSpec::local();
    spec.genesis_target = EASY;
    spec.retarget.pow_limit = EASY;
    spec
}

/// Builds a chain the way a remote miner would, one block interval apart.
pub(crate) struct ChainBuilder {
    spec: NetworkSpec,
    tree: HeaderTree,
    tip: Hash256,
}

impl ChainBuilder {
    /// A builder at genesis.
    pub(crate) fn new(spec: &NetworkSpec) -> Self {
        Self {
            spec: spec.clone(),
            tree: HeaderTree::new(spec),
            tip: spec.genesis_hash(),
        }
    }

    /// The next block on the builder's tip.
    pub(crate) fn next(&mut self) -> Block {
        let ctx = self
            .tree
            .parent_context(&self.tip, &self.spec)
            .expect("known parent");
        let time = ctx.header.timestamp_ms + self.spec.retarget.block_interval_ms;
        let template = BlockTemplate::from_items(&self.spec, &ctx, Vec::new(), time);
        let header = mine_nonce(template.header(), 1_000_000).expect("easy target");
        let block = template.complete(header).expect("same template");
        self.tree.insert(block.header).expect("linked header");
        self.tip = block.id();
        block
    }
}

/// One running node: store, chain service and network task.
pub(crate) struct Node {
    pub(crate) _dir: TempDir,
    pub(crate) peer_id: PeerId,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) chain: ChainChannels,
    pub(crate) commands: mpsc::Sender<NetCommand>,
    pub(crate) metrics: MetricsHub,
    pub(crate) shutdown: Arc<Notify>,
    pub(crate) net: JoinHandle<Result<(), net::NetError>>,
    pub(crate) service: ChainService,
}

impl Node {
    /// Starts a node on `spec` listening on `listen`, dialing `bootnodes`.
    pub(crate) async fn start(spec: &NetworkSpec, listen: &str, bootnodes: Vec<Multiaddr>) -> Self {
        let transport = if listen.starts_with("/memory/") {
            TransportKind::Memory
        } else {
            TransportKind::Network
        };
        Self::start_with(spec, listen, bootnodes, transport).await
    }

    /// Like [`Node::start`] with a chosen transport.
    pub(crate) async fn start_with(
        spec: &NetworkSpec,
        listen: &str,
        bootnodes: Vec<Multiaddr>,
        transport: TransportKind,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(SledStore::open_for_spec(dir.path().join("db"), spec).expect("open store"));
        let metrics = MetricsHub::new();
        let shutdown = Arc::new(Notify::new());
        let (events, _) = broadcast::channel(256);
        let (notices_tx, notices) = mpsc::channel(NOTICE_QUEUE);
        let (chain, service) = spawn(
            ChainServiceConfig::new(spec.clone()),
            store.clone(),
            metrics.node.clone(),
            events,
            notices_tx,
            shutdown.clone(),
        )
        .expect("chain service");
        let keypair = Keypair::generate_ed25519();
        let peer_id = keypair.public().to_peer_id();
        let config = NetConfig::new(spec.clone(), keypair)
            .with_listen(vec![listen.parse().expect("listen addr")])
            .with_bootnodes(bootnodes)
            .with_transport(transport);
        let (commands, commands_rx) = mpsc::channel(16);
        let net = tokio::spawn(net::run(
            config,
            store.clone(),
            chain.clone(),
            notices,
            commands_rx,
            metrics.clone(),
            shutdown.clone(),
        ));
        Self {
            _dir: dir,
            peer_id,
            store,
            chain,
            commands,
            metrics,
            shutdown,
            net,
            service,
        }
    }

    /// The first listen address, with `/p2p/<id>`.
    pub(crate) async fn addr(&self) -> Multiaddr {
        for _ in 0..100 {
            let (reply, rx) = oneshot::channel();
            self.commands
                .send(NetCommand::ListenAddrs { reply })
                .await
                .expect("net alive");
            if let Some(addr) = rx.await.expect("reply").into_iter().next() {
                return addr.with(Protocol::P2p(self.peer_id));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("node never listened");
    }

    /// Connected peers.
    pub(crate) async fn peers(&self) -> Vec<PeerInfo> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(NetCommand::Peers { reply })
            .await
            .expect("net alive");
        rx.await.expect("reply")
    }

    /// Best tip height.
    pub(crate) fn height(&self) -> u64 {
        self.store.tip().expect("tip").height
    }

    /// Imports a block as if mined here; it must be accepted.
    pub(crate) async fn import(&self, block: Block) {
        let (reply, rx) = oneshot::channel();
        self.chain
            .imports
            .send(ImportRequest {
                block,
                source: BlockSource::Mined,
                reply: Some(reply),
            })
            .await
            .expect("chain alive");
        let outcome = rx.await.expect("verdict");
        assert!(
            matches!(outcome, ImportOutcome::Imported { .. }),
            "{outcome:?}"
        );
    }

    /// The value of the first metric line starting with `needle` (0 when absent).
    pub(crate) fn metric(&self, needle: &str) -> f64 {
        let text = self.metrics.encode();
        text.lines()
            .find(|l| l.starts_with(needle))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    /// Shuts the node down and waits for its tasks.
    pub(crate) async fn stop(self) {
        self.shutdown.notify_waiters();
        let _ = tokio::time::timeout(WAIT, self.net).await;
        let _ = tokio::time::timeout(WAIT, self.service.join()).await;
    }
}

/// Polls `check` every 100 ms until it holds or [`WAIT`] passes.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}
