//! `talos-simulator`: many real Talos nodes in one process, over libp2p's memory transport
//! behind a link model (latency, jitter, bandwidth, partitions), with scenarios, faults,
//! adversaries, and a report of how blocks propagated.
//!
//! - [`model`], [`link`], [`transport`]: the simulated network every node's swarm is built on.
//! - [`adversary`]: hostile peers (invalid-block flood, junk sync answers, silent peers,
//!   mutated bodies, work liars, a time warper, slot fillers, request flooders).
//! - [`scenario`]: scenarios as TOML files and as a Rust builder.
//! - [`runner`]: starts the nodes (the real `talos-node` code), drives the scenario, records.
//! - [`record`], [`report`], [`plot`]: the raw record, its summary table/JSON, and SVG plots.

pub mod adversary;
pub mod error;
pub mod expect;
pub mod link;
pub mod messaging;
pub mod model;
pub mod plot;
pub mod record;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod transport;

pub use error::SimError;
