//! The light client's side of the network task: the header store as the sync machine's view
//! ([`view`]), header batches from headers-only sync judged by `talos-light` and committed off
//! the event loop ([`import`]), and the stores as `talos-light`'s header source ([`source`]).
//!
//! A light node runs the same swarm as a full node with three differences: it subscribes to no
//! gossip topic (it holds no bodies to validate), it is a Kademlia client, and it serves only
//! `Status` requests (anything else is answered `not_found`, no penalty). New tips are learnt
//! by status polling on the sync protocol (every [`LIGHT_STATUS_INTERVAL`]) and from full
//! nodes' reorg announcements: one small request per peer per interval, within every full
//! node's status quota, and no gossip topic whose messages a light client could not validate.

pub mod import;
pub mod source;
pub mod view;

use std::time::Duration;

pub use import::{HeaderImporter, HeaderResult, LightEvent};
pub use source::{FullHeaders, LightHeaders};
pub use view::LightView;

/// How often a light client asks each peer for its status (the full node's default is longer:
/// it also hears of new blocks through gossip).
pub const LIGHT_STATUS_INTERVAL: Duration = Duration::from_secs(2);

/// Headers a light client asks for at once: a full node's most per answer (fewer round trips
/// and commits than a full node's 512, which it pairs with block downloads).
pub const LIGHT_HEADERS_PER_REQUEST: u32 = 2_000;

/// Headers a light client holds in memory ahead of its store (≈ 2 MiB of headers).
pub const LIGHT_HEADERS_AHEAD: u64 = 16_384;

/// Deepest reorg a light client follows.
pub const MAX_LIGHT_REORG: u64 = 1_000;
