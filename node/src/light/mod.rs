//! The light client: `talos run --role light`.
//!
//! A light node holds headers only, in a sled header store under `<data dir>/headers` (a small
//! page cache: its memory does not grow with the chain). The network task runs headers-only
//! sync into it ([`talos_network::light`]); the handle answers the API from it and asks full
//! nodes for proofs, judging them with `talos-light` ([`query`]).

#[cfg(feature = "cli")]
mod answer;
#[cfg(feature = "cli")]
pub(crate) use answer::judge_saved;
#[cfg(feature = "cli")]
pub mod api;
#[cfg(feature = "cli")]
mod query;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use talos_chain::NetworkSpec;
use talos_network::light::LightEvent;
use talos_network::{COMMAND_QUEUE, LightNetParts, NetConfig, Network};
use talos_storage::{ChainTip, HeaderEntry, HeaderStore, SledHeaderStore};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::handle::{EVENT_CAPACITY, HandleError, NodeInfo};
use crate::identity::NodeIdentity;
use crate::metrics::MetricsHub;
use crate::netclient::NetClient;
use crate::node::NodeError;

/// Sub-directory of the data dir holding the light client's header store.
pub const HEADERS_DIR: &str = "headers";

/// sled page cache of a light client's header store: enough for the recent headers sync and
/// proofs read. (sled keeps some memory per page beyond its cache: see `docs/benchmarks.md`,
/// ≈ 100 MiB of RSS at a million headers.)
pub const LIGHT_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// A cloneable handle to a running light client.
#[derive(Clone)]
pub struct LightHandle {
    info: Arc<NodeInfo>,
    spec: Arc<NetworkSpec>,
    headers: Arc<dyn HeaderStore>,
    store_dir: Option<PathBuf>,
    net: NetClient,
    events: broadcast::Sender<LightEvent>,
    shutdown: Arc<Notify>,
    stop_requested: Arc<AtomicBool>,
}

impl std::fmt::Debug for LightHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LightHandle")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LightHandle {
    /// Static facts.
    pub fn info(&self) -> &NodeInfo {
        &self.info
    }

    /// The network's spec.
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    /// The header store.
    pub fn headers(&self) -> &Arc<dyn HeaderStore> {
        &self.headers
    }

    /// The network task.
    pub fn net(&self) -> &NetClient {
        &self.net
    }

    /// The best header tip.
    pub fn tip(&self) -> Result<ChainTip, HandleError> {
        Ok(self.headers.tip()?)
    }

    /// The stored header `id` of height `height`.
    pub fn header(
        &self,
        id: &talos_chain::Hash256,
        height: u64,
    ) -> Result<Option<HeaderEntry>, HandleError> {
        Ok(self.headers.header(id, height)?)
    }

    /// Bytes the header store takes on disk (0 for an in-memory store).
    pub fn disk_bytes(&self) -> u64 {
        self.store_dir
            .as_deref()
            .map_or(0, crate::resources::dir_size)
    }

    /// Subscribes to new headers and tips.
    pub fn subscribe(&self) -> broadcast::Receiver<LightEvent> {
        self.events.subscribe()
    }

    /// Asks the light client to stop.
    pub fn shutdown(&self) {
        self.stop_requested.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
        self.shutdown.notify_one();
    }

    /// Whether [`LightHandle::shutdown`] was called.
    pub fn stop_requested(&self) -> bool {
        self.stop_requested.load(Ordering::SeqCst)
    }
}

/// A running light client.
pub struct RunningLight {
    /// Its handle.
    pub handle: LightHandle,
    /// The metrics registry shared with libp2p.
    pub metrics: MetricsHub,
    net: JoinHandle<()>,
}

impl std::fmt::Debug for RunningLight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningLight")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl RunningLight {
    /// Waits until the network task stops: `Ok` when asked to stop.
    pub async fn wait(self) -> Result<(), NodeError> {
        self.net.await.map_err(|_| NodeError::Crashed("network"))?;
        if self.handle.stop_requested() {
            Ok(())
        } else {
            Err(NodeError::StoppedUnasked("network"))
        }
    }
}

/// Starts a light client from its configuration: sled header store in `<data dir>/headers`.
pub async fn start_light(
    config: &Config,
    identity: &NodeIdentity,
) -> Result<RunningLight, NodeError> {
    let spec = config.network.clone();
    let dir = config.data_dir.join(HEADERS_DIR);
    let open_dir = dir.clone();
    let store = tokio::task::spawn_blocking(move || {
        SledHeaderStore::open(&open_dir, &spec.genesis().header, LIGHT_CACHE_BYTES)
    })
    .await
    .map_err(|_| NodeError::Crashed("header store opening"))??;
    let net = NetConfig::new(config.network.clone(), identity.keypair().clone())
        .with_role(config.role)
        .with_listen(config.listen.clone())
        .with_bootnodes(config.bootnodes.clone());
    start_light_with(identity, Arc::new(store), Some(dir), net).await
}

/// Starts a light client over `headers` (sled or memory) with explicit network settings.
pub async fn start_light_with(
    identity: &NodeIdentity,
    headers: Arc<dyn HeaderStore>,
    store_dir: Option<PathBuf>,
    net_config: NetConfig,
) -> Result<RunningLight, NodeError> {
    let metrics = MetricsHub::new();
    let (events, _) = broadcast::channel(EVENT_CAPACITY);
    let shutdown = Arc::new(Notify::new());
    let (net_tx, commands) = mpsc::channel(COMMAND_QUEUE);
    let info = NodeInfo {
        network: net_config.spec.name.clone(),
        network_id: net_config.spec.network_id,
        role: net_config.role,
        peer_id: identity.peer_id(),
        did: identity.did().to_owned(),
        mining: false,
    };
    let spec = Arc::new(net_config.spec.clone());
    let network = Network::start_light(
        net_config,
        LightNetParts {
            headers: headers.clone(),
            events: events.clone(),
            commands,
            // No messaging agent on a light client yet: its /msg requests are refused.
            messaging: None,
        },
        &mut metrics.registry(),
        metrics.net.clone(),
    )?;
    let handle = LightHandle {
        info: Arc::new(info),
        spec,
        headers,
        store_dir,
        net: NetClient::new(net_tx),
        events,
        shutdown: shutdown.clone(),
        stop_requested: Arc::new(AtomicBool::new(false)),
    };
    let net = tokio::spawn(network.run(shutdown));
    Ok(RunningLight {
        handle,
        metrics,
        net,
    })
}
