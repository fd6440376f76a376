//! Network configuration: role, transports, addresses and tunables.

use std::time::Duration;

use libp2p::Multiaddr;
use libp2p::identity::Keypair;
use serde::{Deserialize, Serialize};
use talos_chain::NetworkSpec;
use talos_sync::SyncConfig;

/// What a node does on the network. Bootstrap and full nodes run Kademlia in server mode,
/// gossip and sync, and a bootstrap node accepts more connections; a light client holds
/// headers only: a Kademlia client, no gossip, headers-only sync (see [`crate::light`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A well-known entry point for discovery.
    Bootstrap,
    /// A full node (validates and stores the whole chain; may mine).
    #[default]
    Full,
    /// A light client (follows the most-work header chain, checks proofs).
    Light,
}

impl Role {
    /// Stable name (`bootstrap` / `full` / `light`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Bootstrap => "bootstrap",
            Self::Full => "full",
            Self::Light => "light",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not `bootstrap`, `full` or `light`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected `bootstrap`, `full` or `light`)")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bootstrap" => Ok(Self::Bootstrap),
            "full" => Ok(Self::Full),
            "light" => Ok(Self::Light),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

/// Which transports the swarm uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TransportKind {
    /// TCP + Noise + Yamux, QUIC v1, and DNS resolution (without DNS when the machine has no
    /// nameserver configured).
    #[default]
    Network,
    /// libp2p's in-process memory transport + Noise + Yamux (`/memory/<port>` addresses), for
    /// the simulator and tests.
    Memory,
    /// A raw transport supplied by the caller (the simulator's link model over the memory
    /// transport), upgraded by the node with the same Noise + Yamux stack as [`Self::Memory`].
    Injected(InjectedTransport),
}

/// A byte stream a raw transport produces, before Noise and Yamux.
pub trait RawStream: futures::AsyncRead + futures::AsyncWrite + Send + Unpin + 'static {}

impl<T: futures::AsyncRead + futures::AsyncWrite + Send + Unpin + 'static> RawStream for T {}

/// A boxed raw transport: what [`InjectedTransport`] builds.
pub type RawTransport = libp2p::core::transport::Boxed<Box<dyn RawStream>>;

/// Builds the raw transport of [`TransportKind::Injected`]; called once per swarm (a node
/// restarted with the same config gets a fresh transport).
#[derive(Clone)]
pub struct InjectedTransport {
    name: &'static str,
    make: std::sync::Arc<dyn Fn() -> RawTransport + Send + Sync>,
}

impl InjectedTransport {
    /// A named factory (the name shows in `Debug` output and logs).
    pub fn new(
        name: &'static str,
        make: impl Fn() -> RawTransport + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            make: std::sync::Arc::new(make),
        }
    }

    /// A fresh raw transport.
    pub fn build(&self) -> RawTransport {
        (self.make)()
    }
}

impl std::fmt::Debug for InjectedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("InjectedTransport")
            .field(&self.name)
            .finish()
    }
}

/// Two injected transports are equal when they are the same factory.
impl PartialEq for InjectedTransport {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.make, &other.make)
    }
}

impl Eq for InjectedTransport {}

/// Default idle connection timeout: long enough that peers we sync with, which are idle
/// between batches, are not dropped.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Default [`NetConfig::target_peers`].
pub const DEFAULT_TARGET_PEERS: usize = 32;

/// Default ban duration for a misbehaving peer.
pub const DEFAULT_BAN_DURATION: Duration = Duration::from_secs(60 * 60);

/// Everything the network task needs to start.
#[derive(Clone)]
pub struct NetConfig {
    /// The network's spec (name → topics and protocol names; limits → caps).
    pub spec: NetworkSpec,
    /// Our role.
    pub role: Role,
    /// The node key (PeerId, Noise, gossipsub signatures).
    pub keypair: Keypair,
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start (each should end in `/p2p/<peer id>`).
    pub bootnodes: Vec<Multiaddr>,
    /// Transports.
    pub transport: TransportKind,
    /// Idle connection timeout.
    pub idle_timeout: Duration,
    /// Most established connections in total.
    pub max_connections: u32,
    /// Most established connections per peer (≥ 2: peers may dial each other at once).
    pub max_connections_per_peer: u32,
    /// Of `max_connections`, the slots kept for connections we dial: inbound peers can never
    /// take them (the rest are inbound slots).
    pub max_outbound: u32,
    /// Inbound connections per address and per subnet.
    pub ip_limits: crate::gate::IpLimits,
    /// Connected peers below which peers discovered through Kademlia are dialed.
    pub target_peers: usize,
    /// How long a ban lasts.
    pub ban_duration: Duration,
    /// Timeout of one sync request.
    pub request_timeout: Duration,
    /// Kademlia periodic bootstrap interval.
    pub kad_bootstrap_interval: Duration,
    /// Gossipsub heartbeat interval.
    pub gossip_heartbeat: Duration,
    /// Agent version sent with identify.
    pub agent_version: String,
    /// The range-sync state machine's configuration (its request timeout is also the
    /// request-response timeout, plus a margin).
    pub sync: SyncConfig,
}

impl std::fmt::Debug for NetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetConfig")
            .field("network", &self.spec.name)
            .field("role", &self.role)
            .field("peer_id", &self.keypair.public().to_peer_id())
            .field("listen", &self.listen)
            .field("bootnodes", &self.bootnodes)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl NetConfig {
    /// A full node on `spec` with `keypair`, no listen addresses and no bootnodes, real
    /// transports and default tunables.
    pub fn new(spec: NetworkSpec, keypair: Keypair) -> Self {
        Self {
            spec,
            role: Role::Full,
            keypair,
            listen: Vec::new(),
            bootnodes: Vec::new(),
            transport: TransportKind::Network,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: 128,
            max_connections_per_peer: 2,
            max_outbound: 32,
            ip_limits: crate::gate::IpLimits::default(),
            target_peers: DEFAULT_TARGET_PEERS,
            ban_duration: DEFAULT_BAN_DURATION,
            request_timeout: SyncConfig::default().request_timeout,
            kad_bootstrap_interval: Duration::from_secs(60),
            gossip_heartbeat: Duration::from_millis(700),
            agent_version: format!("talos/{}", env!("CARGO_PKG_VERSION")),
            sync: SyncConfig::default(),
        }
    }

    /// Sets [`Self::target_peers`].
    #[must_use]
    pub fn with_target_peers(mut self, peers: usize) -> Self {
        self.target_peers = peers;
        self
    }

    /// Sets the role (a bootstrap node allows more connections).
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = role;
        if role == Role::Bootstrap {
            self.max_connections = self.max_connections.max(512);
            self.max_outbound = self.max_outbound.max(64);
        }
        self
    }

    /// Sets the listen addresses.
    pub fn with_listen(mut self, listen: Vec<Multiaddr>) -> Self {
        self.listen = listen;
        self
    }

    /// Sets the bootnodes.
    pub fn with_bootnodes(mut self, bootnodes: Vec<Multiaddr>) -> Self {
        self.bootnodes = bootnodes;
        self
    }

    /// Sets the transports.
    pub fn with_transport(mut self, transport: TransportKind) -> Self {
        self.transport = transport;
        self
    }

    /// Sets the idle connection timeout.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the connection limits (per peer at least 2).
    pub fn with_max_connections(mut self, total: u32, per_peer: u32) -> Self {
        self.max_connections = total;
        self.max_connections_per_peer = per_peer.max(2);
        self
    }

    /// Sets the slots kept for outbound connections.
    pub fn with_max_outbound(mut self, outbound: u32) -> Self {
        self.max_outbound = outbound;
        self
    }

    /// Sets the per-address and per-subnet inbound limits.
    pub fn with_ip_limits(mut self, limits: crate::gate::IpLimits) -> Self {
        self.ip_limits = limits;
        self
    }

    /// The inbound slots: `max_connections` less the outbound ones.
    pub fn max_inbound(&self) -> u32 {
        self.max_connections.saturating_sub(self.max_outbound)
    }

    /// Sets the ban duration.
    pub fn with_ban_duration(mut self, duration: Duration) -> Self {
        self.ban_duration = duration;
        self
    }

    /// Sets the sync request timeout (the machine's and the transport's).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self.sync.request_timeout = timeout;
        self
    }

    /// Sets the sync machine's configuration.
    pub fn with_sync_config(mut self, sync: SyncConfig) -> Self {
        self.request_timeout = sync.request_timeout;
        self.sync = sync;
        self
    }

    /// Sets the Kademlia periodic bootstrap interval.
    pub fn with_kad_bootstrap_interval(mut self, interval: Duration) -> Self {
        self.kad_bootstrap_interval = interval;
        self
    }

    /// Sets the gossipsub heartbeat interval.
    pub fn with_gossip_heartbeat(mut self, interval: Duration) -> Self {
        self.gossip_heartbeat = interval;
        self
    }

    /// Sets the identify agent version.
    pub fn with_agent_version(mut self, agent: impl Into<String>) -> Self {
        self.agent_version = agent.into();
        self
    }

    /// Our PeerId.
    pub fn peer_id(&self) -> libp2p::PeerId {
        self.keypair.public().to_peer_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_parses_and_prints() {
        assert_eq!("bootstrap".parse::<Role>(), Ok(Role::Bootstrap));
        assert_eq!("Full".parse::<Role>(), Ok(Role::Full));
        assert_eq!("light".parse::<Role>(), Ok(Role::Light));
        assert!("heavy".parse::<Role>().is_err());
        assert_eq!(Role::Bootstrap.to_string(), "bootstrap");
        assert_eq!(Role::default(), Role::Full);
        let json = serde_json::to_string(&Role::Bootstrap).unwrap();
        assert_eq!(json, "\"bootstrap\"");
        assert_eq!(
            serde_json::from_str::<Role>("\"full\"").unwrap(),
            Role::Full
        );
    }

    #[test]
    fn builders_set_fields() {
        let cfg = NetConfig::new(NetworkSpec::local(), Keypair::generate_ed25519())
            .with_role(Role::Bootstrap)
            .with_transport(TransportKind::Memory)
            .with_max_connections(10, 1)
            .with_idle_timeout(Duration::from_secs(5));
        assert_eq!(cfg.role, Role::Bootstrap);
        assert_eq!(cfg.transport, TransportKind::Memory);
        assert_eq!(cfg.max_connections, 10);
        assert_eq!(cfg.max_connections_per_peer, 2);
        assert_eq!(cfg.idle_timeout, Duration::from_secs(5));
    }
}
