//! Checks a [`ChainUpdate`] against the stored chain and turns it into the exact set of index
//! writes. Both backends use this, so they accept and reject exactly the same updates; each
//! then applies the [`WriteSet`] atomically in its own way.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use talos_chain::{Block, Hash256};

use crate::codec::{NonceKey, nonce_key};
use crate::error::{Result, StorageError, UpdateError};
use crate::types::{ChainTip, ChainUpdate, HeaderEntry, ItemLocation, MAX_UPDATE_BLOCKS};

/// The reads the planner needs, answered from the state before the update.
pub(crate) trait PlanReader {
    /// The current tip.
    fn tip(&self) -> Result<ChainTip>;
    /// A stored header.
    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>>;
    /// A stored block.
    fn block(&self, id: &Hash256) -> Result<Option<Cow<'_, Block>>>;
    /// Whether a block is stored.
    fn contains_block(&self, id: &Hash256) -> Result<bool>;
    /// An item index entry.
    fn item_location(&self, id: &Hash256) -> Result<Option<ItemLocation>>;
    /// A nonce index entry.
    fn nonce_item(&self, key: &NonceKey) -> Result<Option<Hash256>>;
}

/// Everything one commit writes. Index maps hold the final value per key: `None` deletes.
#[derive(Debug)]
pub(crate) struct WriteSet<'u> {
    /// New blocks with their header entries, parents first.
    pub blocks: Vec<(&'u Block, HeaderEntry)>,
    /// Height index changes.
    pub heights: BTreeMap<u64, Option<Hash256>>,
    /// Item index changes.
    pub items: HashMap<Hash256, Option<ItemLocation>>,
    /// Nonce index changes.
    pub nonces: HashMap<NonceKey, Option<Hash256>>,
    /// The new tip.
    pub tip: ChainTip,
}

/// Validates `update` against `reader` and computes its writes. Writes nothing.
pub(crate) fn plan<'u>(reader: &impl PlanReader, update: &'u ChainUpdate) -> Result<WriteSet<'u>> {
    if update.len() > MAX_UPDATE_BLOCKS {
        return Err(UpdateError::TooLarge {
            limit: MAX_UPDATE_BLOCKS,
            actual: update.len(),
        }
        .into());
    }

    // 1. New blocks: parent known (stored or earlier here), height and work consistent.
    let mut new: HashMap<Hash256, (&'u Block, HeaderEntry)> = HashMap::new();
    let mut blocks = Vec::new();
    for nb in &update.store {
        let id = nb.block.id();
        if new.contains_key(&id) || reader.contains_block(&id)? {
            continue;
        }
        let parent_id = nb.block.header.prev_hash;
        let parent = match new.get(&parent_id) {
            Some((_, entry)) => *entry,
            None => reader
                .header(&parent_id)?
                .ok_or(StorageError::MissingParent {
                    block: id,
                    parent: parent_id,
                })?,
        };
        if parent.height().checked_add(1) != Some(nb.block.header.height) {
            return Err(UpdateError::BadHeight {
                block: id,
                height: nb.block.header.height,
                parent_height: parent.height(),
            }
            .into());
        }
        if nb.cumulative_work <= parent.cumulative_work {
            return Err(UpdateError::WorkNotIncreasing { block: id }.into());
        }
        let entry = HeaderEntry {
            header: nb.block.header,
            cumulative_work: nb.cumulative_work,
        };
        new.insert(id, (&*nb.block, entry));
        blocks.push((&*nb.block, entry));
    }

    let header_of = |id: &Hash256| -> Result<HeaderEntry> {
        if let Some((_, entry)) = new.get(id) {
            return Ok(*entry);
        }
        reader.header(id)?.ok_or(StorageError::NotFound {
            what: "block",
            id: *id,
        })
    };
    let block_of = |id: &Hash256| -> Result<Cow<'_, Block>> {
        if let Some((block, _)) = new.get(id) {
            return Ok(Cow::Borrowed(*block));
        }
        reader.block(id)?.ok_or(StorageError::NotFound {
            what: "block",
            id: *id,
        })
    };

    let old_tip = reader.tip()?;
    let mut heights = BTreeMap::new();
    let mut items: HashMap<Hash256, Option<ItemLocation>> = HashMap::new();
    let mut nonces: HashMap<NonceKey, Option<Hash256>> = HashMap::new();
    let (mut cur, mut cur_height) = (old_tip.id, old_tip.height);

    // 2. Disconnect: the tip and its ancestors, in order.
    for (index, id) in update.disconnect.iter().enumerate() {
        if *id != cur {
            return Err(UpdateError::NotBestChain {
                index,
                expected: cur,
                got: *id,
            }
            .into());
        }
        if cur_height == 0 {
            return Err(UpdateError::DisconnectGenesis.into());
        }
        let block = block_of(id)?;
        heights.insert(cur_height, None);
        for item in &block.items {
            items.insert(item.id(), None);
            nonces.insert(nonce_key(item.author(), item.nonce()), None);
        }
        cur = block.header.prev_hash;
        cur_height -= 1;
    }

    // 3. Connect: each block extends the chain built so far; items and nonces stay unique.
    let mut cur_work = None;
    for (index, id) in update.connect.iter().enumerate() {
        let entry = header_of(id)?;
        if entry.header.prev_hash != cur || Some(entry.height()) != cur_height.checked_add(1) {
            return Err(UpdateError::NotLinked {
                index,
                block: *id,
                expected_parent: cur,
            }
            .into());
        }
        let height = entry.height();
        let block = block_of(id)?;
        for (position, item) in block.items.iter().enumerate() {
            let item_id = item.id();
            let existing = match items.get(&item_id) {
                Some(overlay) => *overlay,
                None => reader.item_location(&item_id)?,
            };
            if let Some(existing) = existing {
                return Err(UpdateError::DuplicateItem {
                    item: item_id,
                    block: *id,
                    existing: existing.block,
                }
                .into());
            }
            let nkey = nonce_key(item.author(), item.nonce());
            let existing = match nonces.get(&nkey) {
                Some(overlay) => *overlay,
                None => reader.nonce_item(&nkey)?,
            };
            if let Some(existing) = existing {
                return Err(UpdateError::DuplicateNonce {
                    item: item_id,
                    block: *id,
                    nonce: item.nonce(),
                    existing,
                }
                .into());
            }
            let position = u32::try_from(position).map_err(|_| UpdateError::TooLarge {
                limit: u32::MAX as usize,
                actual: position,
            })?;
            items.insert(
                item_id,
                Some(ItemLocation {
                    block: *id,
                    height,
                    position,
                }),
            );
            nonces.insert(nkey, Some(item_id));
        }
        heights.insert(height, Some(*id));
        cur = *id;
        cur_height = height;
        cur_work = Some(entry.cumulative_work);
    }

    // 4. The declared tip must be the resulting one.
    let declared = update.new_tip;
    if declared.id != cur || declared.height != cur_height {
        return Err(UpdateError::TipMismatch {
            declared: declared.id,
            declared_height: declared.height,
            actual: cur,
            actual_height: cur_height,
        }
        .into());
    }
    let work = match cur_work {
        Some(work) => work,
        None if cur == old_tip.id => old_tip.cumulative_work,
        None => header_of(&cur)?.cumulative_work,
    };
    if work != declared.cumulative_work {
        return Err(UpdateError::TipWorkMismatch { tip: cur }.into());
    }

    Ok(WriteSet {
        blocks,
        heights,
        items,
        nonces,
        tip: declared,
    })
}
