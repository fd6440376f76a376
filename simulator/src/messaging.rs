//! Agent messaging in the simulator: real nodes (each with its messaging agent) over the
//! simulated network ([`crate::model::NetModel`]: latency, jitter), some agents offline while
//! others write to them, mailbox nodes leaving and coming back (on their stores) while
//! messages are in flight. Reports the delivery ratio and latency percentiles, direct and via
//! mailboxes.
//!
//! Run with `talos-sim messaging [--nodes 50 --agents 10 ...]`; shipped as a test
//! (`simulator/tests/messaging.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use talos_network::{NetConfig, Role, TransportKind};
use talos_node::agent::{AgentError, Recipient};
use talos_node::identity::NodeIdentity;
use talos_node::node::RunningNode;
use talos_storage::{MemoryStore, Store};
use tokio::task::JoinHandle;

use crate::error::SimError;
use crate::model::{LinkParams, NetModel};

/// What to simulate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessagingScenario {
    /// Seed of every random choice.
    pub seed: u64,
    /// Nodes in all (the first two are bootstrap nodes; every other is a full node, hence a
    /// mailbox node).
    pub nodes: usize,
    /// Nodes that send and receive messages (the last ones).
    pub agents: usize,
    /// Messages each agent sends, each to a random other agent.
    pub messages_per_agent: usize,
    /// Agents offline while the messages are sent (they come back afterwards).
    pub offline_agents: usize,
    /// Mailbox nodes (neither agents nor bootstrap nodes) that leave while messages are in
    /// flight and come back `downtime` later.
    pub churned_mailboxes: usize,
    /// How long a churned node stays away.
    pub downtime: Duration,
    /// One-way link latency.
    pub latency: Duration,
    /// Link jitter.
    pub jitter: Duration,
    /// A message not delivered this long after it was sent counts as lost.
    pub deadline: Duration,
}

impl Default for MessagingScenario {
    fn default() -> Self {
        Self {
            seed: 11,
            nodes: 50,
            agents: 10,
            messages_per_agent: 10,
            offline_agents: 3,
            churned_mailboxes: 8,
            downtime: Duration::from_secs(3),
            latency: Duration::from_millis(20),
            jitter: Duration::from_millis(5),
            deadline: Duration::from_secs(90),
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Percentiles {
    fn of(mut ms: Vec<f64>) -> Self {
        if ms.is_empty() {
            return Self::default();
        }
        ms.sort_by(f64::total_cmp);
        let at = |p: f64| ms[(((ms.len() - 1) as f64) * p).round() as usize];
        Self {
            n: ms.len(),
            p50_ms: at(0.5),
            p90_ms: at(0.9),
            p99_ms: at(0.99),
            max_ms: ms[ms.len() - 1],
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessagingReport {
    /// The scenario.
    pub scenario: MessagingScenario,
    /// Messages sent.
    pub sent: usize,
    /// Messages opened by their recipient within the deadline (each counted once).
    pub delivered: usize,
    /// `delivered / sent`.
    pub delivery_ratio: f64,
    /// Messages that reached their recipient through a mailbox.
    pub via_mailbox: usize,
    /// Messages opened more than once (must be 0).
    pub duplicates: usize,
    /// Send-to-open latency of messages delivered directly.
    pub direct: Percentiles,
    /// Send-to-open latency of messages fetched from mailboxes (includes the time the
    /// recipient was offline).
    pub mailbox: Percentiles,
    /// Wall time of the run in seconds.
    pub wall_s: f64,
}

impl MessagingReport {
    /// A few lines for a terminal.
    pub fn table(&self) -> String {
        let p = |x: &Percentiles| {
            format!(
                "n {:>4}  p50 {:>8.1} ms  p90 {:>8.1} ms  p99 {:>8.1} ms  max {:>8.1} ms",
                x.n, x.p50_ms, x.p90_ms, x.p99_ms, x.max_ms
            )
        };
        format!(
            "messaging: {} nodes, {} agents ({} offline while sent), {} mailbox nodes churned\n\
             sent {}  delivered {}  ratio {:.4}  via mailbox {}  duplicates {}  wall {:.1} s\n\
             direct   {}\nmailbox  {}\n",
            self.scenario.nodes,
            self.scenario.agents,
            self.scenario.offline_agents,
            self.scenario.churned_mailboxes,
            self.sent,
            self.delivered,
            self.delivery_ratio,
            self.via_mailbox,
            self.duplicates,
            self.wall_s,
            p(&self.direct),
            p(&self.mailbox),
        )
    }
}

/// Arrivals: message id → (when, via a mailbox, how many times).
type Arrivals = Arc<Mutex<HashMap<[u8; 16], (Instant, bool, usize)>>>;

/// One node of the run.
struct Node {
    index: usize,
    identity: NodeIdentity,
    store: Arc<dyn Store>,
    running: Option<RunningNode>,
    listener: Option<JoinHandle<()>>,
}

struct World {
    spec: talos_chain::NetworkSpec,
    model: NetModel,
    bootnodes: Vec<Multiaddr>,
    arrivals: Arrivals,
}

impl Node {
    async fn start(&mut self, world: &World) -> Result<(), SimError> {
        let role = if self.index < 2 {
            Role::Bootstrap
        } else {
            Role::Full
        };
        let net = NetConfig::new(world.spec.clone(), self.identity.keypair().clone())
            .with_role(role)
            .with_transport(TransportKind::Injected(world.model.transport(self.index)))
            .with_listen(vec![world.model.listen_addr(self.index)])
            .with_bootnodes(world.bootnodes.clone());
        let node = crate::runner::fleet::start_node(
            self.index,
            &self.identity,
            &self.store,
            &world.spec,
            net,
        )
        .await?;
        if let Some(agent) = node.handle.agent() {
            let mut events = agent.subscribe();
            let arrivals = world.arrivals.clone();
            self.listener = Some(tokio::spawn(async move {
                while let Ok(entry) = events.recv().await {
                    let mut map = arrivals.lock().unwrap_or_else(PoisonError::into_inner);
                    let seen = map.entry(entry.message_id).or_insert((
                        Instant::now(),
                        entry.via_mailbox,
                        0,
                    ));
                    seen.2 += 1;
                }
            }));
        }
        self.running = Some(node);
        Ok(())
    }

    async fn stop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
        if let Some(node) = self.running.take() {
            node.handle.shutdown();
            let _ = node.wait().await;
        }
    }

    fn recipient(&self) -> Recipient {
        Recipient(self.identity.verifying_key())
    }
}

/// Runs `scenario`. Needs a multi-threaded tokio runtime.
pub async fn run(scenario: &MessagingScenario) -> Result<MessagingReport, SimError> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(scenario.seed);
    let link = LinkParams {
        latency: scenario.latency,
        jitter: scenario.jitter,
        bandwidth_bytes_per_s: None,
    };
    let spec = crate::runner::sim_spec(1000);
    let model = NetModel::new(rng.r#gen(), link);
    let mut nodes = Vec::with_capacity(scenario.nodes);
    for index in 0..scenario.nodes {
        let mut secret: [u8; 32] = rng.r#gen();
        let identity = NodeIdentity::from_secret(&mut secret).map_err(|e| SimError::Node {
            node: index,
            source: Box::new(e.into()),
        })?;
        let store: Arc<dyn Store> =
            Arc::new(
                MemoryStore::new(&spec.genesis()).map_err(|e| SimError::Node {
                    node: index,
                    source: Box::new(e.into()),
                })?,
            );
        nodes.push(Node {
            index,
            identity,
            store,
            running: None,
            listener: None,
        });
    }
    let bootnodes = nodes
        .iter()
        .take(2)
        .map(|n| {
            model
                .listen_addr(n.index)
                .with(Protocol::P2p(n.identity.peer_id()))
        })
        .collect();
    let world = World {
        spec,
        model,
        bootnodes,
        arrivals: Arc::default(),
    };
    for node in &mut nodes {
        node.start(&world).await?;
    }
    let agents: Vec<usize> = (scenario.nodes - scenario.agents..scenario.nodes).collect();
    let offline: Vec<usize> = agents[..scenario.offline_agents].to_vec();

    // Every agent's DID record is in the DHT before anyone writes (its first message needs it).
    wait_for_records(&nodes, &agents).await?;
    for &i in &offline {
        nodes[i].stop().await;
    }

    let mut sent = send_phase(scenario, &mut rng, &mut nodes, &world, &agents, &offline).await?;
    sent.extend(returning_wave(&mut nodes, &world, &agents, &offline).await?);
    // Wait for everything, or the deadline.
    let waited = Instant::now();
    loop {
        let delivered = {
            let map = world
                .arrivals
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            sent.keys().filter(|id| map.contains_key(*id)).count()
        };
        if delivered == sent.len() || waited.elapsed() > scenario.deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report = report(scenario, &sent, &world.arrivals, started);
    for node in &mut nodes {
        node.stop().await;
    }
    Ok(report)
}

/// Sends `body` from `from`'s agent to `to`; the message id. A record not found yet is
/// retried for a while (the DHT still spreading it).
async fn send(from: &Node, to: Recipient, body: Vec<u8>) -> Result<Option<[u8; 16]>, SimError> {
    let Some(agent) = from.running.as_ref().and_then(|n| n.handle.agent()) else {
        return Ok(None);
    };
    for _ in 0..20 {
        match agent.send(to, vec![body.clone()], false).await {
            Ok(mut sent) => return Ok(sent.pop().map(|s| s.message_id)),
            Err(AgentError::NoBundle { .. } | AgentError::Did(_)) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(SimError::Messaging(e.to_string())),
        }
    }
    Err(SimError::Messaging(format!(
        "no prekey bundle for {}",
        to.did()
    )))
}

async fn wait_for_records(nodes: &[Node], agents: &[usize]) -> Result<(), SimError> {
    let Some(asker) = nodes[agents[0]]
        .running
        .as_ref()
        .and_then(|n| n.handle.agent())
    else {
        return Ok(());
    };
    let t = Instant::now();
    for &i in agents {
        let did = nodes[i].recipient().did();
        while asker.resolve_did(&did).await.is_err() {
            if t.elapsed() > Duration::from_secs(60) {
                return Err(SimError::Messaging(format!(
                    "{did}'s record never appeared"
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    Ok(())
}

/// Every online agent writes one message a round to a random other agent while mailbox nodes
/// leave (one every few rounds) and come back after the downtime. The messages sent, with when.
async fn send_phase(
    scenario: &MessagingScenario,
    rng: &mut StdRng,
    nodes: &mut [Node],
    world: &World,
    agents: &[usize],
    offline: &[usize],
) -> Result<HashMap<[u8; 16], Instant>, SimError> {
    let mailboxes: Vec<usize> = (2..scenario.nodes - scenario.agents).collect();
    // Messages go out while mailbox nodes leave and come back.
    let mut churned: Vec<usize> = mailboxes;
    churned.shuffle(rng);
    churned.truncate(scenario.churned_mailboxes);
    let mut sent: HashMap<[u8; 16], Instant> = HashMap::new();
    let online: Vec<usize> = agents
        .iter()
        .copied()
        .filter(|i| !offline.contains(i))
        .collect();
    let per_round = churned.len().max(1);
    let mut churn = churned.iter().copied();
    let mut away: Vec<(usize, Instant)> = Vec::new();
    for round in 0..scenario.messages_per_agent {
        if round % (scenario.messages_per_agent / per_round).max(1) == 0
            && let Some(victim) = churn.next()
        {
            nodes[victim].stop().await;
            away.push((victim, Instant::now()));
        }
        let mut back = Vec::new();
        away.retain(|(i, since)| {
            let done = since.elapsed() >= scenario.downtime;
            if done {
                back.push(*i);
            }
            !done
        });
        for i in back {
            nodes[i].start(world).await?;
        }
        for &from in &online {
            let to = loop {
                let to = agents[rng.gen_range(0..agents.len())];
                if to != from {
                    break to;
                }
            };
            let text = format!("round {round} from {from} to {to}").into_bytes();
            if let Some(id) = send(&nodes[from], nodes[to].recipient(), text).await? {
                sent.insert(id, Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (i, _) in away.drain(..) {
        nodes[i].start(world).await?;
    }

    Ok(sent)
}

/// The offline agents come back and write at once, before their routing tables have filled,
/// to as many other agents that have just gone away (so every message goes to mailboxes found
/// by a lookup started moments after the start); those come back afterwards.
async fn returning_wave(
    nodes: &mut [Node],
    world: &World,
    agents: &[usize],
    offline: &[usize],
) -> Result<HashMap<[u8; 16], Instant>, SimError> {
    let leaving: Vec<usize> = agents
        .iter()
        .copied()
        .filter(|i| !offline.contains(i))
        .take(offline.len())
        .collect();
    for &i in &leaving {
        nodes[i].stop().await;
    }
    let mut sent = HashMap::new();
    for &from in offline {
        nodes[from].start(world).await?;
        for &to in &leaving {
            let text = format!("back: from {from} to {to}").into_bytes();
            if let Some(id) = send(&nodes[from], nodes[to].recipient(), text).await? {
                sent.insert(id, Instant::now());
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for &i in &leaving {
        nodes[i].start(world).await?;
    }
    Ok(sent)
}

/// The report of what arrived.
fn report(
    scenario: &MessagingScenario,
    sent: &HashMap<[u8; 16], Instant>,
    arrivals: &Arrivals,
    started: Instant,
) -> MessagingReport {
    let map = arrivals.lock().unwrap_or_else(PoisonError::into_inner);
    let (mut direct, mut mailbox, mut duplicates) = (Vec::new(), Vec::new(), 0);
    for (id, at) in sent {
        if let Some((arrived, via_mailbox, times)) = map.get(id) {
            let ms = arrived.saturating_duration_since(*at).as_secs_f64() * 1e3;
            if *via_mailbox {
                mailbox.push(ms)
            } else {
                direct.push(ms)
            }
            duplicates += times - 1;
        }
    }
    let delivered = direct.len() + mailbox.len();
    MessagingReport {
        scenario: scenario.clone(),
        sent: sent.len(),
        delivered,
        delivery_ratio: if sent.is_empty() {
            0.0
        } else {
            delivered as f64 / sent.len() as f64
        },
        via_mailbox: mailbox.len(),
        duplicates,
        direct: Percentiles::of(direct),
        mailbox: Percentiles::of(mailbox),
        wall_s: started.elapsed().as_secs_f64(),
    }
}
