//! Test utilities shared by every crate's tests and benches, enabled by the `testkit` feature
//! and never part of a production build:
//!
//! - [`strategies`]: proptest strategies for chain values (wire round trips);
//! - [`builders`] (re-exported here): the easy-target spec, deterministic keys, signed items,
//!   mined child blocks and a [`ChainBuilder`] that grows chains and forks the way a remote
//!   miner would.

pub mod builders;
pub mod strategies;

pub use builders::*;
