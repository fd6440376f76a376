//! Turning what the run observed into its [`RunRecord`].

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use talos_chain::{BlockTemplate, NetworkSpec, ParentContext, mine_nonce};
use talos_storage::ChainTip;

use super::Simulation;
use super::graph::eccentricity;
use super::sample::summarise;
use super::scrape::process_rss;
use crate::record::{
    AttackerRecord, BlockRecord, FinalState, HealRecord, LinkSummary, LowerBound, MemorySample,
    NodeTraffic, RunInfo, RunRecord, TipSample,
};

/// Longest wait for the observer to catch up with the nodes before the record is built.
const DRAIN: Duration = Duration::from_secs(5);

impl Simulation {
    /// Waits (at most [`DRAIN`]) until the observer has seen every live node import the tip
    /// it reports: tips are read from the nodes directly, imports arrive as events, which a
    /// loaded runtime may not have delivered yet when the settle ends.
    async fn drain_events(&self) {
        let deadline = Instant::now() + DRAIN;
        loop {
            let behind = self.nodes.iter().any(|n| {
                let Some(tip) = n.handle().and_then(|h| h.tip().ok()) else {
                    return false;
                };
                tip.height > 0
                    && !self.observer.with(|log| {
                        log.blocks
                            .get(&tip.id)
                            .is_some_and(|b| b.imports.contains_key(&n.index))
                    })
            });
            if !behind || Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Builds the record; every node still runs (memory is sampled now).
    pub(super) async fn assemble(
        &mut self,
        (timeline, peak_rss): (Vec<TipSample>, u64),
        settle_ms: Option<f64>,
    ) -> RunRecord {
        self.drain_events().await;
        let settled_rss = process_rss();
        let now = self.observer.now_ms();
        let handles: Vec<_> = self
            .nodes
            .iter()
            .filter_map(|n| n.handle().cloned())
            .collect();
        let tips: Vec<ChainTip> = handles.iter().filter_map(|h| h.tip().ok()).collect();
        let last = summarise(now, &tips);
        let best = tips.iter().max_by_key(|t| t.cumulative_work).copied();
        let reference = best.and_then(|b| {
            handles
                .iter()
                .find(|h| h.tip().ok().is_some_and(|t| t.id == b.id))
        });

        let blocks = self.block_records(|id, height| {
            reference.is_some_and(|h| {
                h.store()
                    .best_id_at(height)
                    .ok()
                    .flatten()
                    .is_some_and(|main| main == id)
            })
        });
        let heals = self.heal_records(&timeline);
        let (traffic, attackers) = self.traffic_and_attackers(&handles).await;

        let running = handles.len() + self.adversaries.len();
        let lower_bound = self
            .scenario
            .lower_bound
            .then(|| self.lower_bound(&blocks))
            .flatten();
        RunRecord {
            info: self.run_info(now),
            blocks,
            heals,
            timeline,
            marks: self.marks.clone(),
            reorgs: self.observer.with(|log| log.reorgs.clone()),
            traffic,
            memory: MemorySample {
                baseline_bytes: self.baseline_rss,
                peak_bytes: peak_rss.max(settled_rss),
                settled_bytes: settled_rss,
                settled_nodes: running,
                per_node_bytes: settled_rss.saturating_sub(self.baseline_rss)
                    / (running.max(1) as u64),
            },
            outcome: FinalState {
                live: last.live,
                distinct_tips: last.distinct_tips,
                converged: last.live > 0 && last.distinct_tips == 1,
                tip_id: best.map(|b| b.id.to_hex()).unwrap_or_default(),
                tip_height: best.map_or(0, |b| b.height),
                settle_ms,
                open_links: self.config.model.open_links().len(),
                max_side_blocks: self
                    .nodes
                    .iter()
                    .map(|n| n.side_blocks())
                    .max()
                    .unwrap_or(0),
            },
            attackers,
            lower_bound,
        }
    }

    /// What the run was.
    fn run_info(&self, now: f64) -> RunInfo {
        let link = self.config.model.link();
        RunInfo {
            scenario: self.scenario.name.clone(),
            seed: self.scenario.seed,
            nodes: self.nodes.len(),
            adversaries: self.adversaries.len(),
            link: LinkSummary {
                latency_ms: link.latency.as_secs_f64() * 1000.0,
                jitter_ms: link.jitter.as_secs_f64() * 1000.0,
                bandwidth_kbps: link.bandwidth_bytes_per_s.map(|b| b * 8 / 1000),
            },
            duration_ms: now,
        }
    }

    /// When the network converged after each heal.
    fn heal_records(&self, timeline: &[TipSample]) -> Vec<HealRecord> {
        self.heals
            .iter()
            .map(|&at_ms| HealRecord {
                at_ms,
                converged_after_ms: timeline
                    .iter()
                    .find(|s| s.t_ms >= at_ms && s.live > 0 && s.distinct_tips == 1)
                    .map(|s| s.t_ms - at_ms),
            })
            .collect()
    }

    /// Traffic per node and adversary, and what became of each adversary.
    async fn traffic_and_attackers(
        &self,
        handles: &[talos_node::handle::NodeHandle],
    ) -> (Vec<NodeTraffic>, Vec<AttackerRecord>) {
        let mut attackers = Vec::new();
        let mut traffic = Vec::new();
        for node in &self.nodes {
            let link = self.config.model.traffic(node.index);
            let c = node.counters();
            traffic.push(NodeTraffic {
                node: node.index,
                kind: node.kind.as_str().to_owned(),
                bytes_in: link.bytes_in,
                bytes_out: link.bytes_out,
                gossip_received: c.gossip_received,
                gossip_duplicates: c.gossip_received.saturating_sub(c.gossip_unique),
                gossip_published: c.gossip_published,
                blocks_gossip: c.blocks_gossip,
                blocks_sync: c.blocks_sync,
                bans: c.bans,
                connections: link.connections_opened,
            });
        }
        for (index, adversary) in &self.adversaries {
            let link = self.config.model.traffic(*index);
            traffic.push(NodeTraffic {
                node: *index,
                kind: adversary.kind().as_str().to_owned(),
                bytes_in: link.bytes_in,
                bytes_out: link.bytes_out,
                connections: link.connections_opened,
                ..NodeTraffic::default()
            });
            let mut banned_by = 0;
            for handle in handles {
                if handle
                    .banned_peers()
                    .await
                    .is_ok_and(|banned| banned.contains(&adversary.peer_id()))
                {
                    banned_by += 1;
                }
            }
            attackers.push(AttackerRecord {
                node: *index,
                kind: adversary.kind().as_str().to_owned(),
                peer_id: adversary.peer_id().to_string(),
                sent: adversary.sent(),
                contacted: adversary.contacted(),
                banned_by,
            });
        }
        (traffic, attackers)
    }

    /// One record per mined block, in production order.
    fn block_records(
        &self,
        on_main: impl Fn(talos_chain::Hash256, u64) -> bool,
    ) -> Vec<BlockRecord> {
        let seen = self.observer.with(|log| log.blocks.clone());
        let mut blocks: Vec<BlockRecord> = seen
            .into_iter()
            .filter_map(|(id, block)| {
                let (miner, produced) = block.mined?;
                let required: Vec<usize> = self
                    .nodes
                    .iter()
                    .filter(|n| n.up_since(produced))
                    .map(|n| n.index)
                    .collect();
                let delay = |node: &usize| block.imports.get(node).map(|t| (t - produced).max(0.0));
                let complete_ms = required
                    .iter()
                    .map(delay)
                    .collect::<Option<Vec<f64>>>()
                    .map(|d| d.into_iter().fold(0.0, f64::max));
                let mut arrivals_ms = vec![0.0];
                arrivals_ms.extend(
                    block
                        .imports
                        .iter()
                        .filter(|(node, _)| **node != miner)
                        .map(|(_, t)| (t - produced).max(0.0)),
                );
                Some(BlockRecord {
                    id: id.to_hex(),
                    height: block.height,
                    miner,
                    produced_ms: produced,
                    main_chain: on_main(id, block.height),
                    live_nodes: self.nodes.iter().filter(|n| n.was_up_at(produced)).count(),
                    arrivals_ms,
                    complete_ms,
                })
            })
            .collect();
        blocks.sort_by(|a, b| a.produced_ms.total_cmp(&b.produced_ms));
        blocks
    }

    /// hops × (latency + validation) over the connection graph as it is now.
    fn lower_bound(&self, blocks: &[BlockRecord]) -> Option<LowerBound> {
        let links = self.config.model.open_links();
        let n = self.nodes.len();
        let up: Vec<bool> = self.nodes.iter().map(|node| node.is_up()).collect();
        let mut cache: HashMap<usize, Option<u32>> = HashMap::new();
        let hops: Vec<f64> = blocks
            .iter()
            .filter(|b| b.main_chain)
            .filter_map(|b| {
                *cache
                    .entry(b.miner)
                    .or_insert_with(|| eccentricity(n, &links, b.miner, |i| up[i]))
            })
            .map(f64::from)
            .collect();
        if hops.is_empty() {
            return None;
        }
        let hops = hops.iter().sum::<f64>() / hops.len() as f64;
        let latency_ms = self.config.model.link().latency.as_secs_f64() * 1000.0;
        let validation_ms = validation_ms(&self.config.spec);
        Some(LowerBound {
            hops,
            latency_ms,
            validation_ms,
            bound_ms: hops * (latency_ms + validation_ms),
        })
    }
}

/// Median time to fully validate (structure, proof of work, Merkle root, consensus rules) a
/// block like the simulation's on this machine, in milliseconds.
pub(crate) fn validation_ms(spec: &NetworkSpec) -> f64 {
    let ctx = ParentContext::for_genesis(spec);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let time = ctx.header.timestamp_ms.max(now.saturating_sub(1000));
    let template = BlockTemplate::empty(spec, &ctx, time);
    let Some(header) = mine_nonce(template.header(), 1 << 20) else {
        return 0.0;
    };
    let Ok(block) = template.complete(header) else {
        return 0.0;
    };
    let mut runs: Vec<f64> = (0..64)
        .map(|_| {
            let started = Instant::now();
            let ok = block
                .clone()
                .check(spec)
                .and_then(|checked| {
                    checked
                        .validate(spec, &ctx, &(), now)
                        .map_err(talos_chain::ValidateError::into_invalid)
                })
                .is_ok();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if ok { ms } else { f64::NAN }
        })
        .filter(|ms| !ms.is_nan())
        .collect();
    runs.sort_by(f64::total_cmp);
    runs.get(runs.len() / 2).copied().unwrap_or(0.0)
}
