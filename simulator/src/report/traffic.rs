//! Traffic of the honest nodes: per-node mean and max, totals, and the gossip duplicate ratio.

use serde::{Deserialize, Serialize};

use crate::adversary::AdversaryKind;
use crate::record::NodeTraffic;

/// Whether a [`NodeTraffic::kind`] names an adversary (an [`AdversaryKind`]); every other
/// kind is honest.
pub fn is_adversary_kind(kind: &str) -> bool {
    kind.parse::<AdversaryKind>().is_ok()
}

/// One traffic counter over the honest nodes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CounterStats {
    /// Sum over the nodes.
    pub total: u64,
    /// Mean per node (0 when no node was counted).
    pub mean: f64,
    /// Largest value of one node (0 when no node was counted).
    pub max: u64,
}

impl CounterStats {
    /// Total, mean and max of `values`.
    pub fn of(values: impl IntoIterator<Item = u64>) -> Self {
        let (mut total, mut max, mut count) = (0u64, 0u64, 0usize);
        for value in values {
            total = total.saturating_add(value);
            max = max.max(value);
            count += 1;
        }
        let mean = if count == 0 {
            0.0
        } else {
            total as f64 / count as f64
        };
        Self { total, mean, max }
    }
}

/// Traffic of the honest nodes (adversaries excluded, see [`is_adversary_kind`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrafficSummary {
    /// Honest nodes counted.
    pub nodes: usize,
    /// Bytes received.
    pub bytes_in: CounterStats,
    /// Bytes sent.
    pub bytes_out: CounterStats,
    /// Gossip messages received, duplicates included.
    pub gossip_received: CounterStats,
    /// Gossip messages received that were duplicates.
    pub gossip_duplicates: CounterStats,
    /// Total duplicates / total received; `None` when nothing was received.
    pub duplicate_ratio: Option<f64>,
}

impl TrafficSummary {
    /// Summarises the honest entries of `traffic`.
    pub fn of(traffic: &[NodeTraffic]) -> Self {
        let honest: Vec<&NodeTraffic> = traffic
            .iter()
            .filter(|t| !is_adversary_kind(&t.kind))
            .collect();
        let stats =
            |field: fn(&NodeTraffic) -> u64| CounterStats::of(honest.iter().map(|t| field(t)));
        let gossip_received = stats(|t| t.gossip_received);
        let gossip_duplicates = stats(|t| t.gossip_duplicates);
        let duplicate_ratio = (gossip_received.total > 0)
            .then(|| gossip_duplicates.total as f64 / gossip_received.total as f64);
        Self {
            nodes: honest.len(),
            bytes_in: stats(|t| t.bytes_in),
            bytes_out: stats(|t| t.bytes_out),
            gossip_received,
            gossip_duplicates,
            duplicate_ratio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(node: usize, kind: &str, bytes_in: u64, received: u64, duplicates: u64) -> NodeTraffic {
        NodeTraffic {
            node,
            kind: kind.into(),
            bytes_in,
            bytes_out: bytes_in * 2,
            gossip_received: received,
            gossip_duplicates: duplicates,
            ..NodeTraffic::default()
        }
    }

    #[test]
    fn adversary_kinds_are_recognised() {
        assert!(is_adversary_kind("invalid-block-flood"));
        assert!(is_adversary_kind("junk-sync"));
        assert!(is_adversary_kind("silent"));
        assert!(!is_adversary_kind("miner"));
        assert!(!is_adversary_kind("full"));
        assert!(!is_adversary_kind("bootnode"));
    }

    #[test]
    fn counts_honest_nodes_only() {
        let traffic = vec![
            node(0, "miner", 100, 10, 2),
            node(1, "full", 300, 30, 4),
            node(2, "junk-sync", 1_000_000, 5_000, 5_000),
        ];
        let summary = TrafficSummary::of(&traffic);
        assert_eq!(summary.nodes, 2);
        assert_eq!(
            summary.bytes_in,
            CounterStats {
                total: 400,
                mean: 200.0,
                max: 300
            }
        );
        assert_eq!(
            summary.bytes_out,
            CounterStats {
                total: 800,
                mean: 400.0,
                max: 600
            }
        );
        assert_eq!(summary.gossip_received.total, 40);
        assert_eq!(summary.gossip_duplicates.max, 4);
        assert_eq!(summary.duplicate_ratio, Some(6.0 / 40.0));
    }

    #[test]
    fn empty_traffic() {
        let summary = TrafficSummary::of(&[]);
        assert_eq!(summary.nodes, 0);
        assert_eq!(summary.bytes_in, CounterStats::default());
        assert_eq!(summary.duplicate_ratio, None);
    }
}
