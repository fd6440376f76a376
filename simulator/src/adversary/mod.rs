//! Hostile simulated peers: bare libp2p swarms (not `talos-node`) that speak the Talos
//! protocols on a network and misbehave in one chosen way.
//!
//! Every adversary runs identify (with the node's protocol version), ping, Kademlia on
//! `/talos/<network>/kad/1.0.0`, gossipsub on the network's topics and the sync protocol
//! `/talos/<network>/sync/1.0.0` through a raw length-prefixed codec, over the simulator's
//! injected raw transport upgraded with Noise and Yamux exactly like a node's. It listens on
//! its address, dials its targets, and redials them with backoff while they do not refuse it.
//!
//! - [`AdversaryKind::InvalidBlockFlood`] publishes, at a fixed rate, blocks on genesis that
//!   decode but break consensus (a wrong Merkle root; a bad proof of work where the target is
//!   too hard to meet): honest nodes reject them and ban the sender.
//! - [`AdversaryKind::JunkSync`] advertises a far heavier chain in sync status messages, then
//!   answers header and block requests with junk (undecodable frames or headers at the wrong
//!   height): honest nodes penalize it and ban it.
//! - [`AdversaryKind::Silent`] joins the gossip meshes but never forwards (it never validates a
//!   message) and never answers a sync request (it holds the response channels until they are
//!   evicted from a bounded queue), so requesters time out.
//! - [`AdversaryKind::MutatedBody`] relays every real block it receives, but first publishes a
//!   copy with the same header and a body that does not match it (the header-id poisoning
//!   attack): honest nodes must blame only it and still take the real block. It relays sync
//!   requests to another of its peers and their answers back unchanged, and runs Kademlia in
//!   client mode so a victim learns of no other peer through it.
//! - [`AdversaryKind::WorkLiar`] claims a far heavier chain and backs none of it: empty header
//!   answers, `busy` to everything else, a fresh tip claimed every few seconds.
//! - [`AdversaryKind::TimeWarp`] mines a private branch from genesis with timestamps that
//!   alternate far ahead of and behind their parents', every block at the target the retarget
//!   expects, and publishes it at a fixed rate.
//! - [`AdversaryKind::SlotFiller`] connects to its targets under many identities at once
//!   (`rate_per_s` of them) that then sit idle like silent peers, to fill connection slots.
//! - [`AdversaryKind::RequestFlooder`] sends sync requests (status, header and block ranges)
//!   to every peer at a fixed rate, far past any fair quota.
//! - [`AdversaryKind::ProofLiar`] looks like an honest full node to a light client (it relays
//!   every sync request to one of its targets and their answers back, so its status and
//!   headers are a real node's) but lies about proofs: "not found" to every item proof
//!   request, and state proofs forged so they fail verification ([`ProofForger`]). Only a
//!   light client asks for proofs, so only a light client can catch it
//!   ([`AdversaryKind::caught_by_full_nodes`]).
//!
//! Every queue and set is bounded. Nothing an honest peer sends can make an adversary panic.

mod blocks;
mod codec;
mod junk;
mod mutate;
mod proofs;
mod redial;
mod run;
mod swarm;
#[cfg(test)]
mod tests;
mod warp;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};
use talos_chain::NetworkSpec;
use talos_network::InjectedTransport;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::SimError;
use crate::error::AdversaryError;

pub use blocks::InvalidBlocks;
pub use mutate::BodyMutator;
pub use proofs::ProofForger;
pub use warp::WarpBranch;

/// Most identities one slot filler runs.
pub const MAX_IDENTITIES: usize = 64;

/// What an adversary does wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdversaryKind {
    /// Publishes consensus-invalid blocks on the blocks topic at a fixed rate.
    InvalidBlockFlood,
    /// Advertises a heavier chain, then answers sync requests with junk.
    JunkSync,
    /// Joins the meshes, never forwards gossip, never answers sync requests.
    Silent,
    /// Publishes a body-mutated copy of every real block before relaying the real one.
    MutatedBody,
    /// Claims the most work and never backs it.
    WorkLiar,
    /// Mines and publishes a timestamp-gaming private branch.
    TimeWarp,
    /// Holds many idle connections under many identities.
    SlotFiller,
    /// Floods sync requests.
    RequestFlooder,
    /// Relays sync like an honest full node, but denies every item proof and forges every
    /// state proof.
    ProofLiar,
}

impl AdversaryKind {
    /// Every kind.
    pub const ALL: [AdversaryKind; 9] = [
        Self::InvalidBlockFlood,
        Self::JunkSync,
        Self::Silent,
        Self::MutatedBody,
        Self::WorkLiar,
        Self::TimeWarp,
        Self::SlotFiller,
        Self::RequestFlooder,
        Self::ProofLiar,
    ];

    /// Stable name (`invalid-block-flood`, `junk-sync`, `silent`, `mutated-body`,
    /// `work-liar`, `time-warp`, `slot-filler`, `request-flooder`, `proof-liar`), as in
    /// scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidBlockFlood => "invalid-block-flood",
            Self::JunkSync => "junk-sync",
            Self::Silent => "silent",
            Self::MutatedBody => "mutated-body",
            Self::WorkLiar => "work-liar",
            Self::TimeWarp => "time-warp",
            Self::SlotFiller => "slot-filler",
            Self::RequestFlooder => "request-flooder",
            Self::ProofLiar => "proof-liar",
        }
    }

    /// Whether `rate_per_s` drives it (a message rate, or for the slot filler its number of
    /// identities), so it must be positive and finite.
    pub fn uses_rate(&self) -> bool {
        matches!(
            self,
            Self::InvalidBlockFlood | Self::TimeWarp | Self::SlotFiller | Self::RequestFlooder
        )
    }

    /// Whether honest peers can see it break a rule, so should ban it. Silent peers and slot
    /// fillers only withhold or occupy: nodes route around them and evict them instead. A
    /// proof liar breaks rules only a light client sees ([`Self::caught_by_full_nodes`]).
    pub fn breaks_rules(&self) -> bool {
        !matches!(self, Self::Silent | Self::SlotFiller)
    }

    /// Whether it relays sync requests between its peers (so reads answers of any size a
    /// node sends): the mutator and the proof liar.
    pub fn relays_sync(&self) -> bool {
        matches!(self, Self::MutatedBody | Self::ProofLiar)
    }

    /// Whether honest full nodes (the simulated nodes) can see it break a rule, so should ban
    /// it: every rule breaker but the proof liar, whose lies are answers to proof requests,
    /// which only light clients send; to full nodes it is a relay of honest answers.
    pub fn caught_by_full_nodes(&self) -> bool {
        self.breaks_rules() && *self != Self::ProofLiar
    }
}

impl std::fmt::Display for AdversaryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AdversaryKind {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| AdversaryError::UnknownKind(s.to_owned()).into())
    }
}

/// Everything an adversary needs to start.
#[derive(Clone)]
pub struct AdversaryConfig {
    /// What it does wrong.
    pub kind: AdversaryKind,
    /// The network it attacks (protocol names, topics, genesis, limits).
    pub spec: NetworkSpec,
    /// Its identity (PeerId, Noise, gossipsub signatures).
    pub keypair: Keypair,
    /// The raw transport, upgraded with Noise and Yamux like a node's.
    pub transport: InjectedTransport,
    /// Where it listens: `/memory/<port>` in the simulator, e.g. `/ip4/127.0.0.1/tcp/0` over
    /// [`tcp_transport`]; the addresses bound are [`Adversary::listen_addrs`].
    pub listen: Multiaddr,
    /// Honest nodes to dial, each ending in `/p2p/<peer id>`.
    pub targets: Vec<Multiaddr>,
    /// Messages per second for the flooding kinds (invalid blocks, time-warp blocks, sync
    /// requests per peer), identities for the slot filler; must then be positive and finite
    /// ([`AdversaryKind::uses_rate`]).
    pub rate_per_s: f64,
    /// Seed of everything random it makes (nonces, timestamps, fake tips, junk).
    pub seed: u64,
}

impl std::fmt::Debug for AdversaryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdversaryConfig")
            .field("kind", &self.kind)
            .field("network", &self.spec.name)
            .field("peer_id", &self.keypair.public().to_peer_id())
            .field("transport", &self.transport)
            .field("listen", &self.listen)
            .field("targets", &self.targets)
            .field("rate_per_s", &self.rate_per_s)
            .field("seed", &self.seed)
            .finish()
    }
}

/// Counters (and listen addresses) shared between an [`Adversary`] handle and its swarm task.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Hostile messages sent.
    pub(crate) sent: AtomicU64,
    /// Distinct peers connected at some point.
    pub(crate) contacted: AtomicUsize,
    /// The addresses the listening swarm reported, without `/p2p`.
    pub(crate) listen_addrs: watch::Sender<Vec<Multiaddr>>,
}

/// A running adversary: a handle on its swarm task.
///
/// Dropping it without [`Adversary::stop`] aborts the task.
#[derive(Debug)]
pub struct Adversary {
    kind: AdversaryKind,
    peer_id: PeerId,
    counters: Arc<Counters>,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl Adversary {
    /// Builds the adversary's swarm, starts listening, and spawns the task that runs it (and
    /// dials the targets). Must be called inside a tokio runtime.
    ///
    /// Fails when the configuration is unusable: a flood rate that is not positive and finite,
    /// a target without `/p2p/<peer id>`, a network name that makes no protocol name, or a
    /// listen address the transport refuses.
    pub fn spawn(config: AdversaryConfig) -> Result<Self, SimError> {
        if config.kind.uses_rate() && !(config.rate_per_s.is_finite() && config.rate_per_s > 0.0) {
            return Err(AdversaryError::BadRate(config.rate_per_s).into());
        }
        let targets = config
            .targets
            .iter()
            .map(|addr| Ok((target_peer(addr)?, addr.clone())))
            .collect::<Result<Vec<_>, SimError>>()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(AdversaryError::from)?;
        let kind = config.kind;
        let peer_id = config.keypair.public().to_peer_id();
        let counters = Arc::new(Counters::default());
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut hostiles = vec![run::Hostile::start(
            &config,
            targets.clone(),
            counters.clone(),
            true,
        )?];
        if kind == AdversaryKind::SlotFiller {
            // Extra identities, each its own swarm on the same raw transport; only the first
            // listens. The count is capped so a typo cannot exhaust the machine.
            let extra = (config.rate_per_s as usize).clamp(1, MAX_IDENTITIES) - 1;
            for i in 0..extra {
                let mut secret = [0u8; 32];
                secret[..8].copy_from_slice(&config.seed.to_be_bytes());
                secret[8..16].copy_from_slice(&(i as u64 + 1).to_be_bytes());
                let mut identity = config.clone();
                identity.keypair =
                    Keypair::ed25519_from_bytes(secret).map_err(AdversaryError::from)?;
                hostiles.push(run::Hostile::start(
                    &identity,
                    targets.clone(),
                    counters.clone(),
                    false,
                )?);
            }
        }
        let task = runtime.spawn(async move {
            futures::future::join_all(hostiles.into_iter().map(|h| h.run(stop_rx.clone()))).await;
        });
        Ok(Self {
            kind,
            peer_id,
            counters,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    /// What it does wrong.
    pub fn kind(&self) -> AdversaryKind {
        self.kind
    }

    /// Its PeerId.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Hostile messages sent so far: invalid, mutated or time-warp blocks published, junk or
    /// hollow sync answers given, flood requests sent, proofs denied or forged.
    pub fn sent(&self) -> u64 {
        self.counters.sent.load(Ordering::Relaxed)
    }

    /// Distinct peers it was connected to at some point.
    pub fn contacted(&self) -> usize {
        self.counters.contacted.load(Ordering::Relaxed)
    }

    /// The addresses it listens on, each ending in `/p2p/<its peer id>` so they can be dialed
    /// as they are (a light client dials a proof liar here). Empty until its transport has
    /// reported them, which happens soon after [`Adversary::spawn`]: see
    /// [`Adversary::listening`]. A `/tcp/0` listen address shows here with its real port.
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        let peer = self.peer_id;
        self.counters
            .listen_addrs
            .borrow()
            .iter()
            .map(|addr| addr.clone().with(Protocol::P2p(peer)))
            .collect()
    }

    /// Waits up to `timeout` until it listens on at least one address and returns
    /// [`Adversary::listen_addrs`] (empty when the time ran out).
    pub async fn listening(&self, timeout: Duration) -> Vec<Multiaddr> {
        let mut addrs = self.counters.listen_addrs.subscribe();
        let _ = tokio::time::timeout(timeout, addrs.wait_for(|a| !a.is_empty())).await;
        self.listen_addrs()
    }

    /// Stops the swarm task and waits for it to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::warn!(peer = %self.peer_id, error = %e, "adversary task failed");
        }
    }
}

impl Drop for Adversary {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A raw TCP transport (libp2p's tokio TCP), for adversaries that attack real `talos`
/// processes over loopback instead of simulated nodes.
pub fn tcp_transport() -> InjectedTransport {
    use libp2p::Transport;
    InjectedTransport::new("tcp", || {
        libp2p::tcp::tokio::Transport::new(libp2p::tcp::Config::default())
            .map(|stream, _| Box::new(stream) as Box<dyn talos_network::RawStream>)
            .boxed()
    })
}

/// The PeerId a target address ends with.
fn target_peer(addr: &Multiaddr) -> Result<PeerId, SimError> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Ok(peer),
        _ => Err(AdversaryError::TargetWithoutPeer(addr.clone()).into()),
    }
}
