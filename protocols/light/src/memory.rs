//! [`MemoryHeaders`]: an in-memory [`HeaderSource`].

use std::collections::HashMap;
use std::convert::Infallible;

use talos_chain::validate::genesis_work;
use talos_chain::{BlockHeader, Hash256, NetworkSpec};

use crate::headers::{HeaderPlan, HeaderSource, StoredHeader};

/// A header store in memory that applies plans as the node's sled store does: tests, the
/// simulator, tools. Unbounded; a node keeps headers in `talos-storage`'s header store.
#[derive(Clone, Debug)]
pub struct MemoryHeaders {
    headers: HashMap<Hash256, StoredHeader>,
    best: Vec<Hash256>,
}

impl MemoryHeaders {
    /// A store holding `spec`'s genesis.
    pub fn new(spec: &NetworkSpec) -> Self {
        let genesis = spec.genesis().header;
        let entry = StoredHeader {
            header: genesis,
            cumulative_work: genesis_work(spec),
        };
        Self {
            headers: HashMap::from([(genesis.id(), entry)]),
            best: vec![genesis.id()],
        }
    }

    /// Applies a plan from [`crate::plan_headers`] on this store's current chain.
    pub fn apply(&mut self, plan: &HeaderPlan) {
        for entry in &plan.store {
            self.headers.insert(entry.id(), *entry);
        }
        let keep = self.best.len().saturating_sub(plan.disconnect.len());
        self.best.truncate(keep);
        self.best.extend(plan.connect.iter().copied());
    }

    /// Number of headers stored.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// Whether only genesis is stored.
    pub fn is_empty(&self) -> bool {
        self.headers.len() <= 1
    }
}

impl HeaderSource for MemoryHeaders {
    type Error = Infallible;

    fn tip(&self) -> Result<StoredHeader, Infallible> {
        let tip = self.best.last().copied().unwrap_or_default();
        Ok(self.headers.get(&tip).copied().unwrap_or(StoredHeader {
            header: BlockHeader::from_canonical_bytes(&[0; talos_chain::header::HEADER_BYTES]),
            cumulative_work: talos_chain::Work::ZERO,
        }))
    }

    fn header(&self, id: &Hash256, height: u64) -> Result<Option<StoredHeader>, Infallible> {
        Ok(self
            .headers
            .get(id)
            .filter(|h| h.height() == height)
            .copied())
    }

    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>, Infallible> {
        Ok(usize::try_from(height)
            .ok()
            .and_then(|h| self.best.get(h))
            .copied())
    }
}
