//! What a run recorded: the raw facts, in milliseconds since the run started, that
//! [`crate::report`] summarises. A record is plain data (serde), so a report can be recomputed
//! from a saved `record.json`.

use serde::{Deserialize, Serialize};

/// Everything one scenario run recorded.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunRecord {
    /// What was run: scenario, seed, nodes, link and wall time (flattened into the record's
    /// JSON object).
    #[serde(flatten)]
    pub info: RunInfo,
    /// Every block a simulated miner produced.
    pub blocks: Vec<BlockRecord>,
    /// Every heal of a partition, with how long the network took to agree again.
    pub heals: Vec<HealRecord>,
    /// Periodic samples of how many tips the live nodes are on.
    pub timeline: Vec<TipSample>,
    /// Scenario actions (partition, heal, kill, restart, join, churn, attack), for plots.
    pub marks: Vec<EventMark>,
    /// Every reorganisation a node reported.
    pub reorgs: Vec<ReorgRecord>,
    /// Traffic per node (honest and adversarial).
    pub traffic: Vec<NodeTraffic>,
    /// Process memory.
    pub memory: MemorySample,
    /// Where the nodes ended.
    pub outcome: FinalState,
    /// What each adversary did and how the honest nodes answered.
    pub attackers: Vec<AttackerRecord>,
    /// The propagation lower bound (hops × latency + validation), when it was computed.
    pub lower_bound: Option<LowerBound>,
}

/// What a run was: the facts a [`RunRecord`] and its [`Report`](crate::report::Report) both
/// start with.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RunInfo {
    /// Scenario name.
    pub scenario: String,
    /// The seed every scenario decision was drawn from.
    pub seed: u64,
    /// Honest nodes the scenario started (late joiners included).
    pub nodes: usize,
    /// Adversarial nodes.
    pub adversaries: usize,
    /// The default link.
    pub link: LinkSummary,
    /// Wall time of the run.
    pub duration_ms: f64,
}

/// The default link of the run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LinkSummary {
    /// One-way latency.
    pub latency_ms: f64,
    /// Uniform jitter added to each chunk (0..jitter).
    pub jitter_ms: f64,
    /// Bandwidth cap per link direction, if any.
    pub bandwidth_kbps: Option<u64>,
}

/// One produced block.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BlockRecord {
    /// Block id (hex).
    pub id: String,
    /// Height.
    pub height: u64,
    /// Index of the node that mined it.
    pub miner: usize,
    /// When the miner imported it.
    pub produced_ms: f64,
    /// Whether it is on the best chain every node ended on.
    pub main_chain: bool,
    /// Honest nodes live when it was produced.
    pub live_nodes: usize,
    /// Delay from production to each node's import, one entry per node that imported it
    /// (the miner included, at 0).
    pub arrivals_ms: Vec<f64>,
    /// Delay until every node live at production (and still live) had it; `None` if some
    /// never did.
    pub complete_ms: Option<f64>,
}

/// One partition heal.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HealRecord {
    /// When the partition was healed.
    pub at_ms: f64,
    /// How long after the heal every live node was on one tip; `None` if never in the run.
    pub converged_after_ms: Option<f64>,
}

/// A sample of the live nodes' tips.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TipSample {
    /// When.
    pub t_ms: f64,
    /// Live honest nodes.
    pub live: usize,
    /// Distinct tips among them.
    pub distinct_tips: usize,
    /// Nodes on the most-work tip among them.
    pub on_best: usize,
    /// Height of that tip.
    pub best_height: u64,
}

/// A scenario action, for plots and the table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EventMark {
    /// When.
    pub t_ms: f64,
    /// What (`partition`, `heal`, `kill 3`, ...).
    pub label: String,
}

/// A reorganisation a node reported.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReorgRecord {
    /// Node index.
    pub node: usize,
    /// When.
    pub t_ms: f64,
    /// Blocks disconnected.
    pub depth: u64,
}

/// Traffic of one node over the run (all its incarnations).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NodeTraffic {
    /// Node index (adversaries are numbered after the honest nodes).
    pub node: usize,
    /// `miner`, `bootnode`, `full`, or the adversary kind.
    pub kind: String,
    /// Bytes this node received on all links.
    pub bytes_in: u64,
    /// Bytes this node sent on all links.
    pub bytes_out: u64,
    /// Gossip messages received, duplicates included.
    pub gossip_received: u64,
    /// Gossip messages received that were duplicates of one already seen.
    pub gossip_duplicates: u64,
    /// Gossip messages this node published.
    pub gossip_published: u64,
    /// Blocks imported from gossip, from sync and mined.
    pub blocks_gossip: u64,
    /// Blocks imported through sync.
    pub blocks_sync: u64,
    /// Peers this node banned.
    pub bans: u64,
    /// Connections this node opened or accepted over the run.
    #[serde(default)]
    pub connections: u64,
}

/// Process memory (resident set size).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MemorySample {
    /// RSS before any node started.
    pub baseline_bytes: u64,
    /// Highest RSS sampled during the run.
    pub peak_bytes: u64,
    /// RSS with every node running, sampled once the network settled.
    pub settled_bytes: u64,
    /// Nodes running when `settled_bytes` was sampled.
    pub settled_nodes: usize,
    /// `(settled − baseline) / settled_nodes`.
    pub per_node_bytes: u64,
}

/// Where the run ended.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FinalState {
    /// Live honest nodes at the end.
    pub live: usize,
    /// Distinct tips among them.
    pub distinct_tips: usize,
    /// Whether every live node is on the same tip, and it has the most work of all their tips.
    pub converged: bool,
    /// The most-work tip (hex).
    pub tip_id: String,
    /// Its height.
    pub tip_height: u64,
    /// How long the final settle (no new blocks but one tie-breaker) took to converge.
    pub settle_ms: Option<f64>,
    /// Node pairs with an open connection at the end (honest and adversarial).
    #[serde(default)]
    pub open_links: usize,
    /// Most side-branch blocks one live honest node stores at the end.
    #[serde(default)]
    pub max_side_blocks: u64,
}

/// One adversary.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AttackerRecord {
    /// Node index.
    pub node: usize,
    /// Adversary kind.
    pub kind: String,
    /// Its PeerId.
    pub peer_id: String,
    /// Hostile messages it sent (invalid blocks, junk answers).
    pub sent: u64,
    /// Honest nodes it was connected to at some point.
    pub contacted: usize,
    /// Honest nodes that banned it.
    pub banned_by: usize,
}

/// The propagation lower bound.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LowerBound {
    /// Largest hop count from a miner to a node in the connection graph (mean over blocks of
    /// the miner's eccentricity).
    pub hops: f64,
    /// One-way link latency.
    pub latency_ms: f64,
    /// Time to validate and import one block, measured in this process.
    pub validation_ms: f64,
    /// `hops × (latency + validation)`.
    pub bound_ms: f64,
}
