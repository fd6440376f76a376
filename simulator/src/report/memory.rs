//! Process memory in MiB.

use serde::{Deserialize, Serialize};

use crate::record::MemorySample;

/// Bytes in one MiB.
const MIB: f64 = 1024.0 * 1024.0;

/// Process memory (resident set size) in MiB; a value is `None` when it was not sampled
/// (recorded as 0 bytes).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct MemorySummary {
    /// RSS before any node started.
    pub baseline_mib: Option<f64>,
    /// Highest RSS during the run.
    pub peak_mib: Option<f64>,
    /// RSS once the network settled.
    pub settled_mib: Option<f64>,
    /// Nodes running at the settled sample.
    pub settled_nodes: usize,
    /// `(settled − baseline) / settled_nodes`.
    pub per_node_mib: Option<f64>,
}

impl MemorySummary {
    /// Converts a raw sample.
    pub fn of(sample: &MemorySample) -> Self {
        Self {
            baseline_mib: mib(sample.baseline_bytes),
            peak_mib: mib(sample.peak_bytes),
            settled_mib: mib(sample.settled_bytes),
            settled_nodes: sample.settled_nodes,
            per_node_mib: if sample.settled_nodes == 0 {
                None
            } else {
                mib(sample.per_node_bytes)
            },
        }
    }
}

/// `bytes` in MiB, `None` for 0 (not sampled).
fn mib(bytes: u64) -> Option<f64> {
    (bytes > 0).then(|| bytes as f64 / MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_mib() {
        let summary = MemorySummary::of(&MemorySample {
            baseline_bytes: 10 * 1024 * 1024,
            peak_bytes: 50 * 1024 * 1024,
            settled_bytes: 40 * 1024 * 1024,
            settled_nodes: 20,
            per_node_bytes: 1536 * 1024,
        });
        assert_eq!(summary.baseline_mib, Some(10.0));
        assert_eq!(summary.peak_mib, Some(50.0));
        assert_eq!(summary.settled_mib, Some(40.0));
        assert_eq!(summary.settled_nodes, 20);
        assert_eq!(summary.per_node_mib, Some(1.5));
    }

    #[test]
    fn unsampled_is_none() {
        assert_eq!(
            MemorySummary::of(&MemorySample::default()),
            MemorySummary::default()
        );
    }
}
