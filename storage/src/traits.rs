//! The storage traits every backend implements.

use talos_chain::chain_state::StateRecord;
use talos_chain::state::Node;
use talos_chain::{Block, ChainStatus, Hash256, ItemProof, SignedItem, VerifyingKey};

use crate::error::{Result, StorageError};
use crate::kv::KvBatch;
use crate::types::{
    ChainTip, ChainUpdate, CommitSummary, HeaderEntry, ItemLocation, MAX_BLOCKS_PER_QUERY,
    MAX_HEADERS_PER_QUERY, MAX_LOCATOR_LEN, ReorgPath, StoreStats,
};

/// Blocks, headers, the best-chain indexes and the tip.
///
/// Reads return `Ok(None)` for unknown ids; every value read is checked (checksums, ids) and
/// damaged data yields [`StorageError::Corrupt`], never wrong data. All writes go through
/// [`ChainStore::commit`], which is atomic and durable when it returns.
pub trait ChainStore: Send + Sync {
    /// The genesis block id this store was opened with.
    fn genesis_id(&self) -> Hash256;

    /// The best chain's tip.
    fn tip(&self) -> Result<ChainTip>;

    /// A stored header (best chain or side branch) with its cumulative work.
    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>>;

    /// A stored block (best chain or side branch).
    fn block(&self, id: &Hash256) -> Result<Option<Block>>;

    /// Whether a block is stored.
    fn contains_block(&self, id: &Hash256) -> Result<bool>;

    /// The id of the best-chain block at `height`.
    fn best_id_at(&self, height: u64) -> Result<Option<Hash256>>;

    /// Where a best-chain item is.
    fn item_location(&self, item: &Hash256) -> Result<Option<ItemLocation>>;

    /// The best-chain item that used `nonce` of `author`.
    fn item_by_nonce(&self, author: &VerifyingKey, nonce: u64) -> Result<Option<Hash256>>;

    /// A node of the state tree ([`talos_chain::chain_state`]) of any stored block.
    fn state_node(&self, hash: &Hash256) -> Result<Option<Node>>;

    /// The record a state entry's value hashes to (any stored block's entries).
    fn state_record(&self, value: &Hash256) -> Result<Option<StateRecord>>;

    /// Applies one update atomically; when this returns `Ok` the update is durable.
    fn commit(&self, update: ChainUpdate) -> Result<CommitSummary>;

    /// Entry counts (may scan whole trees: diagnostics and full integrity checks only).
    fn stats(&self) -> Result<StoreStats>;

    /// Deletes the listed blocks (and their headers) that are stored off the best chain, in
    /// one atomic, durable write; ids on the best chain or not stored are skipped. Returns how
    /// many were deleted. At most [`crate::MAX_UPDATE_BLOCKS`] ids per call
    /// ([`crate::UpdateError::TooLarge`]). Used to prune stale side branches: a block left
    /// without its parent is never on the best chain and cannot be built on.
    fn prune_side_blocks(&self, ids: &[Hash256]) -> Result<usize>;

    /// Whether a block is on the best chain.
    fn is_best_chain(&self, id: &Hash256) -> Result<bool> {
        let Some(entry) = self.header(id)? else {
            return Ok(false);
        };
        Ok(self.best_id_at(entry.height())? == Some(*id))
    }

    /// The best-chain header at `height`.
    fn best_header_at(&self, height: u64) -> Result<Option<HeaderEntry>> {
        match self.best_id_at(height)? {
            Some(id) => self
                .header(&id)?
                .ok_or_else(|| missing_from_index("headers", &id))
                .map(Some),
            None => Ok(None),
        }
    }

    /// The best-chain block at `height`.
    fn best_block_at(&self, height: u64) -> Result<Option<Block>> {
        match self.best_id_at(height)? {
            Some(id) => self
                .block(&id)?
                .ok_or_else(|| missing_from_index("blocks", &id))
                .map(Some),
            None => Ok(None),
        }
    }

    /// Best-chain headers from height `from` upwards: at most `max` and at most
    /// [`MAX_HEADERS_PER_QUERY`]; fewer at the tip.
    fn best_headers(&self, from: u64, max: usize) -> Result<Vec<HeaderEntry>> {
        let max = max.min(MAX_HEADERS_PER_QUERY);
        let mut out = Vec::with_capacity(max.min(64));
        for height in (from..=u64::MAX).take(max) {
            match self.best_header_at(height)? {
                Some(entry) => out.push(entry),
                None => break,
            }
        }
        Ok(out)
    }

    /// Best-chain blocks from height `from` upwards: at most `max` (and
    /// [`MAX_BLOCKS_PER_QUERY`]), stopping before the canonical sizes would pass `max_bytes`
    /// (the first block is always returned, so a caller always makes progress).
    fn best_blocks(&self, from: u64, max: usize, max_bytes: usize) -> Result<Vec<Block>> {
        let max = max.min(MAX_BLOCKS_PER_QUERY);
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for height in (from..=u64::MAX).take(max) {
            let Some(block) = self.best_block_at(height)? else {
                break;
            };
            bytes = bytes.saturating_add(block.encoded_len());
            if bytes > max_bytes && !out.is_empty() {
                break;
            }
            out.push(block);
        }
        Ok(out)
    }

    /// A best-chain item and its location.
    fn item(&self, id: &Hash256) -> Result<Option<(SignedItem, ItemLocation)>> {
        let Some(location) = self.item_location(id)? else {
            return Ok(None);
        };
        let block = self
            .block(&location.block)?
            .ok_or_else(|| missing_from_index("blocks", &location.block))?;
        let item = block
            .items
            .get(location.position as usize)
            .filter(|item| item.id() == *id)
            .cloned()
            .ok_or_else(|| {
                StorageError::corrupt(
                    "items",
                    id.to_hex(),
                    format!(
                        "index points at position {} of block {}, which holds another item",
                        location.position, location.block
                    ),
                )
            })?;
        Ok(Some((item, location)))
    }

    /// An SPV proof for a best-chain item.
    fn item_proof(&self, id: &Hash256) -> Result<Option<ItemProof>> {
        let Some(location) = self.item_location(id)? else {
            return Ok(None);
        };
        let block = self
            .block(&location.block)?
            .ok_or_else(|| missing_from_index("blocks", &location.block))?;
        let position = location.position as usize;
        let item = block.items.get(position).filter(|i| i.id() == *id);
        match (item, block.item_proof(position)) {
            (Some(item), Some(proof)) => Ok(Some(ItemProof {
                item: item.clone(),
                header: block.header,
                proof,
            })),
            _ => Err(StorageError::corrupt(
                "items",
                id.to_hex(),
                format!(
                    "index points at position {position} of block {}, which holds another item",
                    location.block
                ),
            )),
        }
    }

    /// A block locator of the best chain: the tip, then ids 1, 2, 4, 8, … below it, ending with
    /// genesis; at most [`MAX_LOCATOR_LEN`] ids.
    fn locator(&self) -> Result<Vec<Hash256>> {
        let tip = self.tip()?;
        let mut out = Vec::new();
        let mut height = tip.height;
        let mut step = 1u64;
        while out.len() + 1 < MAX_LOCATOR_LEN {
            let id = self.best_id_at(height)?.ok_or_else(|| {
                StorageError::corrupt("heights", height.to_string(), "missing below the tip")
            })?;
            out.push(id);
            if height == 0 {
                return Ok(out);
            }
            if out.len() >= 10 {
                step = step.saturating_mul(2);
            }
            height = height.saturating_sub(step);
        }
        out.push(self.genesis_id());
        Ok(out)
    }

    /// The first id of `locator` that is on the best chain, with its header (the point a
    /// syncing peer shares with us).
    fn find_fork_point(&self, locator: &[Hash256]) -> Result<Option<HeaderEntry>> {
        for id in locator.iter().take(MAX_LOCATOR_LEN) {
            if let Some(entry) = self.header(id)?
                && self.best_id_at(entry.height())? == Some(*id)
            {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// The disconnect/connect lists that make the stored block `new_tip` the best tip, for a
    /// [`ChainUpdate`]. Fails with [`StorageError::ReorgTooDeep`] when either list would be
    /// longer than `max_depth`.
    fn reorg_path(&self, new_tip: &Hash256, max_depth: u64) -> Result<ReorgPath> {
        let mut connect = Vec::new();
        let mut entry = self.header(new_tip)?.ok_or(StorageError::NotFound {
            what: "block",
            id: *new_tip,
        })?;
        let mut id = *new_tip;
        while self.best_id_at(entry.height())? != Some(id) {
            if connect.len() as u64 >= max_depth {
                return Err(StorageError::ReorgTooDeep { limit: max_depth });
            }
            connect.push(id);
            id = entry.header.prev_hash;
            entry = self.header(&id)?.ok_or(StorageError::MissingParent {
                block: entry.id(),
                parent: id,
            })?;
        }
        connect.reverse();
        let fork_height = entry.height();
        let tip = self.tip()?;
        let depth = tip.height.saturating_sub(fork_height);
        if depth > max_depth {
            return Err(StorageError::ReorgTooDeep { limit: max_depth });
        }
        let mut disconnect = Vec::new();
        for height in (fork_height + 1..=tip.height).rev() {
            disconnect.push(self.best_id_at(height)?.ok_or_else(|| {
                StorageError::corrupt("heights", height.to_string(), "missing below the tip")
            })?);
        }
        Ok(ReorgPath {
            fork_point: id,
            disconnect,
            connect,
        })
    }

    /// The status this node announces to peers.
    fn chain_status(&self, network_id: u32) -> Result<ChainStatus> {
        let tip = self.tip()?;
        Ok(ChainStatus {
            network_id,
            genesis_hash: self.genesis_id(),
            tip_hash: tip.id,
            tip_height: tip.height,
            cumulative_work: tip.cumulative_work,
        })
    }
}

/// A namespaced key-value space for other protocols (ratchet sessions, mailbox, …).
///
/// Namespaces are 1–[`crate::MAX_KV_NAMESPACE`] bytes of `[a-z0-9_.-]`; keys and values are
/// bounded by [`crate::MAX_KV_KEY`] and [`crate::MAX_KV_VALUE`]. Writes are atomic and durable
/// when they return.
pub trait KvStore: Send + Sync {
    /// The value under `key` in `namespace`.
    fn kv_get(&self, namespace: &str, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Applies every put and delete of `batch` atomically.
    fn kv_write(&self, batch: KvBatch) -> Result<()>;

    /// Entries of `namespace` in key order, after `start_after` (from the first when `None`),
    /// at most `limit` and at most [`crate::MAX_KV_SCAN`].
    fn kv_scan(
        &self,
        namespace: &str,
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Stores `value` under `key` in `namespace`.
    fn kv_put(&self, namespace: &str, key: &[u8], value: &[u8]) -> Result<()> {
        let mut batch = KvBatch::new();
        batch.put(namespace, key, value)?;
        self.kv_write(batch)
    }

    /// Removes `key` from `namespace` (no error when absent).
    fn kv_delete(&self, namespace: &str, key: &[u8]) -> Result<()> {
        let mut batch = KvBatch::new();
        batch.delete(namespace, key)?;
        self.kv_write(batch)
    }
}

/// Everything a node needs from storage.
pub trait Store: ChainStore + KvStore {}

impl<T: ChainStore + KvStore + ?Sized> Store for T {}

fn missing_from_index(what: &'static str, id: &Hash256) -> StorageError {
    StorageError::corrupt(
        what,
        id.to_hex(),
        "referenced by a best-chain index but not stored",
    )
}
