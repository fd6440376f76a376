//! Shared harness of the network tests: a real node (sled store in a temporary directory, the
//! real chain service, the real network task) and helpers.

#![allow(dead_code)]

pub(crate) mod messaging;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use prometheus_client::registry::Registry;
use talos_chain::{Block, NetworkSpec};
use talos_chain_service::{
    BlockSource, ChainChannels, ChainMetrics, ChainOutputs, ChainService, ChainServiceConfig,
    ImportOutcome, ImportRequest, NOTICE_QUEUE, Started, spawn,
};
use talos_network::{
    INBOUND_QUEUE, InboundMessaging, NetCommand, NetConfig, NetMetrics, NetParts, Network,
    PeerInfo, TransportKind,
};
use talos_storage::{SledStore, Store};
use tempfile::TempDir;
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

#[allow(unused_imports)]
pub(crate) use talos_chain::testkit::{ChainBuilder, easy_spec};

/// How long a test waits for a condition.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// One running node: store, chain service and network task.
pub(crate) struct Node {
    pub(crate) _dir: TempDir,
    pub(crate) peer_id: PeerId,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) chain: ChainChannels<PeerId>,
    pub(crate) commands: mpsc::Sender<NetCommand>,
    pub(crate) registry: Arc<Mutex<Registry>>,
    pub(crate) shutdown: Arc<Notify>,
    pub(crate) net: JoinHandle<()>,
    pub(crate) service: ChainService,
    /// Inbound messaging requests (take it to answer them; nothing answers otherwise).
    pub(crate) messaging: Option<mpsc::Receiver<InboundMessaging>>,
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
        Self::start_configured(spec, listen, bootnodes, transport, |c| c).await
    }

    /// Like [`Node::start_with`], with the network configuration passed through `tweak`.
    pub(crate) async fn start_configured(
        spec: &NetworkSpec,
        listen: &str,
        bootnodes: Vec<Multiaddr>,
        transport: TransportKind,
        tweak: impl FnOnce(NetConfig) -> NetConfig,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> =
            Arc::new(SledStore::open_for_spec(dir.path().join("db"), spec).expect("open store"));
        let mut registry = Registry::default();
        let talos = registry.sub_registry_with_prefix("talos");
        let chain_metrics = ChainMetrics::register(talos);
        let net_metrics = NetMetrics::register(talos);
        let shutdown = Arc::new(Notify::new());
        let (events, _) = broadcast::channel(256);
        let (notices_tx, notices) = mpsc::channel(NOTICE_QUEUE);
        let Started {
            channels: chain,
            index,
            service,
        } = spawn(
            ChainServiceConfig::new(spec.clone()),
            store.clone(),
            ChainOutputs {
                metrics: chain_metrics,
                events,
                notices: notices_tx,
            },
            shutdown.clone(),
        )
        .expect("chain service");
        let keypair = Keypair::generate_ed25519();
        let peer_id = keypair.public().to_peer_id();
        let config = tweak(
            NetConfig::new(spec.clone(), keypair)
                .with_listen(vec![listen.parse().expect("listen addr")])
                .with_bootnodes(bootnodes)
                .with_transport(transport),
        );
        let (commands, commands_rx) = mpsc::channel(16);
        let (messaging_tx, messaging) = mpsc::channel(INBOUND_QUEUE);
        let network = Network::start(
            config,
            NetParts {
                store: store.clone(),
                chain: chain.clone(),
                index,
                notices,
                commands: commands_rx,
                messaging: Some(messaging_tx),
            },
            &mut registry,
            net_metrics,
        )
        .expect("network starts");
        let net = tokio::spawn(network.run(shutdown.clone()));
        Self {
            _dir: dir,
            peer_id,
            store,
            chain,
            commands,
            registry: Arc::new(Mutex::new(registry)),
            shutdown,
            net,
            service,
            messaging: Some(messaging),
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

    /// The metrics registry as OpenMetrics text.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::new();
        let registry = self.registry.lock().expect("registry");
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        text
    }

    /// The value of the first metric line starting with `needle` (0 when absent).
    pub(crate) fn metric(&self, needle: &str) -> f64 {
        let text = self.encode();
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

/// A bare libp2p swarm with `behaviour`, over TCP upgraded with Noise and Yamux as a node's
/// transport is, kept open for 60 s when idle: the adversaries and probes of the tests.
pub(crate) fn tcp_swarm<B: libp2p::swarm::NetworkBehaviour>(
    behaviour: impl FnOnce(&Keypair) -> B,
) -> libp2p::Swarm<B> {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(behaviour)
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}
