//! Starting a node: the one place that wires identity, storage, the chain service, the network
//! task, the handle and metrics together.
//!
//! [`start`] is what `talos run` uses (sled store in the data dir, real transports);
//! [`start_with`] lets tests and the simulator choose the store and the network settings.

use std::sync::Arc;

use anyhow::Context;
use talos_storage::{SledConfig, SledStore, Store};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::chain::{self, ChainService, ChainServiceConfig};
use crate::config::Config;
use crate::handle::{COMMAND_CAPACITY, EVENT_CAPACITY, NodeHandle, NodeInfo};
use crate::identity::NodeIdentity;
use crate::metrics::MetricsHub;
use crate::net::{self, NetConfig, NetError};
use crate::pipeline::NOTICE_QUEUE;

/// Sub-directory of the data dir holding the sled chain store.
pub const CHAIN_DIR: &str = "chain";

/// What to start a node with, beyond the identity.
pub struct NodeParts {
    /// The store (sled in production, memory or temporary sled in tests and the simulator).
    pub store: Arc<dyn Store>,
    /// Chain service settings (spec, mining).
    pub chain: ChainServiceConfig,
    /// Network settings (role, addresses, transport).
    pub net: NetConfig,
}

/// A running node: its handle and the tasks to wait for.
pub struct RunningNode {
    /// The handle (API, CLI, tests).
    pub handle: NodeHandle,
    /// The metrics registry shared with libp2p.
    pub metrics: MetricsHub,
    chain: ChainService,
    net: JoinHandle<Result<(), NetError>>,
}

impl std::fmt::Debug for RunningNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningNode")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl RunningNode {
    /// Waits until the node stops (after [`NodeHandle::shutdown`], or when a task fails), then
    /// stops the rest. Storage is flushed on every commit, so nothing is lost either way.
    pub async fn wait(self) {
        let Self {
            handle,
            chain,
            mut net,
            ..
        } = self;
        let chain_done = chain.join();
        tokio::pin!(chain_done);
        tokio::select! {
            result = &mut net => {
                log_net_result(result);
                handle.shutdown();
                if let Err(e) = chain_done.await {
                    tracing::error!(error = %e, "chain service stopped with an error");
                }
            }
            result = &mut chain_done => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "chain service stopped with an error");
                }
                handle.shutdown();
                log_net_result(net.await);
            }
        }
    }
}

fn log_net_result(result: Result<Result<(), NetError>, tokio::task::JoinError>) {
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "network task stopped with an error"),
        Err(e) => tracing::error!(error = %e, "network task panicked"),
    }
}

/// Starts a node from its configuration and identity (see
/// [`NodeIdentity::load_or_create`]): sled store in `<data dir>/chain`, real transports.
pub async fn start(config: Config, identity: &NodeIdentity) -> anyhow::Result<RunningNode> {
    let spec = config.network.clone();
    let store_dir = config.data_dir.join(CHAIN_DIR);
    let store = tokio::task::spawn_blocking(move || {
        SledStore::open(&store_dir, &spec.genesis(), SledConfig::for_spec(&spec))
    })
    .await
    .context("opening the chain store")?
    .context("opening the chain store")?;
    let chain = ChainServiceConfig::new(config.network.clone())
        .with_mine(config.mine)
        .with_miner_threads(config.miner_threads);
    let net = NetConfig::new(config.network.clone(), identity.keypair().clone())
        .with_role(config.role)
        .with_listen(config.listen.clone())
        .with_bootnodes(config.bootnodes.clone());
    start_with(
        identity,
        NodeParts {
            store: Arc::new(store),
            chain,
            net,
        },
    )
    .await
}

/// Starts a node from explicit parts.
pub async fn start_with(identity: &NodeIdentity, parts: NodeParts) -> anyhow::Result<RunningNode> {
    let NodeParts {
        store,
        chain: chain_config,
        net: net_config,
    } = parts;
    let metrics = MetricsHub::new();
    let (events, _) = broadcast::channel(EVENT_CAPACITY);
    let shutdown = Arc::new(Notify::new());
    let (notice_tx, notice_rx) = mpsc::channel(NOTICE_QUEUE);
    let (net_tx, net_rx) = mpsc::channel(COMMAND_CAPACITY);

    let info = NodeInfo {
        network: net_config.spec.name.clone(),
        network_id: net_config.spec.network_id,
        role: net_config.role.to_string(),
        peer_id: identity.peer_id(),
        did: identity.did().to_owned(),
        mining: chain_config.mine,
    };
    let service_store = store.clone();
    let service_metrics = metrics.node.clone();
    let service_events = events.clone();
    let service_shutdown = shutdown.clone();
    // `spawn` reads the store before it returns: keep that off the async workers.
    let (channels, chain) = tokio::task::spawn_blocking(move || {
        chain::spawn(
            chain_config,
            service_store,
            service_metrics,
            service_events,
            notice_tx,
            service_shutdown,
        )
    })
    .await
    .context("starting the chain service")?
    .context("starting the chain service")?;

    let handle = NodeHandle::new(
        info,
        store.clone(),
        channels.commands.clone(),
        net_tx,
        events,
        shutdown.clone(),
    );
    let net = tokio::spawn(net::run(
        net_config,
        store,
        channels,
        notice_rx,
        net_rx,
        metrics.clone(),
        shutdown,
    ));
    Ok(RunningNode {
        handle,
        metrics,
        chain,
        net,
    })
}
