//! Test utilities for every crate that drives or serves the sync protocol, enabled by the
//! `testkit` feature and never part of a production build:
//!
//! - [`TestChain`]: an in-memory tree of real mined blocks with a best chain by work, usable as
//!   the local chain (a [`crate::ChainView`]) and as what a peer serves;
//! - [`HeaderChain`]: an in-memory header store, the local chain of a light client (a machine
//!   in headers-only mode);
//! - [`Net`]: a [`crate::SyncMachine`] wired to simulated peers ([`SimPeer`], honest or
//!   misbehaving in a chosen [`Behaviour`]) on virtual time, over a [`LocalChain`], recording
//!   every request, import, penalty and disconnect.

mod chain;
mod headers;
mod local;
mod net;

pub use chain::{TestChain, TestChainError};
pub use headers::HeaderChain;
pub use local::LocalChain;
pub use net::{Behaviour, Net, SimPeer};
