//! The Talos node: the only crate that wires chain rules, storage and protocols together.
//!
//! - [`chain`]: the chain service — import pipeline, fork choice, mempool, miner — on its own
//!   thread, fed by bounded queues;
//! - [`net`]: the libp2p swarm (`#[derive(NetworkBehaviour)]`), its event loop, peer scoring,
//!   and the sync manager driving `talos-sync`'s state machine;
//! - [`handle`]: the cloneable handle the API, tests and the simulator use;
//! - [`api`], [`metrics`]: local HTTP API and Prometheus metrics;
//! - [`config`], [`cli`], [`identity`], [`logging`]: operations.

pub mod api;
pub mod chain;
pub mod cli;
pub mod config;
pub mod handle;
pub mod identity;
pub mod logging;
pub mod metrics;
pub mod net;
pub mod node;
pub mod pipeline;
