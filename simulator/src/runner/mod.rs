//! Runs a [`Scenario`]: starts the honest nodes (the real `talos-node` node over the
//! simulated network), follows the timetable (Poisson blocks, partitions, kills, joins,
//! churn, adversaries), lets the network settle, and returns the [`RunRecord`].

mod assemble;
pub(crate) mod fleet;
mod graph;
mod observe;
mod sample;
mod schedule;
mod scrape;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use libp2p::Multiaddr;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use talos_chain::{CompactTarget, NetworkSpec};
use tracing::{info, warn};

pub use fleet::NodeKind;
pub use graph::eccentricity;
pub use scrape::{metric_sum, metric_sum_suffix, process_rss};

use self::fleet::{FleetConfig, SimNode};
use self::observe::Observer;
use self::sample::{LiveSet, Sampler};
use self::schedule::{Step, partition_groups, sample as pick, timetable};
use crate::adversary::{Adversary, AdversaryConfig};
use crate::error::SimError;
use crate::model::NetModel;
use crate::record::{EventMark, RunRecord};
use crate::scenario::{Action, Scenario};

/// The proof-of-work target of simulated networks: about one hash in two meets it, so CPU
/// never paces block production; the schedule does.
pub const SIM_TARGET: CompactTarget = CompactTarget(0x207f_ffff);

/// How long the tips must stand still during the settle before a tie-breaking block is mined.
const STALEMATE: Duration = Duration::from_secs(2);

/// Bootnodes each node is given when there are many (a seeded sample).
const BOOTNODES_PER_NODE: usize = 3;

/// The network simulated nodes run: `local` with a trivial target and the scenario's block
/// interval as the retarget goal.
pub fn sim_spec(block_interval_ms: u64) -> NetworkSpec {
    let mut spec = NetworkSpec::local();
    spec.name = "sim".into();
    spec.genesis_target = SIM_TARGET;
    spec.retarget.pow_limit = SIM_TARGET;
    spec.retarget.block_interval_ms = block_interval_ms.max(1);
    spec
}

/// One running simulation.
pub(crate) struct Simulation {
    scenario: Scenario,
    config: FleetConfig,
    rng: StdRng,
    observer: Observer,
    nodes: Vec<SimNode>,
    adversaries: Vec<(usize, Adversary)>,
    marks: Vec<EventMark>,
    heals: Vec<f64>,
    baseline_rss: u64,
    live: LiveSet,
}

/// Runs `scenario` to the end and returns what happened. Needs a multi-threaded tokio
/// runtime; every node also runs its chain service on a thread of its own.
pub async fn run(scenario: &Scenario) -> Result<RunRecord, SimError> {
    scenario.validate()?;
    let baseline_rss = process_rss();
    let mut rng = StdRng::seed_from_u64(scenario.seed);
    let spec = sim_spec(scenario.block_interval_ms);
    let model = NetModel::new(rng.r#gen(), scenario.link.params());
    let config = FleetConfig {
        spec,
        model,
        storage: scenario.storage,
        target_peers: scenario.target_peers,
        kad_bootstrap: scenario.kad_bootstrap_s.map(Duration::from_secs_f64),
    };
    let observer = Observer::new(Instant::now());
    let mut sim = Simulation {
        scenario: scenario.clone(),
        config,
        rng,
        observer,
        nodes: Vec::new(),
        adversaries: Vec::new(),
        marks: Vec::new(),
        heals: Vec::new(),
        baseline_rss,
        live: LiveSet::default(),
    };
    sim.create_nodes()?;
    for index in 0..scenario.nodes {
        sim.start_node(index).await?;
    }
    info!(nodes = scenario.nodes, "simulated nodes started");
    let every = if scenario.total_nodes() <= 100 {
        Duration::from_millis(100)
    } else {
        Duration::from_millis(250)
    };
    let sampler = Sampler::spawn(sim.live.clone(), sim.observer.clone(), every);
    tokio::time::sleep(Duration::from_secs_f64(scenario.warmup_s)).await;
    sim.mark("start");
    let outcome = sim.follow_timetable().await;
    let settle = match outcome {
        Ok(()) => sim.settle().await,
        Err(e) => Err(e),
    };
    let samples = sampler.stop().await;
    let record = match settle {
        Ok(settle_ms) => Ok(sim.assemble(samples, settle_ms).await),
        Err(e) => Err(e),
    };
    sim.shutdown().await;
    record
}

impl Simulation {
    /// Creates every honest node (late joiners too) with keys and bootnodes from the seed.
    fn create_nodes(&mut self) -> Result<(), SimError> {
        let s = &self.scenario;
        let total = s.total_nodes();
        let secrets: Vec<[u8; 32]> = (0..total).map(|_| self.rng.r#gen()).collect();
        let mut boot_addrs = Vec::new();
        for (index, secret) in secrets.into_iter().enumerate() {
            let kind = if index < s.bootnodes {
                NodeKind::Bootnode
            } else if index < s.bootnodes + s.miners {
                NodeKind::Miner
            } else {
                NodeKind::Full
            };
            let others: Vec<usize> = (0..s.bootnodes).filter(|b| *b != index).collect();
            let chosen = if others.len() <= BOOTNODES_PER_NODE {
                others
            } else {
                pick(&mut self.rng, &others, BOOTNODES_PER_NODE)
            };
            let bootnodes: Vec<Multiaddr> = chosen
                .into_iter()
                .map(|b: usize| boot_addrs.get(b).cloned())
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default();
            let node = SimNode::new(&self.config, index, kind, secret, bootnodes)?;
            if index < s.bootnodes {
                boot_addrs.push(node.addr(&self.config.model));
            }
            self.nodes.push(node);
        }
        // Bootnodes were created in order, so the first ones could not name the later
        // ones: give every bootnode the others now.
        for index in 0..s.bootnodes.min(self.nodes.len()) {
            let others: Vec<Multiaddr> = boot_addrs
                .iter()
                .enumerate()
                .filter(|(b, _)| *b != index)
                .map(|(_, a)| a.clone())
                .take(BOOTNODES_PER_NODE)
                .collect();
            self.nodes[index].set_bootnodes(others);
        }
        Ok(())
    }

    async fn start_node(&mut self, index: usize) -> Result<(), SimError> {
        let Some(node) = self.nodes.get_mut(index) else {
            return Err(SimError::InvalidScenario(format!("no node {index}")));
        };
        node.start(&self.config, &self.observer).await?;
        self.live.set(index, node.handle().cloned());
        Ok(())
    }

    async fn stop_node(&mut self, index: usize) {
        if let Some(node) = self.nodes.get_mut(index) {
            node.stop(&self.observer).await;
            self.live.set(index, None);
        }
    }

    fn mark(&mut self, label: impl Into<String>) {
        let label = label.into();
        info!(t_ms = self.observer.now_ms(), %label, "scenario");
        self.marks.push(EventMark {
            t_ms: self.observer.now_ms(),
            label,
        });
    }

    /// Executes the timetable in real time.
    async fn follow_timetable(&mut self) -> Result<(), SimError> {
        let table = timetable(&self.scenario, &mut self.rng);
        // Churn returns are added as departures happen: one heap for both.
        let mut queue: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
        let mut steps: Vec<Option<Step>> = Vec::new();
        let mut returns: Vec<usize> = Vec::new();
        for (at_s, step) in table {
            queue.push(Reverse((secs_to_ms(at_s), steps.len())));
            steps.push(Some(step));
        }
        let churn_eligible: Vec<usize> = self
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Full && n.index < self.scenario.nodes)
            .map(|n| n.index)
            .collect();
        let downtime = self.scenario.churn.map_or(0, |c| secs_to_ms(c.downtime_s));
        let end_ms = secs_to_ms(self.scenario.duration_s);
        // Step times count from here, the end of the warm-up.
        let start = Instant::now();
        while let Some(Reverse((at_ms, slot))) = queue.pop() {
            if at_ms > end_ms {
                break;
            }
            tokio::time::sleep_until((start + Duration::from_millis(at_ms)).into()).await;
            let step = match steps.get_mut(slot).and_then(Option::take) {
                Some(step) => step,
                None => {
                    // A churn return.
                    let node = returns[slot - steps.len()];
                    if !self.nodes[node].is_up() {
                        self.mark(format!("return {node}"));
                        self.start_node(node).await?;
                    }
                    continue;
                }
            };
            match step {
                Step::Mine { node } => self.mine(node),
                Step::Act(action) => self.act(action).await?,
                Step::ChurnLeave => {
                    let up: Vec<usize> = churn_eligible
                        .iter()
                        .copied()
                        .filter(|n| self.nodes[*n].is_up())
                        .collect();
                    if let Some(&node) = pick(&mut self.rng, &up, 1).first() {
                        self.mark(format!("leave {node}"));
                        self.stop_node(node).await;
                        queue.push(Reverse((at_ms + downtime, steps.len() + returns.len())));
                        returns.push(node);
                    }
                }
                Step::StartAdversaries { group } => self.start_adversaries(group)?,
            }
        }
        tokio::time::sleep_until((start + Duration::from_millis(end_ms)).into()).await;
        Ok(())
    }

    /// Asks miner `node` for a block without waiting for it.
    fn mine(&self, node: usize) {
        let Some(handle) = self.nodes.get(node).and_then(SimNode::handle).cloned() else {
            return;
        };
        tokio::spawn(async move {
            match handle.mine_block().await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => warn!(node, error = %e, "no block mined"),
                Err(e) => warn!(node, error = %e, "mining request failed"),
            }
        });
    }

    async fn act(&mut self, action: Action) -> Result<(), SimError> {
        match action {
            Action::Partition { groups } => {
                let mut split = partition_groups(self.nodes.len(), groups);
                // Adversaries stay with the first group.
                split[0].extend(self.adversaries.iter().map(|(i, _)| *i));
                self.config.model.partition(&split);
                self.mark(format!("partition ×{groups}"));
            }
            Action::Heal => {
                self.config.model.heal();
                self.heals.push(self.observer.now_ms());
                self.mark("heal");
            }
            Action::Kill { nodes } => {
                for node in nodes {
                    self.stop_node(node).await;
                }
                self.mark("kill");
            }
            Action::Restart { nodes } => {
                for node in nodes {
                    self.start_node(node).await?;
                }
                self.mark("restart");
            }
            Action::Join { count } => {
                let first = self.nodes.iter().position(|n| n.lifetimes.is_empty());
                if let Some(first) = first {
                    for node in first..(first + count).min(self.nodes.len()) {
                        self.start_node(node).await?;
                    }
                }
                self.mark(format!("join +{count}"));
            }
        }
        Ok(())
    }

    fn start_adversaries(&mut self, group: usize) -> Result<(), SimError> {
        let Some(spec) = self.scenario.adversaries.get(group).copied() else {
            return Ok(());
        };
        let up: Vec<usize> = self
            .nodes
            .iter()
            .filter(|n| n.is_up())
            .map(|n| n.index)
            .collect();
        for _ in 0..spec.count {
            let index = self.scenario.total_nodes() + self.adversaries.len();
            let targets = pick(&mut self.rng, &up, spec.targets)
                .into_iter()
                .map(|n| self.nodes[n].addr(&self.config.model))
                .collect();
            let mut secret: [u8; 32] = self.rng.r#gen();
            let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut secret)
                .map_err(crate::error::AdversaryError::from)?;
            let adversary = Adversary::spawn(AdversaryConfig {
                kind: spec.kind,
                spec: self.config.spec.clone(),
                keypair,
                transport: self.config.model.transport(index),
                listen: self.config.model.listen_addr(index),
                targets,
                rate_per_s: spec.rate_per_s,
                seed: self.rng.r#gen(),
            })?;
            self.adversaries.push((index, adversary));
        }
        self.mark(format!("{} ×{}", spec.kind.as_str(), spec.count));
        Ok(())
    }

    /// Brings churned nodes back, mines a tie-breaking block and waits until every live
    /// node is on one tip. Returns how long that took.
    async fn settle(&mut self) -> Result<Option<f64>, SimError> {
        self.mark("settle");
        let started = self.observer.now_ms();
        for index in 0..self.nodes.len() {
            let churned = self.nodes[index].kind == NodeKind::Full
                && !self.nodes[index].is_up()
                && !self.nodes[index].lifetimes.is_empty()
                && self.scenario.churn.is_some();
            if churned {
                self.start_node(index).await?;
            }
        }
        let deadline = Instant::now() + Duration::from_secs_f64(self.scenario.settle_timeout_s);
        let mut breaker = 0;
        let mut view = None;
        let mut unchanged_since = Instant::now();
        while Instant::now() < deadline {
            let tips: Vec<_> = self
                .live
                .handles()
                .iter()
                .filter_map(|h| h.tip().ok())
                .collect();
            let now = sample::summarise(0.0, &tips);
            if now.live == 0 || now.distinct_tips == 1 {
                return Ok(Some(self.observer.now_ms() - started));
            }
            let current = Some((now.distinct_tips, now.on_best, now.best_height));
            if current != view {
                view = current;
                unchanged_since = Instant::now();
            }
            // Tips that have not moved for a while are a stalemate (equal work, or a block
            // that is still propagating would have moved them).
            if unchanged_since.elapsed() >= STALEMATE {
                unchanged_since = Instant::now();
                // Equal-work tips never resolve on their own: one more block does it.
                let miners: Vec<usize> = self
                    .nodes
                    .iter()
                    .filter(|n| n.kind == NodeKind::Miner && n.is_up())
                    .map(|n| n.index)
                    .collect();
                if let Some(&miner) = miners.get(breaker % miners.len().max(1)) {
                    self.mine(miner);
                    breaker += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(None)
    }

    async fn shutdown(&mut self) {
        for (_, adversary) in self.adversaries.drain(..) {
            adversary.stop().await;
        }
        let observer = &self.observer;
        futures::future::join_all(self.nodes.iter_mut().map(|n| n.stop(observer))).await;
    }
}

fn secs_to_ms(s: f64) -> u64 {
    // Scenario times are validated finite and non-negative.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ms = (s * 1000.0).round() as u64;
    ms
}
