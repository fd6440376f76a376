//! The honest nodes: each one the real `talos-node` node, started with an injected
//! transport, stopped (keeping its store) and started again.

use std::sync::Arc;
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use talos_chain::NetworkSpec;
use talos_chain_service::ChainServiceConfig;
use talos_network::{NetConfig, Role, TransportKind};
use talos_node::handle::NodeHandle;
use talos_node::identity::NodeIdentity;
use talos_node::metrics::MetricsHub;
use talos_node::node::{NodeParts, RunningNode, start_with};
use talos_storage::{MemoryStore, SledConfig, SledStore, Store};
use tokio::task::JoinHandle;

use super::observe::Observer;
use super::scrape::{metric_sum, metric_sum_suffix};
use crate::error::{NodeFailure, SimError};
use crate::model::NetModel;
use crate::scenario::StorageKind;

/// Starts simulated node `index` on `store` with the network configuration `net`.
pub(crate) async fn start_node(
    index: usize,
    identity: &NodeIdentity,
    store: &Arc<dyn Store>,
    spec: &NetworkSpec,
    net: NetConfig,
) -> Result<RunningNode, SimError> {
    let parts = NodeParts {
        store: store.clone(),
        chain: ChainServiceConfig::new(spec.clone()),
        net,
    };
    start_with(identity, parts)
        .await
        .map_err(|e| SimError::Node {
            node: index,
            source: Box::new(e.into()),
        })
}
/// How long a stopping node may take.
const STOP_WAIT: Duration = Duration::from_secs(20);

/// Counters read from a node's metrics, summed over its incarnations.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counters {
    /// Gossip messages received, duplicates included.
    pub(crate) gossip_received: u64,
    /// Gossip messages received after duplicate filtering.
    pub(crate) gossip_unique: u64,
    /// Gossip messages published.
    pub(crate) gossip_published: u64,
    /// Blocks imported from gossip.
    pub(crate) blocks_gossip: u64,
    /// Blocks imported through sync.
    pub(crate) blocks_sync: u64,
    /// Peers banned.
    pub(crate) bans: u64,
}

impl Counters {
    fn read(metrics: &MetricsHub) -> Self {
        let text = metrics.encode();
        // Counters are whole numbers well below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = |v: f64| v as u64;
        Self {
            gossip_received: n(metric_sum_suffix(
                &text,
                "topic_msg_recv_counts_unfiltered_total",
            )),
            gossip_unique: n(metric_sum_suffix(&text, "topic_msg_recv_counts_total")),
            gossip_published: n(metric_sum_suffix(&text, "topic_msg_published_total")),
            blocks_gossip: n(metric_sum(
                &text,
                "talos_blocks_imported_total",
                "\"gossip\"",
            )),
            blocks_sync: n(metric_sum(&text, "talos_blocks_imported_total", "\"sync\"")),
            bans: n(metric_sum(&text, "talos_peers_banned_total", "")),
        }
    }

    fn add(&mut self, other: Self) {
        self.gossip_received += other.gossip_received;
        self.gossip_unique += other.gossip_unique;
        self.gossip_published += other.gossip_published;
        self.blocks_gossip += other.blocks_gossip;
        self.blocks_sync += other.blocks_sync;
        self.bans += other.bans;
    }
}

/// What kind of honest node it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// Bootstrap role.
    Bootnode,
    /// Produces blocks.
    Miner,
    /// A plain full node.
    Full,
}

impl NodeKind {
    /// Report label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bootnode => "bootnode",
            Self::Miner => "miner",
            Self::Full => "full",
        }
    }
}

struct Running {
    node: RunningNode,
    follower: JoinHandle<()>,
}

/// One simulated honest node.
pub(crate) struct SimNode {
    /// Index.
    pub(crate) index: usize,
    /// Role in the scenario.
    pub(crate) kind: NodeKind,
    identity: NodeIdentity,
    store: Arc<dyn Store>,
    bootnodes: Vec<Multiaddr>,
    running: Option<Running>,
    /// Counters of earlier incarnations.
    past: Counters,
    /// When each incarnation started and stopped (ms since start).
    pub(crate) lifetimes: Vec<(f64, Option<f64>)>,
    _dir: Option<tempfile::TempDir>,
}

/// What every node is built with.
pub(crate) struct FleetConfig {
    /// The network.
    pub(crate) spec: NetworkSpec,
    /// The simulated network.
    pub(crate) model: NetModel,
    /// Storage kind.
    pub(crate) storage: StorageKind,
    /// Kademlia dial target.
    pub(crate) target_peers: usize,
    /// Kademlia periodic bootstrap interval (`None`: the node's default).
    pub(crate) kad_bootstrap: Option<Duration>,
}

impl SimNode {
    /// A node that is not started yet.
    pub(crate) fn new(
        config: &FleetConfig,
        index: usize,
        kind: NodeKind,
        mut secret: [u8; 32],
        bootnodes: Vec<Multiaddr>,
    ) -> Result<Self, SimError> {
        let fail = |source: NodeFailure| SimError::Node {
            node: index,
            source: Box::new(source),
        };
        let identity = NodeIdentity::from_secret(&mut secret).map_err(|e| fail(e.into()))?;
        let genesis = config.spec.genesis();
        let (store, dir): (Arc<dyn Store>, _) = match config.storage {
            StorageKind::Memory => (
                Arc::new(MemoryStore::new(&genesis).map_err(|e| fail(e.into()))?),
                None,
            ),
            StorageKind::Sled => {
                let dir = tempfile::tempdir()?;
                let store = SledStore::open(
                    dir.path().join("chain"),
                    &genesis,
                    SledConfig::for_spec(&config.spec),
                )
                .map_err(|e| fail(e.into()))?;
                (Arc::new(store), Some(dir))
            }
        };
        Ok(Self {
            index,
            kind,
            identity,
            store,
            bootnodes,
            running: None,
            past: Counters::default(),
            lifetimes: Vec::new(),
            _dir: dir,
        })
    }

    /// Replaces the bootnodes it starts from.
    pub(crate) fn set_bootnodes(&mut self, bootnodes: Vec<Multiaddr>) {
        self.bootnodes = bootnodes;
    }

    /// Its PeerId.
    pub(crate) fn peer_id(&self) -> PeerId {
        self.identity.peer_id()
    }

    /// Its dialable address, `/memory/<port>/p2p/<id>`.
    pub(crate) fn addr(&self, model: &NetModel) -> Multiaddr {
        model
            .listen_addr(self.index)
            .with(Protocol::P2p(self.peer_id()))
    }

    /// Whether it runs.
    pub(crate) fn is_up(&self) -> bool {
        self.running.is_some()
    }

    /// Whether it ran at `t_ms` and still runs.
    pub(crate) fn up_since(&self, t_ms: f64) -> bool {
        matches!(self.lifetimes.last(), Some((start, None)) if *start <= t_ms)
    }

    /// Whether one of its incarnations ran at `t_ms`.
    pub(crate) fn was_up_at(&self, t_ms: f64) -> bool {
        self.lifetimes
            .iter()
            .any(|(start, end)| *start <= t_ms && end.is_none_or(|e| e >= t_ms))
    }

    /// Its handle while it runs.
    pub(crate) fn handle(&self) -> Option<&NodeHandle> {
        self.running.as_ref().map(|r| &r.node.handle)
    }

    /// Starts (or restarts, on the same store and key) the node.
    pub(crate) async fn start(
        &mut self,
        config: &FleetConfig,
        observer: &Observer,
    ) -> Result<(), SimError> {
        if self.running.is_some() {
            return Ok(());
        }
        let role = if self.kind == NodeKind::Bootnode {
            Role::Bootstrap
        } else {
            Role::Full
        };
        let mut net = NetConfig::new(config.spec.clone(), self.identity.keypair().clone())
            .with_role(role)
            .with_transport(TransportKind::Injected(config.model.transport(self.index)))
            .with_listen(vec![config.model.listen_addr(self.index)])
            .with_bootnodes(self.bootnodes.clone())
            .with_target_peers(config.target_peers);
        if let Some(interval) = config.kad_bootstrap {
            net = net.with_kad_bootstrap_interval(interval);
        }
        let node = start_node(self.index, &self.identity, &self.store, &config.spec, net).await?;
        let follower = observer.follow(self.index, &node.handle);
        self.lifetimes.push((observer.now_ms(), None));
        self.running = Some(Running { node, follower });
        Ok(())
    }

    /// Stops the node; its store stays for a restart.
    pub(crate) async fn stop(&mut self, observer: &Observer) {
        let Some(Running { node, follower }) = self.running.take() else {
            return;
        };
        self.past.add(Counters::read(&node.metrics));
        node.handle.shutdown();
        match tokio::time::timeout(STOP_WAIT, node.wait()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(node = self.index, error = %e, "node stopped on an error"),
            Err(_) => tracing::warn!(node = self.index, "node did not stop in time"),
        }
        follower.abort();
        if let Some(last) = self.lifetimes.last_mut() {
            last.1 = Some(observer.now_ms());
        }
    }

    /// Counters over every incarnation so far.
    /// Side-branch blocks the running incarnation stores (0 when down).
    pub(crate) fn side_blocks(&self) -> u64 {
        self.running.as_ref().map_or(0, |running| {
            // A gauge of a count: a whole number well below 2^53.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = metric_sum(&running.node.metrics.encode(), "talos_side_blocks", "") as u64;
            n
        })
    }

    pub(crate) fn counters(&self) -> Counters {
        let mut total = self.past;
        if let Some(running) = &self.running {
            total.add(Counters::read(&running.node.metrics));
        }
        total
    }
}
