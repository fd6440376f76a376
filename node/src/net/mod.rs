//! The network task: the libp2p swarm of a Talos node and its event loop.
//!
//! - [`behaviour`]: the `#[derive(NetworkBehaviour)]` composition (block list, connection
//!   limits, identify, ping, Kademlia on `/talos/<network>/kad/1.0.0`, gossipsub with peer
//!   scoring, request-response sync on `/talos/<network>/sync/1.0.0`);
//! - [`swarm`]: transports ([`TransportKind`]: TCP+Noise+Yamux, QUIC v1 and DNS, or memory);
//! - [`config`]: [`NetConfig`] and [`Role`];
//! - [`peers`]: the peer book, local scores and bans;
//! - [`gossip`], [`imports`]: gossip validation and sync imports awaited off the loop;
//! - [`sync_driver`], [`sync_server`]: the sync state machine over the store, and serving
//!   peers' requests from the store on the blocking pool;
//! - the event loop itself (private modules `event_loop`, `swarm_events`, `sync_events`,
//!   `control`).
//!
//! The one entry point is [`run`].

pub mod behaviour;
pub mod config;
mod control;
pub mod error;
mod event_loop;
pub mod gossip;
pub mod imports;
pub mod peers;
pub mod swarm;
mod swarm_events;
pub mod sync_driver;
mod sync_events;
pub mod sync_server;

use std::sync::Arc;

use talos_storage::Store;
use tokio::sync::{Notify, mpsc};

pub use config::{
    InjectedTransport, NetConfig, RawStream, RawTransport, Role, TransportKind, UnknownRole,
};
pub use error::NetError;
pub use swarm::secure_and_multiplex;

use crate::chain::ChainChannels;
use crate::handle::NetCommand;
use crate::metrics::MetricsHub;
use crate::pipeline::ChainNotice;

/// Runs the network task until `shutdown` is notified.
///
/// Builds the swarm (registering libp2p's metrics in `metrics.registry`), listens on
/// `config.listen`, dials `config.bootnodes`, then serves: chain `notices` (publish new tips
/// and items, penalize senders of bad blocks, fetch missing parents), node `commands`, gossip
/// (validated through `chain`), and chain sync (driving `talos-sync`'s state machine and
/// serving peers from `store`). Fails only at start-up (transport, listen address, store).
pub async fn run(
    config: NetConfig,
    store: Arc<dyn Store>,
    chain: ChainChannels,
    notices: mpsc::Receiver<ChainNotice>,
    commands: mpsc::Receiver<NetCommand>,
    metrics: MetricsHub,
    shutdown: Arc<Notify>,
) -> Result<(), NetError> {
    event_loop::NetLoop::start(config, store, chain, notices, commands, &metrics)?
        .run(shutdown)
        .await
}
