//! The summary of a [`RunRecord`]: block propagation percentiles, chain and fork statistics,
//! heal convergence, honest traffic, memory and attackers; as a [`Report`] (serde), a
//! plain-text table ([`Report::table`]) and files on disk ([`write_outputs`]).
//!
//! Computing a report is pure; only [`write_outputs`] touches the file system.

mod grid;
mod memory;
mod output;
mod percentiles;
mod table;
mod traffic;

#[cfg(test)]
pub(crate) mod fixture;

use serde::{Deserialize, Serialize};

use crate::record::{
    AttackerRecord, BlockRecord, FinalState, HealRecord, LowerBound, RunInfo, RunRecord,
};

pub use memory::MemorySummary;
pub use output::{CDF_SVG, Outputs, REPORT_JSON, TIMELINE_SVG, write_outputs};
pub use percentiles::Percentiles;
pub use traffic::{CounterStats, TrafficSummary, is_adversary_kind};

/// The summary of one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// What was run, as recorded (flattened into the report's JSON object).
    #[serde(flatten)]
    pub info: RunInfo,
    /// Per main-chain block, time from production until every live node imported it
    /// (blocks that never completed excluded).
    pub propagation: Option<Percentiles>,
    /// Main-chain blocks some live node never imported.
    pub propagation_incomplete: usize,
    /// Per node and main-chain block, the delay from production to that node's import (the
    /// miner's own 0 excluded).
    pub arrival: Option<Percentiles>,
    /// Blocks produced.
    pub blocks_produced: usize,
    /// Produced blocks on the final best chain.
    pub blocks_main: usize,
    /// Produced blocks not on the final best chain (forks).
    pub stale_blocks: usize,
    /// Reorganisations the nodes reported.
    pub reorgs: usize,
    /// Deepest of them (blocks disconnected); `None` without reorgs.
    pub max_reorg_depth: Option<u64>,
    /// Every partition heal and how long the network took to agree again.
    pub heals: Vec<HealRecord>,
    /// Longest convergence after a heal, over the heals that converged.
    pub max_heal_convergence_ms: Option<f64>,
    /// Heals after which the network never converged within the run.
    pub heals_unconverged: usize,
    /// Traffic of the honest nodes.
    pub traffic: TrafficSummary,
    /// Process memory.
    pub memory: MemorySummary,
    /// Where the nodes ended.
    pub outcome: FinalState,
    /// Every adversary.
    pub attackers: Vec<AttackerRecord>,
    /// Adversaries banned by at least one honest node.
    pub attackers_banned: usize,
    /// The propagation lower bound, when computed.
    pub lower_bound: Option<LowerBound>,
    /// `propagation.p99 / lower_bound.bound_ms`, when both exist and the bound is positive.
    pub p99_over_bound: Option<f64>,
}

impl Report {
    /// Summarises a record.
    pub fn from_record(record: &RunRecord) -> Self {
        let main: Vec<&BlockRecord> = record.blocks.iter().filter(|b| b.main_chain).collect();
        let propagation = Percentiles::of(&complete_delays(&record.blocks));
        let p99_over_bound = match (&propagation, &record.lower_bound) {
            (Some(p), Some(bound)) if bound.bound_ms > 0.0 => Some(p.p99 / bound.bound_ms),
            _ => None,
        };
        Self {
            info: record.info.clone(),
            propagation,
            propagation_incomplete: main.iter().filter(|b| b.complete_ms.is_none()).count(),
            arrival: Percentiles::of(&arrival_delays(&record.blocks)),
            blocks_produced: record.blocks.len(),
            blocks_main: main.len(),
            stale_blocks: record.blocks.len() - main.len(),
            reorgs: record.reorgs.len(),
            max_reorg_depth: record.reorgs.iter().map(|r| r.depth).max(),
            heals: record.heals.clone(),
            max_heal_convergence_ms: record
                .heals
                .iter()
                .filter_map(|h| h.converged_after_ms)
                .filter(|ms| !ms.is_nan())
                .reduce(f64::max),
            heals_unconverged: record
                .heals
                .iter()
                .filter(|h| h.converged_after_ms.is_none())
                .count(),
            traffic: TrafficSummary::of(&record.traffic),
            memory: MemorySummary::of(&record.memory),
            outcome: record.outcome.clone(),
            attackers: record.attackers.clone(),
            attackers_banned: record.attackers.iter().filter(|a| a.banned_by > 0).count(),
            lower_bound: record.lower_bound.clone(),
            p99_over_bound,
        }
    }
}

/// `complete_ms` of every main-chain block that completed.
pub fn complete_delays(blocks: &[BlockRecord]) -> Vec<f64> {
    blocks
        .iter()
        .filter(|b| b.main_chain)
        .filter_map(|b| b.complete_ms)
        .collect()
}

/// Every import delay of every main-chain block, without the miner's own import: one entry
/// of exactly 0 per block is taken to be the miner's and dropped.
pub fn arrival_delays(blocks: &[BlockRecord]) -> Vec<f64> {
    let mut delays = Vec::new();
    for block in blocks.iter().filter(|b| b.main_chain) {
        let miner = block.arrivals_ms.iter().position(|&ms| ms == 0.0);
        delays.extend(
            block
                .arrivals_ms
                .iter()
                .enumerate()
                .filter(|&(i, _)| Some(i) != miner)
                .map(|(_, &ms)| ms),
        );
    }
    delays
}

#[cfg(test)]
mod tests {
    use super::fixture::sample_record;
    use super::*;
    use crate::record::ReorgRecord;

    /// The report of [`sample_record`].
    fn sample_report() -> Report {
        Report::from_record(&sample_record())
    }

    #[test]
    fn counts_blocks_and_forks() {
        let report = sample_report();
        assert_eq!(report.blocks_produced, 5);
        assert_eq!(report.blocks_main, 3);
        assert_eq!(report.stale_blocks, 2);
    }

    #[test]
    fn propagation_uses_main_chain_blocks_only() {
        let report = sample_report();
        // Main chain: complete 100, 300, None; stale blocks have 5 and 9000 and are ignored.
        let p = report.propagation.expect("two completed main-chain blocks");
        let stats = (p.count, p.min, p.p50, p.p99, p.max);
        assert_eq!(stats, (2, 100.0, 100.0, 300.0, 300.0));
        assert_eq!(report.propagation_incomplete, 1);
    }

    #[test]
    fn arrival_drops_the_miners_zero() {
        let report = sample_report();
        // Main-chain arrivals: [0, 40, 100], [0, 120, 300], [0, 80] → 40, 100, 120, 300, 80.
        let a = report.arrival.expect("arrivals");
        assert_eq!((a.count, a.min, a.p50, a.max), (5, 40.0, 100.0, 300.0));
    }

    #[test]
    fn arrival_delays_keeps_other_zeros() {
        let block = BlockRecord {
            main_chain: true,
            arrivals_ms: vec![5.0, 0.0, 0.0],
            ..BlockRecord::default()
        };
        assert_eq!(arrival_delays(&[block]), vec![5.0, 0.0]);
    }

    #[test]
    fn reorgs_and_heals() {
        let report = sample_report();
        assert_eq!(report.reorgs, 3);
        assert_eq!(report.max_reorg_depth, Some(4));
        assert_eq!(report.heals.len(), 2);
        assert_eq!(report.max_heal_convergence_ms, Some(2500.0));
        assert_eq!(report.heals_unconverged, 1);
    }

    #[test]
    fn traffic_is_honest_only() {
        let report = sample_report();
        assert_eq!(report.traffic.nodes, 3);
        assert_eq!(report.traffic.bytes_in.total, 6 * 1024);
        assert_eq!(report.traffic.bytes_in.max, 3 * 1024);
        assert_eq!(report.traffic.gossip_received.total, 60);
        assert_eq!(report.traffic.gossip_duplicates.total, 15);
        assert_eq!(report.traffic.duplicate_ratio, Some(0.25));
    }

    #[test]
    fn attackers_banned_counts_attackers_not_bans() {
        let report = sample_report();
        assert_eq!(report.attackers.len(), 2);
        assert_eq!(report.attackers_banned, 1);
    }

    #[test]
    fn p99_over_bound() {
        let report = sample_report();
        // p99 = 300, bound = 150.
        assert_eq!(report.p99_over_bound, Some(2.0));

        let mut no_bound = sample_record();
        no_bound.lower_bound = None;
        assert_eq!(Report::from_record(&no_bound).p99_over_bound, None);
    }

    #[test]
    fn copies_run_facts() {
        let record = sample_record();
        let report = Report::from_record(&record);
        assert_eq!(report.info.scenario, "fixture");
        assert_eq!(report.info.seed, 42);
        assert_eq!((report.info.nodes, report.info.adversaries), (3, 2));
        assert_eq!(report.outcome.tip_height, 3);
        assert_eq!(report.memory.peak_mib, Some(64.0));
    }

    #[test]
    fn empty_record() {
        let report = Report::from_record(&RunRecord::default());
        assert_eq!(report.propagation, None);
        assert_eq!(report.arrival, None);
        assert_eq!(report.blocks_produced, 0);
        assert_eq!(report.stale_blocks, 0);
        assert_eq!(report.max_reorg_depth, None);
        assert_eq!(report.max_heal_convergence_ms, None);
        assert_eq!(report.p99_over_bound, None);
        assert_eq!(report.attackers_banned, 0);
    }

    #[test]
    fn reorg_depth_is_the_maximum() {
        let record = RunRecord {
            reorgs: vec![
                ReorgRecord {
                    node: 0,
                    t_ms: 1.0,
                    depth: 2,
                },
                ReorgRecord {
                    node: 1,
                    t_ms: 2.0,
                    depth: 7,
                },
            ],
            ..RunRecord::default()
        };
        assert_eq!(Report::from_record(&record).max_reorg_depth, Some(7));
    }
}
