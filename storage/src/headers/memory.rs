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

/// The sled store's two spaces: the best chain by height, side headers by id.
#[derive(Debug)]
struct State {
    best: BTreeMap<u64, HeaderEntry>,
    side: HashMap<Hash256, HeaderEntry>,
    tip: ChainTip,
}

impl HeaderReader for State {
    fn tip(&self) -> Result<ChainTip> {
        Ok(self.tip)
    }

    fn best_at(&self, height: u64) -> Result<Option<HeaderEntry>> {
        Ok(self.best.get(&height).copied())
    }

    fn header(&self, id: &Hash256, height: u64) -> Result<Option<HeaderEntry>> {
        let best = self.best.get(&height).filter(|e| e.id() == *id);
        let side = || self.side.get(id).filter(|e| e.height() == height);
        Ok(best.or_else(side).copied())
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
        Ok(Self {
            genesis: entry.id(),
            state: RwLock::new(State {
                best: [(0, entry)].into_iter().collect(),
                side: HashMap::new(),
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

    fn best_header_at(&self, height: u64) -> Result<Option<HeaderEntry>> {
        self.read()?.best_at(height)
    }

    fn header(&self, id: &Hash256, height: u64) -> Result<Option<HeaderEntry>> {
        HeaderReader::header(&*self.read()?, id, height)
    }

    fn commit(&self, update: HeaderUpdate) -> Result<ChainTip> {
        let mut state = self.state.write().map_err(|_| StorageError::Poisoned)?;
        let ws = plan_headers(&*state, &update)?;
        // Nothing below can fail: the update is applied whole.
        for (height, entry) in ws.best {
            match entry {
                Some(entry) => state.best.insert(height, entry),
                None => state.best.remove(&height),
            };
        }
        for entry in ws.side_puts {
            state.side.insert(entry.id(), entry);
        }
        for id in ws.side_deletes {
            state.side.remove(&id);
        }
        state.tip = ws.tip;
        Ok(ws.tip)
    }

    fn stats(&self) -> Result<HeaderStoreStats> {
        let state = self.read()?;
        Ok(HeaderStoreStats {
            headers: (state.best.len() + state.side.len()) as u64,
            heights: state.best.len() as u64,
        })
    }
}
