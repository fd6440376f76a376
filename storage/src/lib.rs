//! Talos storage: the chain store traits, a crash-safe sled backend and an in-memory backend.
//!
//! - [`ChainStore`]: blocks and headers by id (headers carry cumulative work for fork
//!   choice), the best chain's height, item and (author, nonce) indexes, and the tip. Every
//!   write is one atomic [`ChainStore::commit`] of a [`ChainUpdate`], so a plain import, a
//!   side-chain block and a reorg are the same operation and the indexes always agree with the
//!   tip.
//! - [`KvStore`]: a namespaced key-value space for other protocols (ratchet sessions,
//!   mailbox).
//! - [`SledStore`]: sled 0.34 with all chain data in one tree under per-space key prefixes,
//!   so each commit is one atomic batch + flush; checksums on every value verified on every
//!   read, and an integrity walk at open.
//! - [`MemoryStore`]: the same semantics in memory, for tests and the simulator.
//!
//! [`verify_chain`] (the integrity walk) works on any store.
//!
//! [`headers`]: the light client's header store ([`HeaderStore`], [`SledHeaderStore`],
//! [`MemoryHeaderStore`]).

mod codec;
mod error;
mod genesis;
pub mod headers;
mod integrity;
mod kv;
mod memory;
mod open;
mod plan;
mod sled;
mod traits;
mod types;

pub use self::sled::{DEFAULT_CACHE_BYTES, SledConfig, SledMode, SledStore};
pub use error::{BackendError, Result, StorageError, UpdateError};
pub use genesis::genesis_work;
pub use headers::{
    DEFAULT_HEADER_CACHE_BYTES, HeaderIntegrityReport, HeaderStore, HeaderStoreStats, HeaderUpdate,
    MAX_HEADER_UPDATE, MemoryHeaderStore, SledHeaderConfig, SledHeaderStore, header_work,
    verify_headers,
};
pub use integrity::{
    DEFAULT_INTEGRITY_DEPTH, IntegrityDepth, IntegrityOptions, IntegrityReport, verify_chain,
};
pub use kv::{
    KvBatch, KvOp, MAX_KV_BATCH, MAX_KV_KEY, MAX_KV_NAMESPACE, MAX_KV_SCAN, MAX_KV_VALUE,
};
pub use memory::MemoryStore;
pub use traits::{ChainStore, KvStore, Store};
pub use types::{
    ChainTip, ChainUpdate, CommitSummary, HeaderEntry, ItemLocation, MAX_BLOCKS_PER_QUERY,
    MAX_HEADERS_PER_QUERY, MAX_LOCATOR_LEN, MAX_UPDATE_BLOCKS, NewBlock, ReorgPath, StoreStats,
};
