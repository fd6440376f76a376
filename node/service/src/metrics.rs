//! The chain service's metrics. The node registers them in its one Prometheus registry under
//! the `talos_` prefix ([`ChainMetrics::register`]); labels are the stable `&'static str` codes,
//! so counting allocates nothing.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::messages::{ImportSource, Rejection};

/// A label set of one stable code (error code, source).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// The code.
    pub code: &'static str,
}

/// The chain service's metrics.
#[derive(Clone, Debug, Default)]
pub struct ChainMetrics {
    /// Best tip height.
    pub height: Gauge,
    /// Items in the mempool.
    pub mempool_items: Gauge,
    /// Bytes in the mempool.
    pub mempool_bytes: Gauge,
    /// Blocks imported, by source (`gossip`, `sync`, `mined`).
    pub blocks_imported: Family<CodeLabel, Counter>,
    /// Blocks rejected, by rule code.
    pub blocks_rejected: Family<CodeLabel, Counter>,
    /// Reorgs.
    pub reorgs: Counter,
    /// Gossiped side-branch blocks too far below the tip's work to store.
    pub blocks_stale: Counter,
    /// Side-branch blocks in the store (those this run stored or found; pruning lowers it).
    pub side_blocks: Gauge,
}

fn gauge(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl ChainMetrics {
    /// Registers every metric in `registry` (the caller picks the prefix).
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register("height", "Best tip height", m.height.clone());
        registry.register(
            "mempool_items",
            "Items in the mempool",
            m.mempool_items.clone(),
        );
        registry.register(
            "mempool_bytes",
            "Bytes in the mempool",
            m.mempool_bytes.clone(),
        );
        registry.register(
            "blocks_imported",
            "Blocks imported, by source",
            m.blocks_imported.clone(),
        );
        registry.register(
            "blocks_rejected",
            "Blocks rejected, by reason",
            m.blocks_rejected.clone(),
        );
        registry.register("reorgs", "Best-chain reorganisations", m.reorgs.clone());
        registry.register(
            "blocks_stale",
            "Gossiped side-branch blocks below the side-branch work floor, not stored",
            m.blocks_stale.clone(),
        );
        registry.register(
            "side_blocks",
            "Side-branch blocks stored and not yet pruned",
            m.side_blocks.clone(),
        );
        m
    }

    /// Counts one block import from `source`.
    pub fn block_imported(&self, source: ImportSource) {
        self.blocks_imported
            .get_or_create(&CodeLabel {
                code: source.as_str(),
            })
            .inc();
    }

    /// Counts one side-branch block below the work floor.
    pub fn block_stale(&self) {
        self.blocks_stale.inc();
    }

    /// Counts one rejected block.
    pub fn block_rejected(&self, rejection: &Rejection) {
        self.blocks_rejected
            .get_or_create(&CodeLabel {
                code: rejection.code(),
            })
            .inc();
    }

    /// Sets the height and side-block gauges.
    pub fn set_height(&self, height: u64, side_blocks: usize) {
        self.height.set(i64::try_from(height).unwrap_or(i64::MAX));
        self.side_blocks.set(gauge(side_blocks));
    }

    /// Sets the mempool gauges.
    pub fn set_mempool(&self, items: usize, bytes: usize) {
        self.mempool_items.set(gauge(items));
        self.mempool_bytes.set(gauge(bytes));
    }
}
