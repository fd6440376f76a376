//! Talos metrics: one Prometheus registry shared with libp2p-metrics.
//!
//! The chain service and the network task update these; the metrics server encodes the whole
//! registry (ours under `talos_`, libp2p's under `libp2p_`).

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A label set of one stable code (error code, outcome, source).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// The code.
    pub code: String,
}

/// Labels of a gossip validation outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GossipLabel {
    /// `blocks` or `items`.
    pub topic: String,
    /// `accept`, `reject` or `ignore`.
    pub outcome: String,
}

/// The node's own metrics.
#[derive(Clone, Debug, Default)]
pub struct NodeMetrics {
    /// Best tip height.
    pub height: Gauge,
    /// Connected peers.
    pub peers: Gauge,
    /// Items in the mempool.
    pub mempool_items: Gauge,
    /// Bytes in the mempool.
    pub mempool_bytes: Gauge,
    /// Blocks imported, by source (`gossip`, `sync`, `mined`).
    pub blocks_imported: Family<CodeLabel, Counter>,
    /// Blocks rejected, by error code.
    pub blocks_rejected: Family<CodeLabel, Counter>,
    /// Reorgs.
    pub reorgs: Counter,
    /// 1 while syncing, 0 when idle.
    pub syncing: Gauge,
    /// Best height announced by any peer.
    pub sync_target_height: Gauge,
    /// Gossip validation results, by topic and outcome.
    pub gossip_validation: Family<GossipLabel, Counter>,
    /// Peers banned, by reason code.
    pub peers_banned: Family<CodeLabel, Counter>,
}

impl NodeMetrics {
    /// Registers every metric in `registry` under the `talos_` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        let r = registry.sub_registry_with_prefix("talos");
        r.register("height", "Best tip height", m.height.clone());
        r.register("peers", "Connected peers", m.peers.clone());
        r.register(
            "mempool_items",
            "Items in the mempool",
            m.mempool_items.clone(),
        );
        r.register(
            "mempool_bytes",
            "Bytes in the mempool",
            m.mempool_bytes.clone(),
        );
        r.register(
            "blocks_imported",
            "Blocks imported, by source",
            m.blocks_imported.clone(),
        );
        r.register(
            "blocks_rejected",
            "Blocks rejected, by reason",
            m.blocks_rejected.clone(),
        );
        r.register("reorgs", "Best-chain reorganisations", m.reorgs.clone());
        r.register(
            "syncing",
            "1 while range sync is running",
            m.syncing.clone(),
        );
        r.register(
            "sync_target_height",
            "Best height announced by a peer",
            m.sync_target_height.clone(),
        );
        r.register(
            "gossip_validation",
            "Gossip validation results",
            m.gossip_validation.clone(),
        );
        r.register(
            "peers_banned",
            "Peers banned, by reason",
            m.peers_banned.clone(),
        );
        m
    }

    /// Counts one block import from `source`.
    pub fn block_imported(&self, source: &str) {
        self.blocks_imported
            .get_or_create(&CodeLabel {
                code: source.to_owned(),
            })
            .inc();
    }

    /// Counts one rejected block.
    pub fn block_rejected(&self, code: &str) {
        self.blocks_rejected
            .get_or_create(&CodeLabel {
                code: code.to_owned(),
            })
            .inc();
    }

    /// Counts one gossip validation result.
    pub fn gossip_result(&self, topic: &str, outcome: &str) {
        self.gossip_validation
            .get_or_create(&GossipLabel {
                topic: topic.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

/// The registry shared by Talos and libp2p metrics, plus our handles into it.
#[derive(Clone, Debug)]
pub struct MetricsHub {
    /// The registry (encoded by the metrics server).
    pub registry: Arc<Mutex<Registry>>,
    /// Talos metrics.
    pub node: NodeMetrics,
}

impl MetricsHub {
    /// A registry with Talos metrics registered. libp2p-metrics registers into the same
    /// registry when the swarm is built (see [`crate::net`]).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let node = NodeMetrics::register(&mut registry);
        Self {
            registry: Arc::new(Mutex::new(registry)),
            node,
        }
    }

    /// Encodes the registry in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

impl Default for MetricsHub {
    fn default() -> Self {
        Self::new()
    }
}
