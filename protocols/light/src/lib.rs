//! The Talos light client's decisions, without I/O.
//!
//! A light client holds headers only. It follows the most-work header chain and checks what
//! full nodes tell it against that chain:
//!
//! - [`headers`]: whether headers handed over by header-first sync join the local header
//!   chain (every consensus rule a full node applies to a header, the network's checkpoints,
//!   and the "more work than ours or nothing" rule), as a plan of what to store and which
//!   headers enter and leave the best chain;
//! - [`inclusion`]: the verdict on an SPV proof of an item (verified with its depth, pending,
//!   off the best chain, invalid with the reason);
//! - [`state`]: the verdict on a state proof (a capability revoked or not, a DID's current
//!   document) against the best header's state root;
//! - [`crosscheck`]: several full nodes' answers to one question combined into one verdict and
//!   the list of nodes that lied;
//! - [`saved`]: a proof as a self-contained file (`talos verify-proof`).
//!
//! The node wires these to its header store and the network; nothing here reads a clock, a
//! disk or a socket.

pub mod crosscheck;
pub mod headers;
pub mod inclusion;
pub mod memory;
pub mod saved;
pub mod state;

pub use crosscheck::{Answer, CrossCheck, Liar, LieKind, cross_check_inclusion, cross_check_state};
pub use headers::{
    BlockAt, HeaderPlan, HeaderRejection, HeaderSource, Lighter, StoredHeader, plan_headers,
};
pub use inclusion::{InclusionVerdict, InvalidProof, judge_inclusion};
pub use memory::MemoryHeaders;
pub use saved::{SavedProof, SavedProofError, SavedVerdict, verify_saved};
pub use state::{StateQuestion, StateVerdict, judge_state};
