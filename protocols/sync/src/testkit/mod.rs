//! Test utilities for every crate that drives or serves the sync protocol, enabled by the
//! `testkit` feature and never part of a production build:
//!
//! - [`TestChain`]: an in-memory tree of real mined blocks with a best chain by work, usable as
//!   the local chain (a [`crate::ChainView`]) and as what a peer serves;
//! - [`Net`]: a [`crate::SyncMachine`] wired to simulated peers ([`SimPeer`], honest or
//!   misbehaving in a chosen [`Behaviour`]) on virtual time, recording every request, import,
//!   penalty and disconnect.

mod chain;
mod net;

pub use chain::TestChain;
pub use net::{Behaviour, Net, SimPeer};
