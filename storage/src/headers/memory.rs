//! The in-memory header store: the sled header store's semantics (atomic commits under one
//! lock), nothing persisted. For tests and the simulator.

use std::collections::{BTreeMap, HashMap};
use std::sync::{RwLock, RwLockReadGuard};

use talos_chain::{BlockHeader, Hash256};

use super::entry::genesis_entry;
use super::plan::{HeaderReader, plan_headers};
use super::store::HeaderStore;
use super::update::{HeaderStoreStats, HeaderUpdate};
use crate::error::{Result, StorageError};
use crate::types::{ChainTip, HeaderEntry};

#[derive(Debug)]
struct State {
    headers: HashMap<Hash256, HeaderEntry>,
    heights: BTreeMap<u64, Hash256>,
    tip: ChainTip,
}

impl HeaderReader for State {
    fn tip(&self) -> Result<ChainTip> {
        Ok(self.tip)
    }

    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        Ok(self.headers.get(id).copied())
    }

    fn contains(&self, id: &Hash256) -> Result<bool> {
        Ok(self.headers.contains_key(id))
    }
}

/// A header store held in memory. Cheap to create; [`Send`] + [`Sync`].
#[derive(Debug)]
pub struct MemoryHeaderStore {
    genesis: Hash256,
    state: RwLock<State>,
}

impl MemoryHeaderStore {
    /// A store holding only `genesis` ([`StorageError::InvalidGenesis`] for a header that
    /// cannot start a chain: height not 0, a parent, or an invalid target).
    pub fn new(genesis: &BlockHeader) -> Result<Self> {
        let entry = genesis_entry(genesis)?;
        let id = entry.id();
        Ok(Self {
            genesis: id,
            state: RwLock::new(State {
                headers: [(id, entry)].into_iter().collect(),
                heights: [(0, id)].into_iter().collect(),
                tip: entry.as_tip(),
            }),
        })
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, State>> {
        self.state.read().map_err(|_| StorageError::Poisoned)
    }
}

impl HeaderStore for MemoryHeaderStore {
    fn genesis_id(&self) -> Hash256 {
        self.genesis
    }

    fn tip(&self) -> Result<ChainTip> {
        Ok(self.read()?.tip)
    }

    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        Ok(self.read()?.headers.get(id).copied())
    }

    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>> {
        Ok(self.read()?.heights.get(&height).copied())
    }

    fn contains(&self, id: &Hash256) -> Result<bool> {
        Ok(self.read()?.headers.contains_key(id))
    }

    fn commit(&self, update: HeaderUpdate) -> Result<ChainTip> {
        let mut state = self.state.write().map_err(|_| StorageError::Poisoned)?;
        let ws = plan_headers(&*state, &update)?;
        // Nothing below can fail: the update is applied whole.
        for entry in ws.headers {
            state.headers.insert(entry.id(), entry);
        }
        for (height, id) in ws.heights {
            match id {
                Some(id) => state.heights.insert(height, id),
                None => state.heights.remove(&height),
            };
        }
        state.tip = ws.tip;
        Ok(ws.tip)
    }

    fn stats(&self) -> Result<HeaderStoreStats> {
        let state = self.read()?;
        Ok(HeaderStoreStats {
            headers: state.headers.len() as u64,
            heights: state.heights.len() as u64,
        })
    }
}
