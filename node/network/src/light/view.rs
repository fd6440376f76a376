//! [`LightView`]: the header store as the sync machine's [`ChainView`].
//!
//! Reads go to sled (its page cache serves the recent headers a round asks about): a light
//! client keeps no header index in memory, so its memory does not grow with the chain. The
//! sync machine names the height of every block it asks about, which is how the store finds
//! it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use talos_chain::{ChainStatus, Hash256, NetworkSpec, ParentContext};
use talos_storage::HeaderStore;

/// The header store and the network's rules, as the sync machine sees the local chain.
#[derive(Clone)]
pub struct LightView {
    headers: Arc<dyn HeaderStore>,
    spec: NetworkSpec,
}

impl std::fmt::Debug for LightView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LightView").finish_non_exhaustive()
    }
}

impl LightView {
    /// A view of `headers` on `spec`.
    pub fn new(headers: Arc<dyn HeaderStore>, spec: NetworkSpec) -> Self {
        Self { headers, spec }
    }

    /// The store.
    pub fn headers(&self) -> &Arc<dyn HeaderStore> {
        &self.headers
    }
}

impl talos_sync::ChainView for LightView {
    fn tip(&self) -> ChainStatus {
        let genesis = self.headers.genesis_id();
        let tip = self.headers.tip().ok();
        ChainStatus {
            network_id: self.spec.network_id,
            genesis_hash: genesis,
            tip_hash: tip.map_or(genesis, |t| t.id),
            tip_height: tip.map_or(0, |t| t.height),
            cumulative_work: tip.map_or(talos_chain::Work::ZERO, |t| t.cumulative_work),
        }
    }

    fn has_block(&self, id: &Hash256, height: u64) -> bool {
        self.headers.contains(id, height).unwrap_or(false)
    }

    fn context(&self, id: &Hash256, height: u64) -> Option<ParentContext> {
        let entry = self.headers.header(id, height).ok()??;
        let grandparent_timestamp = match height.checked_sub(1) {
            None => None,
            Some(below) => Some(
                self.headers
                    .header(&entry.header.prev_hash, below)
                    .ok()??
                    .header
                    .timestamp_ms,
            ),
        };
        Some(ParentContext {
            id: *id,
            header: entry.header,
            cumulative_work: entry.cumulative_work,
            grandparent_timestamp,
        })
    }

    fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    fn now_ms(&self) -> u64 {
        unix_ms()
    }
}

/// The wall clock in milliseconds since the Unix epoch.
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
