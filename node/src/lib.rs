//! The Talos node: the only crate that wires the chain service, the network, storage and the
//! local API together, and the `talos` binary.
//!
//! - [`node`]: start and wiring ([`node::start`], [`node::start_with`], [`node::RunningNode`]);
//! - [`handle`]: the cloneable [`handle::NodeHandle`] the API, tests and the simulator use;
//! - [`config`], [`identity`], [`files`], [`logging`], [`metrics`]: operations;
//! - `cli` and `api` (feature `cli`, on by default): the command line, and the node as the
//!   local API's backend. The simulator builds without them.

pub mod agent;
#[cfg(feature = "cli")]
pub mod api;
#[cfg(feature = "cli")]
mod api_agent;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod files;
pub mod handle;
pub mod identity;
pub mod light;
pub mod logging;
pub mod metrics;
pub mod netclient;
pub mod node;
pub mod resources;
