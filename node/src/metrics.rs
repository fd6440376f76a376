//! The node's one Prometheus registry: Talos metrics under `talos_` (the chain service's
//! [`ChainMetrics`] and the network's [`NetMetrics`]) and libp2p's under `libp2p_` (registered
//! when the swarm is built).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use prometheus_client::registry::Registry;
use talos_chain_service::ChainMetrics;
use talos_network::NetMetrics;

/// The registry and Talos's handles into it.
#[derive(Clone, Debug)]
pub struct MetricsHub {
    registry: Arc<Mutex<Registry>>,
    /// The chain service's metrics.
    pub chain: ChainMetrics,
    /// The network task's metrics.
    pub net: NetMetrics,
    /// The messaging agent's metrics.
    pub agent: crate::agent::AgentMetrics,
}

impl MetricsHub {
    /// A registry with Talos metrics registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let talos = registry.sub_registry_with_prefix("talos");
        let chain = ChainMetrics::register(talos);
        let net = NetMetrics::register(talos);
        let agent = crate::agent::AgentMetrics::register(talos);
        Self {
            registry: Arc::new(Mutex::new(registry)),
            chain,
            net,
            agent,
        }
    }

    /// The registry, locked (libp2p registers its metrics through it).
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Encodes the registry in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry());
        out
    }
}

impl Default for MetricsHub {
    fn default() -> Self {
        Self::new()
    }
}
