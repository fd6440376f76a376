//! The libp2p side of a Talos node: the composed behaviour, the swarm, and the event loop that
//! translates between the wire and the chain service. It decides nothing about the chain; what
//! a peer's mistakes cost is [`policy`]'s, in one exhaustive mapping.
//!
//! - [`behaviour`]: the `#[derive(NetworkBehaviour)]` composition (block list, connection
//!   limits, identify, ping, Kademlia on `/talos/<network>/kad/1.0.0`, gossipsub with peer
//!   scoring, request-response sync on `/talos/<network>/sync/1.0.0`, msg and mailbox);
//! - [`protocols`]: every protocol name, formatted once;
//! - [`swarm`]: transports ([`TransportKind`]: TCP+Noise+Yamux, QUIC v1 and DNS, or memory);
//! - [`config`]: [`NetConfig`] and [`Role`];
//! - [`peers`]: the peer manager (peer entries, local scores, bans, pruning choice);
//! - [`policy`]: penalties and gossip acceptance for every typed error;
//! - [`gossip`], [`imports`]: gossip validation and sync imports awaited off the loop;
//! - [`sync_driver`], [`sync_server`]: the sync state machine over the chain service's index,
//!   and serving peers' requests from the store on the blocking pool;
//! - [`queries`]: requests sent to one chosen peer ([`NetCommand::Ask`]: a light client's
//!   proofs) and their typed failures;
//! - [`messaging`]: agent messaging on `/talos/<network>/msg/1.0.0` and
//!   `/talos/<network>/mailbox/1.0.0`: inbound requests handed to the node
//!   ([`InboundMessaging`]), [`NetCommand::SendMsg`], [`NetCommand::SendMailbox`],
//!   [`NetCommand::ClosestPeers`];
//! - [`commands`], [`metrics`]: what the node's handle asks, and the counters;
//! - the event loop itself (private module `event_loop`).
//!
//! [`Network::start`] builds the swarm and listens (every start-up failure is reported there);
//! [`Network::run`] serves until shutdown.

pub mod behaviour;
pub mod commands;
pub mod config;
pub mod did;
pub mod error;
mod event_loop;
pub mod gate;
pub mod gossip;
pub mod imports;
pub mod light;
pub mod messaging;
pub mod metrics;
pub mod peers;
pub mod policy;
pub mod protocols;
pub mod queries;
pub mod records;
pub mod swarm;
pub mod sync_driver;
pub mod sync_server;

use std::sync::Arc;

use libp2p::PeerId;
use talos_chain_service::{ChainChannels, ChainIndex, ChainNotice};
use talos_storage::Store;
use tokio::sync::{Notify, mpsc};

pub use commands::{COMMAND_QUEUE, NetCommand, PeerInfo};
pub use config::{
    InjectedTransport, NetConfig, RawStream, RawTransport, Role, TransportKind, UnknownRole,
};
pub use did::{DidQueryError, PublishResult, Published, ResolveResult};
pub use error::{BehaviourError, ListenFailure, NetError};
pub use messaging::{
    ClosePeer, INBOUND_QUEUE, InboundMessaging, MAX_INBOUND_PER_PEER, MAX_OUTBOUND_IN_FLIGHT,
    MailboxResult, MessagingFailure, MsgResult,
};
pub use metrics::NetMetrics;
pub use protocols::ProtocolNames;
pub use queries::{QueryFailure, QueryResult, TransportFailure};
pub use swarm::secure_and_multiplex;

/// What the network task is wired to.
pub struct NetParts {
    /// The store, read to serve peers (on the blocking pool).
    pub store: Arc<dyn Store>,
    /// The chain service's queues.
    pub chain: ChainChannels<PeerId>,
    /// The chain service's in-memory index (the sync machine's view).
    pub index: ChainIndex,
    /// Notices from the chain service.
    pub notices: mpsc::Receiver<ChainNotice<PeerId>>,
    /// Commands from the node's handle.
    pub commands: mpsc::Receiver<NetCommand>,
    /// Where inbound msg and mailbox requests go (capacity [`INBOUND_QUEUE`]); `None`: they
    /// are dropped unanswered.
    pub messaging: Option<mpsc::Sender<InboundMessaging>>,
}

impl std::fmt::Debug for NetParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetParts").finish_non_exhaustive()
    }
}

/// What a light client's network task is wired to.
pub struct LightNetParts {
    /// The header store headers-only sync writes (through [`light::HeaderImporter`]).
    pub headers: Arc<dyn talos_storage::HeaderStore>,
    /// Where new headers and tips are announced.
    pub events: tokio::sync::broadcast::Sender<light::LightEvent>,
    /// Commands from the node's handle.
    pub commands: mpsc::Receiver<NetCommand>,
    /// Where inbound msg requests go (capacity [`INBOUND_QUEUE`]; a light client answers no
    /// mailbox requests); `None`: they are dropped unanswered.
    pub messaging: Option<mpsc::Sender<InboundMessaging>>,
}

impl std::fmt::Debug for LightNetParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LightNetParts").finish_non_exhaustive()
    }
}

/// A started network task.
pub struct Network {
    inner: event_loop::NetLoop,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network").finish_non_exhaustive()
    }
}

impl Network {
    /// Builds the swarm (registering libp2p's metrics in `registry`), listens on
    /// `config.listen` and dials `config.bootnodes`. Fails when a transport or behaviour
    /// cannot be built or an address cannot be listened on.
    pub fn start(
        config: NetConfig,
        parts: NetParts,
        registry: &mut libp2p::metrics::Registry,
        metrics: NetMetrics,
    ) -> Result<Self, NetError> {
        event_loop::NetLoop::start(config, parts, registry, metrics).map(|inner| Self { inner })
    }

    /// Builds a light client's swarm (see [`light`]): headers-only sync into `parts.headers`.
    pub fn start_light(
        config: NetConfig,
        parts: LightNetParts,
        registry: &mut libp2p::metrics::Registry,
        metrics: NetMetrics,
    ) -> Result<Self, NetError> {
        event_loop::NetLoop::start_light(config, parts, registry, metrics)
            .map(|inner| Self { inner })
    }

    /// Serves until `shutdown` is notified: chain notices (publish new tips and items,
    /// penalize senders of bad blocks, fetch missing parents), node commands, gossip (validated
    /// through the chain service), and chain sync (driving `talos-sync`'s state machine and
    /// serving peers from the store).
    pub async fn run(self, shutdown: Arc<Notify>) {
        self.inner.run(shutdown).await;
    }
}
