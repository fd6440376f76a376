//! The header store of a light client: the headers it accepted (the best chain by height, and
//! the few side headers it once followed or is still receiving) and the tip. No bodies, and no
//! index by id: every lookup names the height with the id.
//!
//! - [`HeaderStore`]: the trait; every write is one atomic [`HeaderStore::commit`] of a
//!   [`HeaderUpdate`], checked by the same rules as a [`crate::ChainUpdate`] (plus: a new
//!   header's cumulative work is exactly its parent's plus its own target's work, see
//!   [`header_work`]), so the best chain always agrees with the tip.
//! - [`SledHeaderStore`]: sled 0.34, one tree (`headers-chain`) split into spaces by a key
//!   prefix, so each commit is one batch + flush; every value checksummed and checked on
//!   read; a bounded integrity walk at open. It keeps nothing per header in memory, and its
//!   best chain only grows at the end of its keyspace, so sled's footprint stays small
//!   (≈ 40 MiB at a million headers).
//! - [`MemoryHeaderStore`]: the same semantics in memory, for tests and the simulator.
//!
//! [`verify_headers`] (the integrity walk) works on any header store.

mod entry;
mod integrity;
mod layout;
mod memory;
mod plan;
mod sled;
mod store;
mod tree;
mod update;

pub use entry::header_work;
pub use integrity::{HeaderIntegrityReport, verify_headers};
pub use memory::MemoryHeaderStore;
pub use sled::{DEFAULT_HEADER_CACHE_BYTES, SledHeaderConfig, SledHeaderStore};
pub use store::HeaderStore;
pub use update::{HeaderStoreStats, HeaderUpdate, MAX_HEADER_UPDATE};
