//! Starting a node: the one place that wires identity, storage, the chain service, the network
//! task, the handle and metrics together.
//!
//! [`start`] is what `talos run` uses (sled store in the data dir, real transports);
//! [`start_with`] lets tests and the simulator choose the store and the network settings.
//! Every start-up failure (store, chain service, transports, a listen address in use) is an
//! error of `start`; once running, [`RunningNode::wait`] says how the node stopped.

use std::sync::Arc;

use libp2p::PeerId;
use talos_chain_service::{
    ChainOutputs, ChainService, ChainServiceConfig, ChainServiceError, NOTICE_QUEUE, Started,
};
use talos_network::{COMMAND_QUEUE, NetConfig, NetError, NetParts, Network};
use talos_storage::{SledConfig, SledStore, StorageError, Store};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::handle::{EVENT_CAPACITY, HandleParts, NodeHandle, NodeInfo};
use crate::identity::NodeIdentity;
use crate::metrics::MetricsHub;

/// Sub-directory of the data dir holding the sled chain store.
pub const CHAIN_DIR: &str = "chain";

/// Why a node could not start, or stopped by itself.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The chain store could not be opened.
    #[error("opening the chain store")]
    Store(#[from] StorageError),
    /// The chain service could not start, or stopped with an error.
    #[error(transparent)]
    Chain(#[from] ChainServiceError),
    /// The network could not start.
    #[error(transparent)]
    Network(#[from] NetError),
    /// The messaging agent's state could not be loaded.
    #[error("loading the messaging agent")]
    Agent(#[from] crate::agent::AgentStoreError),
    /// A start-up or network task panicked.
    #[error("the {0} task ended abnormally")]
    Crashed(&'static str),
    /// A part of the node ended although nobody asked it to stop.
    #[error("the {0} stopped without being asked to")]
    StoppedUnasked(&'static str),
}

/// What to start a node with, beyond the identity.
pub struct NodeParts {
    /// The store (sled in production, memory or temporary sled in tests and the simulator).
    pub store: Arc<dyn Store>,
    /// Chain service settings (spec, mining, clock).
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
    net: JoinHandle<()>,
}

impl std::fmt::Debug for RunningNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningNode")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl RunningNode {
    /// Waits until the node stops, then stops the rest. `Ok` when it stopped because
    /// [`NodeHandle::shutdown`] was called; an error when a part failed or ended by itself (a
    /// supervisor should restart it). Storage is flushed on every commit, so nothing is lost
    /// either way.
    pub async fn wait(self) -> Result<(), NodeError> {
        let Self {
            handle,
            chain,
            mut net,
            ..
        } = self;
        let chain_done = chain.join();
        tokio::pin!(chain_done);
        let (first, chain_result, net_result) = tokio::select! {
            result = &mut net => {
                handle.notify_stop();
                ("network", chain_done.await, result)
            }
            result = &mut chain_done => {
                handle.notify_stop();
                ("chain service", result, net.await)
            }
        };
        chain_result?;
        net_result.map_err(|_| NodeError::Crashed("network"))?;
        if handle.stop_requested() {
            Ok(())
        } else {
            Err(NodeError::StoppedUnasked(first))
        }
    }
}

/// Starts a node from its configuration and identity (see
/// [`NodeIdentity::load_or_create`]): sled store in `<data dir>/chain`, real transports.
pub async fn start(config: Config, identity: &NodeIdentity) -> Result<RunningNode, NodeError> {
    let spec = config.network.clone();
    let store_dir = config.data_dir.join(CHAIN_DIR);
    let store = tokio::task::spawn_blocking(move || {
        SledStore::open(&store_dir, &spec.genesis(), SledConfig::for_spec(&spec))
    })
    .await
    .map_err(|_| NodeError::Crashed("store opening"))??;
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
pub async fn start_with(
    identity: &NodeIdentity,
    parts: NodeParts,
) -> Result<RunningNode, NodeError> {
    let NodeParts {
        store,
        chain: chain_config,
        net: net_config,
    } = parts;
    let metrics = MetricsHub::new();
    let (events, _) = broadcast::channel(EVENT_CAPACITY);
    let shutdown = Arc::new(Notify::new());
    let (notice_tx, notices) = mpsc::channel(NOTICE_QUEUE);
    let (net_tx, commands) = mpsc::channel(COMMAND_QUEUE);

    let spec_for_handle = net_config.spec.clone();
    let info = NodeInfo {
        network: net_config.spec.name.clone(),
        network_id: net_config.spec.network_id,
        role: net_config.role,
        peer_id: identity.peer_id(),
        did: identity.did().to_owned(),
        mining: chain_config.mine,
    };
    let outputs = ChainOutputs {
        metrics: metrics.chain.clone(),
        events: events.clone(),
        notices: notice_tx,
    };
    let service_store = store.clone();
    let service_shutdown = shutdown.clone();
    // `spawn` reads the store before it returns: keep that off the async workers.
    let Started {
        channels,
        index,
        service,
    } = tokio::task::spawn_blocking(move || {
        talos_chain_service::spawn::<PeerId>(chain_config, service_store, outputs, service_shutdown)
    })
    .await
    .map_err(|_| NodeError::Crashed("chain service start"))??;

    let agent_config = crate::agent::AgentConfig {
        host_mailboxes: net_config.role != talos_network::Role::Light,
        metrics: metrics.agent.clone(),
        ..crate::agent::AgentConfig::default()
    };
    let kv: Arc<dyn talos_storage::KvStore> = store.clone();
    let (agent, inbound) = crate::agent::spawn_agent(
        agent_config,
        kv,
        identity.signing_key().clone(),
        net_tx.clone(),
        shutdown.clone(),
    )?;
    let network = Network::start(
        net_config,
        NetParts {
            store: store.clone(),
            chain: channels.clone(),
            index,
            notices,
            commands,
            messaging: Some(inbound),
        },
        &mut metrics.registry(),
        metrics.net.clone(),
    );
    let network = match network {
        Ok(network) => network,
        Err(e) => {
            // Nothing runs without the network: stop the chain service before reporting.
            shutdown.notify_waiters();
            shutdown.notify_one();
            if let Err(stop) = service.join().await {
                tracing::warn!(error = %stop, "chain service stopped with an error");
            }
            return Err(e.into());
        }
    };
    let handle = NodeHandle::new(HandleParts {
        info,
        spec: spec_for_handle,
        store,
        chain: channels.commands.clone(),
        net: net_tx,
        events,
        shutdown: shutdown.clone(),
        agent: Some(agent),
    });
    let net = tokio::spawn(network.run(shutdown));
    Ok(RunningNode {
        handle,
        metrics,
        chain: service,
        net,
    })
}

#[cfg(test)]
mod tests {
    use talos_chain::testkit::easy_spec;
    use talos_network::{ListenFailure, TransportKind};
    use talos_storage::MemoryStore;

    use super::*;

    fn parts(listen: &str) -> (NodeIdentity, NodeParts) {
        let spec = easy_spec();
        let identity = NodeIdentity::generate();
        let net = NetConfig::new(spec.clone(), identity.keypair().clone())
            .with_transport(TransportKind::Memory)
            .with_listen(vec![listen.parse().unwrap()]);
        let store = MemoryStore::new(&spec.genesis()).unwrap();
        let parts = NodeParts {
            store: Arc::new(store),
            chain: ChainServiceConfig::new(spec),
            net,
        };
        (identity, parts)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_requested_stop_is_clean_and_an_unasked_one_is_an_error() {
        let (identity, p) = parts("/memory/0");
        let node = start_with(&identity, p).await.unwrap();
        node.handle.shutdown();
        node.wait().await.expect("asked to stop");

        let (identity, p) = parts("/memory/0");
        let node = start_with(&identity, p).await.unwrap();
        // A part ending by itself (here: told to stop by nobody's request).
        node.handle.notify_stop();
        let err = node.wait().await.unwrap_err();
        assert!(matches!(err, NodeError::StoppedUnasked(_)), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_address_the_node_cannot_listen_on_fails_the_start() {
        // The memory transport takes no TCP address.
        let (identity, p) = parts("/ip4/127.0.0.1/tcp/1");
        let err = start_with(&identity, p).await.unwrap_err();
        match &err {
            NodeError::Network(NetError::Listen { addr, reason }) => {
                assert_eq!(addr.to_string(), "/ip4/127.0.0.1/tcp/1");
                assert!(matches!(reason, ListenFailure::Unsupported));
            }
            other => panic!("{other}"),
        }
        assert!(
            err.to_string()
                .contains("cannot listen on /ip4/127.0.0.1/tcp/1: no transport")
        );
    }
}
