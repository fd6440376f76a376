//! Scenarios: what to simulate, as a TOML file (`simulator/scenarios/*.toml`) or built in Rust.
//!
//! ```toml
//! name = "partition-and-heal"
//! seed = 7
//! nodes = 30            # honest nodes started at t = 0
//! bootnodes = 2         # nodes 0..bootnodes run the bootstrap role; every node dials them
//! miners = 4            # the next `miners` nodes produce blocks
//! warmup_s = 3          # nodes find each other before the timetable starts
//! duration_s = 40       # block production and scenario actions run this long (after the warm-up)
//! block_interval_ms = 1000   # mean of the Poisson block schedule (all miners together)
//!
//! [link]
//! latency_ms = 20
//! jitter_ms = 5
//!
//! [[events]]
//! at_s = 10
//! action = "partition"
//! groups = 2            # node i goes to group i % groups
//!
//! [[events]]
//! at_s = 25
//! action = "heal"
//! ```

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::adversary::AdversaryKind;
use crate::error::SimError;
use crate::model::LinkParams;

/// Where simulated nodes keep their chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// `talos_storage::MemoryStore`.
    #[default]
    Memory,
    /// `talos_storage::SledStore` in a temporary directory per node.
    Sled,
}

/// The default link between any two nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// One-way latency.
    #[serde(default)]
    pub latency_ms: u64,
    /// Uniform jitter added to the latency of each chunk.
    #[serde(default)]
    pub jitter_ms: u64,
    /// Bandwidth per link direction in kilobits per second (`None`: unlimited).
    #[serde(default)]
    pub bandwidth_kbps: Option<u64>,
}

impl LinkSpec {
    /// The link model's parameters.
    pub fn params(&self) -> LinkParams {
        LinkParams {
            latency: Duration::from_millis(self.latency_ms),
            jitter: Duration::from_millis(self.jitter_ms),
            bandwidth_bytes_per_s: self.bandwidth_kbps.map(|kbps| kbps * 1000 / 8),
        }
    }
}

/// A scenario action at a point in time.
// No `deny_unknown_fields` here: serde does not support it together with `flatten`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedAction {
    /// Seconds after the start.
    pub at_s: f64,
    /// What happens.
    #[serde(flatten)]
    pub action: Action,
}

/// What a scenario can do to the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Splits the honest nodes into `groups` (node `i` → group `i % groups`); adversaries join
    /// the first group.
    Partition {
        /// Number of groups (≥ 2).
        groups: usize,
    },
    /// Removes every partition.
    Heal,
    /// Stops these nodes (their stores are kept).
    Kill {
        /// Node indices.
        nodes: Vec<usize>,
    },
    /// Starts these killed nodes again on their stores.
    Restart {
        /// Node indices.
        nodes: Vec<usize>,
    },
    /// Starts `count` new nodes (late joiners) that sync from genesis.
    Join {
        /// How many.
        count: usize,
    },
}

/// Nodes leaving and coming back at random.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Churn {
    /// When churn starts (seconds).
    pub start_s: f64,
    /// When it stops; nodes still down then are restarted.
    pub stop_s: f64,
    /// Mean departures per minute (Poisson), among nodes that are neither bootnodes nor miners.
    pub leaves_per_min: f64,
    /// How long a departed node stays down before it restarts on its store.
    pub downtime_s: f64,
}

/// A group of hostile peers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdversarySpec {
    /// What they do.
    pub kind: AdversaryKind,
    /// How many.
    pub count: usize,
    /// When they start (seconds).
    #[serde(default)]
    pub start_s: f64,
    /// Messages per second each for the flooding kinds, identities each for the slot filler.
    #[serde(default = "default_flood_rate")]
    pub rate_per_s: f64,
    /// Honest nodes each one dials (a seeded sample).
    #[serde(default = "default_adversary_targets")]
    pub targets: usize,
}

fn default_flood_rate() -> f64 {
    10.0
}

fn default_adversary_targets() -> usize {
    8
}

/// What a run must show; checked by `talos-sim` (exit code) and the scenario tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// Every live node ends on one tip, the most-work one.
    #[serde(default)]
    pub converged: bool,
    /// Each heal is followed by agreement within this many seconds.
    #[serde(default)]
    pub heal_within_s: Option<f64>,
    /// Every adversary that met honest nodes and breaks a rule they can see (all kinds but
    /// `silent` and `slot-filler`, which break none, and `proof-liar`, which lies only to light
    /// clients; see [`crate::adversary::AdversaryKind::caught_by_full_nodes`]) is banned by at
    /// least one of them.
    #[serde(default)]
    pub attackers_banned: bool,
    /// Every main-chain block reached every node live at its production and still live.
    #[serde(default)]
    pub all_blocks_propagated: bool,
    /// No live honest node stores more side-branch blocks than this at the end.
    #[serde(default)]
    pub side_blocks_at_most: Option<u64>,
}

/// A scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name (report titles, output directory).
    pub name: String,
    /// One line on what it shows.
    #[serde(default)]
    pub description: String,
    /// Seed of every random decision (keys, schedule, jitter, churn, targets).
    #[serde(default)]
    pub seed: u64,
    /// Honest nodes started at t = 0.
    pub nodes: usize,
    /// Nodes `0..bootnodes` run the bootstrap role; every node starts from their addresses.
    #[serde(default = "default_bootnodes")]
    pub bootnodes: usize,
    /// Nodes `bootnodes..bootnodes + miners` produce blocks.
    #[serde(default = "default_miners")]
    pub miners: usize,
    /// How long the nodes run before the timetable starts (discovery, gossip meshes);
    /// event times count from the end of the warm-up.
    #[serde(default = "default_warmup")]
    pub warmup_s: f64,
    /// How long blocks are produced and actions run.
    pub duration_s: f64,
    /// Mean interval of the Poisson block schedule, over all miners.
    #[serde(default = "default_block_interval")]
    pub block_interval_ms: u64,
    /// How long the network may take to agree once production stops.
    #[serde(default = "default_settle")]
    pub settle_timeout_s: f64,
    /// Storage of every node.
    #[serde(default)]
    pub storage: StorageKind,
    /// Peers a node keeps dialing Kademlia discoveries up to.
    #[serde(default = "default_target_peers")]
    pub target_peers: usize,
    /// Kademlia periodic bootstrap interval of every node (default: the node's, 60 s). Each
    /// bootstrap dials many peers; large simulations on few cores set it longer.
    #[serde(default)]
    pub kad_bootstrap_s: Option<f64>,
    /// Compute the propagation lower bound (hop counts of the connection graph).
    #[serde(default)]
    pub lower_bound: bool,
    /// The default link.
    #[serde(default)]
    pub link: LinkSpec,
    /// Timed actions.
    #[serde(default)]
    pub events: Vec<TimedAction>,
    /// Random departures and returns.
    #[serde(default)]
    pub churn: Option<Churn>,
    /// Hostile peers.
    #[serde(default)]
    pub adversaries: Vec<AdversarySpec>,
    /// What the run must show.
    #[serde(default)]
    pub expect: Expectations,
}

fn default_warmup() -> f64 {
    3.0
}

fn default_bootnodes() -> usize {
    2
}

fn default_miners() -> usize {
    3
}

fn default_block_interval() -> u64 {
    1000
}

fn default_settle() -> f64 {
    30.0
}

fn default_target_peers() -> usize {
    12
}

impl Scenario {
    /// A steady-state scenario of `nodes` nodes for `duration_s` seconds with defaults
    /// elsewhere; refine it with the `with_*` methods.
    pub fn new(name: impl Into<String>, nodes: usize, duration_s: f64) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            seed: 0,
            nodes,
            bootnodes: default_bootnodes(),
            miners: default_miners(),
            warmup_s: default_warmup(),
            duration_s,
            block_interval_ms: default_block_interval(),
            settle_timeout_s: default_settle(),
            storage: StorageKind::Memory,
            target_peers: default_target_peers(),
            kad_bootstrap_s: None,
            lower_bound: false,
            link: LinkSpec::default(),
            events: Vec::new(),
            churn: None,
            adversaries: Vec::new(),
            expect: Expectations::default(),
        }
    }

    /// Reads and checks a TOML scenario.
    pub fn from_file(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::ScenarioRead {
            path: path.to_owned(),
            source,
        })?;
        let scenario: Self = toml::from_str(&text).map_err(|e| SimError::ScenarioParse {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Sets the warm-up.
    #[must_use]
    pub fn with_warmup(mut self, warmup_s: f64) -> Self {
        self.warmup_s = warmup_s;
        self
    }

    /// Sets the seed.
    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets bootnode and miner counts.
    #[must_use]
    pub fn with_roles(mut self, bootnodes: usize, miners: usize) -> Self {
        self.bootnodes = bootnodes;
        self.miners = miners;
        self
    }

    /// Sets the mean block interval.
    #[must_use]
    pub fn with_block_interval(mut self, interval: Duration) -> Self {
        self.block_interval_ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the default link.
    #[must_use]
    pub fn with_link(mut self, link: LinkSpec) -> Self {
        self.link = link;
        self
    }

    /// Sets the storage.
    #[must_use]
    pub fn with_storage(mut self, storage: StorageKind) -> Self {
        self.storage = storage;
        self
    }

    /// Adds an action at `at_s` seconds.
    #[must_use]
    pub fn at(mut self, at_s: f64, action: Action) -> Self {
        self.events.push(TimedAction { at_s, action });
        self
    }

    /// Sets churn.
    #[must_use]
    pub fn with_churn(mut self, churn: Churn) -> Self {
        self.churn = Some(churn);
        self
    }

    /// Adds adversaries.
    #[must_use]
    pub fn with_adversaries(mut self, adversaries: AdversarySpec) -> Self {
        self.adversaries.push(adversaries);
        self
    }

    /// Sets the expectations.
    #[must_use]
    pub fn expecting(mut self, expect: Expectations) -> Self {
        self.expect = expect;
        self
    }

    /// Honest nodes over the whole run (late joiners included).
    pub fn total_nodes(&self) -> usize {
        self.nodes
            + self
                .events
                .iter()
                .map(|e| match e.action {
                    Action::Join { count } => count,
                    _ => 0,
                })
                .sum::<usize>()
    }

    /// Adversaries over the whole run.
    pub fn total_adversaries(&self) -> usize {
        self.adversaries.iter().map(|a| a.count).sum()
    }

    /// Checks that the scenario can run.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::InvalidScenario(m));
        if self.nodes == 0 {
            return bad("nodes must be at least 1".into());
        }
        if self.bootnodes == 0 || self.bootnodes > self.nodes {
            return bad(format!("bootnodes must be 1..={}", self.nodes));
        }
        if self.miners == 0 || self.bootnodes + self.miners > self.nodes {
            return bad(format!(
                "miners must be 1..={} (nodes after the bootnodes)",
                self.nodes - self.bootnodes
            ));
        }
        if !(self.warmup_s.is_finite() && self.warmup_s >= 0.0) {
            return bad("warmup_s must be zero or positive".into());
        }
        if !(self.duration_s.is_finite() && self.duration_s > 0.0) {
            return bad("duration_s must be positive".into());
        }
        if self
            .kad_bootstrap_s
            .is_some_and(|s| !(s.is_finite() && s >= 1.0))
        {
            return bad("kad_bootstrap_s must be at least 1".into());
        }
        if self.block_interval_ms == 0 {
            return bad("block_interval_ms must be positive".into());
        }
        if !(self.settle_timeout_s.is_finite() && self.settle_timeout_s > 0.0) {
            return bad("settle_timeout_s must be positive".into());
        }
        let total = self.total_nodes();
        for event in &self.events {
            if !(event.at_s.is_finite() && event.at_s >= 0.0 && event.at_s <= self.duration_s) {
                return bad(format!(
                    "event at {} s is outside 0..=duration_s",
                    event.at_s
                ));
            }
            match &event.action {
                Action::Partition { groups } if *groups < 2 => {
                    return bad("a partition needs at least 2 groups".into());
                }
                Action::Kill { nodes } | Action::Restart { nodes } => {
                    if let Some(n) = nodes.iter().find(|n| **n >= total) {
                        return bad(format!("node {n} does not exist ({total} nodes)"));
                    }
                }
                Action::Join { count: 0 } => return bad("join needs a count".into()),
                _ => {}
            }
        }
        if let Some(churn) = &self.churn {
            let ok = churn.start_s >= 0.0
                && churn.stop_s > churn.start_s
                && churn.leaves_per_min > 0.0
                && churn.downtime_s > 0.0;
            if !ok {
                return bad("churn needs 0 <= start_s < stop_s and positive rates".into());
            }
            if self.nodes <= self.bootnodes + self.miners {
                return bad("churn needs nodes that are neither bootnodes nor miners".into());
            }
        }
        for adversary in &self.adversaries {
            if adversary.count == 0 || adversary.targets == 0 {
                return bad("adversaries need a count and targets".into());
            }
            if !(adversary.rate_per_s.is_finite() && adversary.rate_per_s > 0.0) {
                return bad("adversary rate_per_s must be positive".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scenario_parses_and_validates() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let scenario = Scenario::from_file(&path).unwrap();
                assert!(!scenario.name.is_empty(), "{}", path.display());
                seen += 1;
            }
        }
        assert!(
            seen >= 5,
            "steady, late joiner, partition, churn, flood at least"
        );
    }

    #[test]
    fn toml_and_builder_agree() {
        let text = r#"
            name = "p"
            seed = 9
            nodes = 10
            duration_s = 20
            [link]
            latency_ms = 50
            [[events]]
            at_s = 5
            action = "partition"
            groups = 2
            [[events]]
            at_s = 12
            action = "heal"
            [[adversaries]]
            kind = "invalid-block-flood"
            count = 1
        "#;
        let parsed: Scenario = toml::from_str(text).unwrap();
        let built = Scenario::new("p", 10, 20.0)
            .with_seed(9)
            .with_link(LinkSpec {
                latency_ms: 50,
                ..LinkSpec::default()
            })
            .at(5.0, Action::Partition { groups: 2 })
            .at(12.0, Action::Heal)
            .with_adversaries(AdversarySpec {
                kind: AdversaryKind::InvalidBlockFlood,
                count: 1,
                start_s: 0.0,
                rate_per_s: default_flood_rate(),
                targets: default_adversary_targets(),
            });
        assert_eq!(parsed, built);
        parsed.validate().unwrap();
    }

    #[test]
    fn inconsistent_scenarios_are_refused() {
        let base = Scenario::new("x", 5, 10.0);
        assert!(base.validate().is_ok());
        let cases = [
            Scenario::new("x", 0, 10.0),
            base.clone().with_roles(2, 4),
            base.clone().with_roles(0, 1),
            base.clone().at(11.0, Action::Heal),
            base.clone().at(1.0, Action::Partition { groups: 1 }),
            base.clone().at(1.0, Action::Kill { nodes: vec![5] }),
            base.clone().with_churn(Churn {
                start_s: 5.0,
                stop_s: 1.0,
                leaves_per_min: 1.0,
                downtime_s: 1.0,
            }),
        ];
        for case in cases {
            assert!(
                matches!(case.validate(), Err(SimError::InvalidScenario(_))),
                "{case:?}"
            );
        }
        let unknown = "name = \"x\"\nnodes = 3\nduration_s = 1\nbogus = 1\n";
        assert!(toml::from_str::<Scenario>(unknown).is_err());
    }

    #[test]
    fn joins_count_towards_the_node_total() {
        let s = Scenario::new("j", 10, 30.0).at(10.0, Action::Join { count: 4 });
        assert_eq!(s.total_nodes(), 14);
        assert!(
            s.at(20.0, Action::Kill { nodes: vec![13] })
                .validate()
                .is_ok()
        );
    }
}
