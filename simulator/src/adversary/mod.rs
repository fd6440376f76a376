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
//!
//! Every queue and set is bounded. Nothing an honest peer sends can make an adversary panic.

mod blocks;
mod codec;
mod junk;
mod redial;
mod run;
mod swarm;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};
use talos_chain::NetworkSpec;
use talos_network::InjectedTransport;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::SimError;
use crate::error::AdversaryError;

pub use blocks::InvalidBlocks;

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
}

impl AdversaryKind {
    /// Every kind.
    pub const ALL: [AdversaryKind; 3] = [Self::InvalidBlockFlood, Self::JunkSync, Self::Silent];

    /// Stable name (`invalid-block-flood`, `junk-sync`, `silent`), as in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidBlockFlood => "invalid-block-flood",
            Self::JunkSync => "junk-sync",
            Self::Silent => "silent",
        }
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
    /// Where it listens (`/memory/<port>`).
    pub listen: Multiaddr,
    /// Honest nodes to dial, each ending in `/p2p/<peer id>`.
    pub targets: Vec<Multiaddr>,
    /// Invalid blocks published per second ([`AdversaryKind::InvalidBlockFlood`] only; must
    /// then be positive and finite).
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

/// Counters shared between an [`Adversary`] handle and its swarm task.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Hostile messages sent.
    pub(crate) sent: AtomicU64,
    /// Distinct peers connected at some point.
    pub(crate) contacted: AtomicUsize,
}

/// A running adversary: a handle on its swarm task.
///
/// Dropping it without [`Adversary::stop`] aborts the task.
#[derive(Debug)]
pub struct Adversary {
    kind: AdversaryKind,
    peer_id: PeerId,
    counters: Arc<Counters>,
    stop: Option<oneshot::Sender<()>>,
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
        if config.kind == AdversaryKind::InvalidBlockFlood
            && !(config.rate_per_s.is_finite() && config.rate_per_s > 0.0)
        {
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
        let task = run::Hostile::start(config, targets, counters.clone())?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = runtime.spawn(task.run(stop_rx));
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

    /// Hostile messages sent so far: invalid blocks published, junk sync answers given.
    pub fn sent(&self) -> u64 {
        self.counters.sent.load(Ordering::Relaxed)
    }

    /// Distinct peers it was connected to at some point.
    pub fn contacted(&self) -> usize {
        self.counters.contacted.load(Ordering::Relaxed)
    }

    /// Stops the swarm task and waits for it to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
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

/// The PeerId a target address ends with.
fn target_peer(addr: &Multiaddr) -> Result<PeerId, SimError> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Ok(peer),
        _ => Err(AdversaryError::TargetWithoutPeer(addr.clone()).into()),
    }
}
