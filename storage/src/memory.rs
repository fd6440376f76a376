//! The in-memory backend: same semantics as the sled backend (atomic commits under one lock),
//! nothing persisted. For tests and the simulator.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use talos_chain::chain_state::StateRecord;
use talos_chain::state::Node;
use talos_chain::{Block, Hash256, VerifyingKey};

use crate::codec::{NonceKey, nonce_key};
use crate::error::{Result, StorageError};
use crate::genesis::check_genesis;
use crate::kv::{KvBatch, KvOp, MAX_KV_SCAN, namespace_prefix};
use crate::plan::{PlanReader, plan};
use crate::traits::{ChainStore, KvStore};
use crate::types::{ChainTip, ChainUpdate, CommitSummary, HeaderEntry, ItemLocation, StoreStats};

#[derive(Debug, Default)]
struct State {
    blocks: HashMap<Hash256, Block>,
    headers: HashMap<Hash256, HeaderEntry>,
    heights: BTreeMap<u64, Hash256>,
    items: HashMap<Hash256, ItemLocation>,
    nonces: HashMap<NonceKey, Hash256>,
    state_nodes: HashMap<Hash256, Node>,
    state_records: HashMap<Hash256, StateRecord>,
    kv: BTreeMap<Vec<u8>, Vec<u8>>,
    tip: Option<ChainTip>,
}

impl PlanReader for State {
    fn tip(&self) -> Result<ChainTip> {
        self.tip
            .ok_or_else(|| StorageError::corrupt("meta", "tip", "no tip recorded"))
    }

    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        Ok(self.headers.get(id).copied())
    }

    fn block(&self, id: &Hash256) -> Result<Option<Cow<'_, Block>>> {
        Ok(self.blocks.get(id).map(Cow::Borrowed))
    }

    fn contains_block(&self, id: &Hash256) -> Result<bool> {
        Ok(self.blocks.contains_key(id))
    }

    fn item_location(&self, id: &Hash256) -> Result<Option<ItemLocation>> {
        Ok(self.items.get(id).copied())
    }

    fn nonce_item(&self, key: &NonceKey) -> Result<Option<Hash256>> {
        Ok(self.nonces.get(key).copied())
    }
}

/// A store held in memory. Cheap to create; [`Send`] + [`Sync`].
#[derive(Debug)]
pub struct MemoryStore {
    genesis: Hash256,
    state: RwLock<State>,
}

impl MemoryStore {
    /// A store holding only `genesis`.
    pub fn new(genesis: &Block) -> Result<Self> {
        check_genesis(genesis)?;
        let id = genesis.id();
        let entry = HeaderEntry {
            header: genesis.header,
            cumulative_work: crate::genesis::genesis_work(genesis),
        };
        let mut state = State::default();
        for (position, item) in genesis.items.iter().enumerate() {
            state.items.insert(
                item.id(),
                ItemLocation {
                    block: id,
                    height: 0,
                    position: u32::try_from(position).unwrap_or(u32::MAX),
                },
            );
            state
                .nonces
                .insert(nonce_key(item.author(), item.nonce()), item.id());
        }
        state.blocks.insert(id, genesis.clone());
        state.headers.insert(id, entry);
        state.heights.insert(0, id);
        state.tip = Some(entry.as_tip());
        Ok(Self {
            genesis: id,
            state: RwLock::new(state),
        })
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, State>> {
        self.state.read().map_err(|_| StorageError::Poisoned)
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, State>> {
        self.state.write().map_err(|_| StorageError::Poisoned)
    }
}

impl ChainStore for MemoryStore {
    fn genesis_id(&self) -> Hash256 {
        self.genesis
    }

    fn tip(&self) -> Result<ChainTip> {
        PlanReader::tip(&*self.read()?)
    }

    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>> {
        Ok(self.read()?.headers.get(id).copied())
    }

    fn block(&self, id: &Hash256) -> Result<Option<Block>> {
        Ok(self.read()?.blocks.get(id).cloned())
    }

    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>> {
        Ok(self.read()?.state_nodes.get(hash).copied())
    }

    fn state_record(&self, value: &Hash256) -> Result<Option<StateRecord>> {
        Ok(self.read()?.state_records.get(value).copied())
    }

    fn contains_block(&self, id: &Hash256) -> Result<bool> {
        Ok(self.read()?.blocks.contains_key(id))
    }

    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>> {
        Ok(self.read()?.heights.get(&height).copied())
    }

    fn item_location(&self, item: &Hash256) -> Result<Option<ItemLocation>> {
        Ok(self.read()?.items.get(item).copied())
    }

    fn item_by_nonce(&self, author: &VerifyingKey, nonce: u64) -> Result<Option<Hash256>> {
        Ok(self.read()?.nonces.get(&nonce_key(author, nonce)).copied())
    }

    fn commit(&self, update: ChainUpdate) -> Result<CommitSummary> {
        let mut state = self.write()?;
        let ws = plan(&*state, &update)?;
        let summary = CommitSummary {
            tip: ws.tip,
            blocks_written: ws.blocks.len(),
            disconnected: update.disconnect.len(),
            connected: update.connect.len(),
        };
        // Nothing below can fail: the update is applied whole.
        for (block, entry) in ws.blocks {
            let id = entry.id();
            state.headers.insert(id, entry);
            state.blocks.insert(id, block.clone());
        }
        for node in ws.state_nodes {
            state.state_nodes.insert(node.hash(), *node);
        }
        for record in ws.state_records {
            state.state_records.insert(record.value(), *record);
        }
        for (height, id) in ws.heights {
            match id {
                Some(id) => state.heights.insert(height, id),
                None => state.heights.remove(&height),
            };
        }
        for (item, loc) in ws.items {
            match loc {
                Some(loc) => state.items.insert(item, loc),
                None => state.items.remove(&item),
            };
        }
        for (key, item) in ws.nonces {
            match item {
                Some(item) => state.nonces.insert(key, item),
                None => state.nonces.remove(&key),
            };
        }
        state.tip = Some(ws.tip);
        Ok(summary)
    }

    fn prune_side_blocks(&self, ids: &[Hash256]) -> Result<usize> {
        crate::plan::check_prune_len(ids)?;
        let mut state = self.write()?;
        let mut pruned = 0;
        for id in ids {
            let Some(entry) = state.headers.get(id).copied() else {
                continue;
            };
            if state.heights.get(&entry.height()) == Some(id) {
                continue;
            }
            state.headers.remove(id);
            state.blocks.remove(id);
            pruned += 1;
        }
        Ok(pruned)
    }

    fn stats(&self) -> Result<StoreStats> {
        let s = self.read()?;
        let n = |len: usize| len as u64;
        Ok(StoreStats {
            blocks: n(s.blocks.len()),
            headers: n(s.headers.len()),
            heights: n(s.heights.len()),
            items: n(s.items.len()),
            nonces: n(s.nonces.len()),
            kv_entries: n(s.kv.len()),
        })
    }
}

impl KvStore for MemoryStore {
    fn kv_get(&self, namespace: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let key = crate::kv::full_key(namespace, key)?;
        Ok(self.read()?.kv.get(&key).cloned())
    }

    fn kv_write(&self, batch: KvBatch) -> Result<()> {
        let mut state = self.write()?;
        for op in batch.ops() {
            match op {
                KvOp::Put { key, value } => state.kv.insert(key.clone(), value.clone()),
                KvOp::Delete { key } => state.kv.remove(key),
            };
        }
        Ok(())
    }

    fn kv_scan(
        &self,
        namespace: &str,
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let prefix = namespace_prefix(namespace)?;
        let start = crate::kv::scan_start(&prefix, start_after);
        let state = self.read()?;
        Ok(state
            .kv
            .range(start)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .take(limit.min(MAX_KV_SCAN))
            .map(|(k, v)| (k[prefix.len()..].to_vec(), v.clone()))
            .collect())
    }
}
