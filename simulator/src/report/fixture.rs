//! A synthetic [`RunRecord`] shared by the report and plot tests.

use crate::record::{
    AttackerRecord, BlockRecord, EventMark, FinalState, HealRecord, LinkSummary, LowerBound,
    MemorySample, NodeTraffic, ReorgRecord, RunInfo, RunRecord, TipSample,
};

const MIB: u64 = 1024 * 1024;

/// A block with the given facts.
fn block(
    height: u64,
    main_chain: bool,
    arrivals_ms: &[f64],
    complete_ms: Option<f64>,
) -> BlockRecord {
    BlockRecord {
        id: format!("{height:02x}{}", if main_chain { "aa" } else { "bb" }),
        height,
        miner: 0,
        produced_ms: height as f64 * 1000.0,
        main_chain,
        live_nodes: 3,
        arrivals_ms: arrivals_ms.to_vec(),
        complete_ms,
    }
}

/// Traffic of one node.
fn traffic(node: usize, kind: &str, kib: u64, received: u64, duplicates: u64) -> NodeTraffic {
    NodeTraffic {
        node,
        kind: kind.into(),
        bytes_in: kib * 1024,
        bytes_out: kib * 2048,
        gossip_received: received,
        gossip_duplicates: duplicates,
        ..NodeTraffic::default()
    }
}

fn tip_sample(
    t_ms: f64,
    live: usize,
    distinct_tips: usize,
    on_best: usize,
    best_height: u64,
) -> TipSample {
    TipSample {
        t_ms,
        live,
        distinct_tips,
        on_best,
        best_height,
    }
}

fn reorg(node: usize, t_ms: f64, depth: u64) -> ReorgRecord {
    ReorgRecord { node, t_ms, depth }
}

/// Three honest nodes, two adversaries, five blocks (three on the main chain, one of them
/// never complete), three reorgs, two heals (one never converged).
pub(crate) fn sample_record() -> RunRecord {
    RunRecord {
        info: RunInfo {
            scenario: "fixture".into(),
            seed: 42,
            nodes: 3,
            adversaries: 2,
            link: LinkSummary {
                latency_ms: 50.0,
                jitter_ms: 10.0,
                bandwidth_kbps: Some(1000),
            },
            duration_ms: 30_000.0,
        },
        blocks: vec![
            block(1, true, &[0.0, 40.0, 100.0], Some(100.0)),
            block(2, false, &[0.0, 5.0], Some(5.0)),
            block(2, true, &[0.0, 120.0, 300.0], Some(300.0)),
            block(3, false, &[0.0, 9000.0], Some(9000.0)),
            block(3, true, &[0.0, 80.0], None),
        ],
        heals: vec![
            HealRecord {
                at_ms: 10_000.0,
                converged_after_ms: Some(2500.0),
            },
            HealRecord {
                at_ms: 20_000.0,
                converged_after_ms: None,
            },
        ],
        timeline: vec![
            tip_sample(0.0, 3, 1, 3, 0),
            tip_sample(5_000.0, 3, 2, 2, 1),
            tip_sample(10_000.0, 2, 1, 2, 2),
            tip_sample(15_000.0, 3, 1, 3, 3),
        ],
        marks: vec![
            EventMark {
                t_ms: 4_000.0,
                label: "partition".into(),
            },
            EventMark {
                t_ms: 10_000.0,
                label: "heal".into(),
            },
        ],
        reorgs: vec![
            reorg(1, 11_000.0, 1),
            reorg(2, 11_500.0, 4),
            reorg(2, 21_000.0, 2),
        ],
        traffic: vec![
            traffic(0, "miner", 1, 10, 5),
            traffic(1, "bootnode", 2, 20, 5),
            traffic(2, "full", 3, 30, 5),
            traffic(3, "junk-sync", 9_999, 9_999, 9_999),
            traffic(4, "silent", 7_777, 7_777, 0),
        ],
        memory: MemorySample {
            baseline_bytes: 16 * MIB,
            peak_bytes: 64 * MIB,
            settled_bytes: 40 * MIB,
            settled_nodes: 3,
            per_node_bytes: 8 * MIB,
        },
        outcome: FinalState {
            live: 3,
            distinct_tips: 1,
            converged: true,
            tip_id: "03aa0123456789abcdef".into(),
            tip_height: 3,
            settle_ms: Some(750.0),
            open_links: 3,
            max_side_blocks: 1,
        },
        attackers: vec![
            AttackerRecord {
                node: 3,
                kind: "junk-sync".into(),
                peer_id: "12D3KooWJunkSyncPeerIdentifier".into(),
                sent: 120,
                contacted: 3,
                banned_by: 2,
            },
            AttackerRecord {
                node: 4,
                kind: "silent".into(),
                peer_id: "12D3KooWSilentPeerIdentifier".into(),
                sent: 0,
                contacted: 2,
                banned_by: 0,
            },
        ],
        lower_bound: Some(LowerBound {
            hops: 2.0,
            latency_ms: 50.0,
            validation_ms: 25.0,
            bound_ms: 150.0,
        }),
    }
}
