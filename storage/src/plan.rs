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
    /// State tree nodes of the new blocks.
    pub state_nodes: Vec<&'u talos_chain::state::Node>,
    /// State records of the new blocks.
    pub state_records: Vec<&'u talos_chain::chain_state::StateRecord>,
    /// The new tip.
    pub tip: ChainTip,
}

/// Refuses a prune of more ids than one atomic write may touch.
pub(crate) fn check_prune_len(ids: &[Hash256]) -> Result<()> {
    if ids.len() > MAX_UPDATE_BLOCKS {
        return Err(UpdateError::TooLarge {
            limit: MAX_UPDATE_BLOCKS,
            actual: ids.len(),
        }
        .into());
    }
    Ok(())
}

/// Validates `update` against `reader` and computes its writes. Writes nothing.
pub(crate) fn plan<'u, R: PlanReader>(reader: &R, update: &'u ChainUpdate) -> Result<WriteSet<'u>> {
    if update.len() > MAX_UPDATE_BLOCKS {
        return Err(UpdateError::TooLarge {
            limit: MAX_UPDATE_BLOCKS,
            actual: update.len(),
        }
        .into());
    }
    let old_tip = reader.tip()?;
    let mut planner = Planner {
        reader,
        new: HashMap::new(),
        blocks: Vec::new(),
        heights: BTreeMap::new(),
        items: HashMap::new(),
        nonces: HashMap::new(),
        state_nodes: Vec::new(),
        state_records: Vec::new(),
        cur: old_tip.id,
        cur_height: old_tip.height,
        cur_work: None,
    };
    planner.store_new(update)?;
    planner.disconnect(update)?;
    planner.connect(update)?;
    let tip = planner.check_tip(update, old_tip)?;
    Ok(WriteSet {
        blocks: planner.blocks,
        heights: planner.heights,
        items: planner.items,
        nonces: planner.nonces,
        state_nodes: planner.state_nodes,
        state_records: planner.state_records,
        tip,
    })
}

/// The state of the chain while an update is planned: the new blocks, the index overlays and
/// the best chain's end as the disconnects and connects move it.
struct Planner<'r, 'u, R> {
    reader: &'r R,
    new: HashMap<Hash256, (&'u Block, HeaderEntry)>,
    blocks: Vec<(&'u Block, HeaderEntry)>,
    heights: BTreeMap<u64, Option<Hash256>>,
    items: HashMap<Hash256, Option<ItemLocation>>,
    nonces: HashMap<NonceKey, Option<Hash256>>,
    state_nodes: Vec<&'u talos_chain::state::Node>,
    state_records: Vec<&'u talos_chain::chain_state::StateRecord>,
    cur: Hash256,
    cur_height: u64,
    cur_work: Option<talos_chain::Work>,
}

impl<'u, R: PlanReader> Planner<'_, 'u, R> {
    fn header_of(&self, id: &Hash256) -> Result<HeaderEntry> {
        if let Some((_, entry)) = self.new.get(id) {
            return Ok(*entry);
        }
        self.reader.header(id)?.ok_or(StorageError::NotFound {
            what: "block",
            id: *id,
        })
    }

    /// 1. New blocks: parent known (stored or earlier here), height and work consistent.
    fn store_new(&mut self, update: &'u ChainUpdate) -> Result<()> {
        for nb in &update.store {
            let id = nb.block.id();
            if self.new.contains_key(&id) || self.reader.contains_block(&id)? {
                continue;
            }
            let parent_id = nb.block.header.prev_hash;
            let parent = match self.new.get(&parent_id) {
                Some((_, entry)) => *entry,
                None => self
                    .reader
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
            self.new.insert(id, (&*nb.block, entry));
            self.blocks.push((&*nb.block, entry));
            self.state_nodes.extend(&nb.state_nodes);
            self.state_records.extend(&nb.state_records);
        }
        Ok(())
    }

    /// 2. Disconnect: the tip and its ancestors, in order.
    fn disconnect(&mut self, update: &ChainUpdate) -> Result<()> {
        for (index, id) in update.disconnect.iter().enumerate() {
            if *id != self.cur {
                return Err(UpdateError::NotBestChain {
                    index,
                    expected: self.cur,
                    got: *id,
                }
                .into());
            }
            if self.cur_height == 0 {
                return Err(UpdateError::DisconnectGenesis.into());
            }
            let block = block_of(self.reader, &self.new, id)?;
            self.heights.insert(self.cur_height, None);
            for item in &block.items {
                self.items.insert(item.id(), None);
                self.nonces
                    .insert(nonce_key(item.author(), item.nonce()), None);
            }
            self.cur = block.header.prev_hash;
            self.cur_height -= 1;
        }
        Ok(())
    }

    /// 3. Connect: each block extends the chain built so far; items and nonces stay unique.
    fn connect(&mut self, update: &ChainUpdate) -> Result<()> {
        for (index, id) in update.connect.iter().enumerate() {
            let entry = self.header_of(id)?;
            if entry.header.prev_hash != self.cur
                || Some(entry.height()) != self.cur_height.checked_add(1)
            {
                return Err(UpdateError::NotLinked {
                    index,
                    block: *id,
                    expected_parent: self.cur,
                }
                .into());
            }
            let height = entry.height();
            let block = block_of(self.reader, &self.new, id)?;
            for (position, item) in block.items.iter().enumerate() {
                index_item(
                    self.reader,
                    &mut self.items,
                    &mut self.nonces,
                    (*id, height, position),
                    item,
                )?;
            }
            self.heights.insert(height, Some(*id));
            self.cur = *id;
            self.cur_height = height;
            self.cur_work = Some(entry.cumulative_work);
        }
        Ok(())
    }

    /// 4. The declared tip must be the resulting one.
    fn check_tip(&self, update: &ChainUpdate, old_tip: ChainTip) -> Result<ChainTip> {
        check_declared_tip(
            update.new_tip,
            (self.cur, self.cur_height, self.cur_work),
            old_tip,
            |id| Ok(self.header_of(id)?.cumulative_work),
        )
    }
}

/// A block of the update, or a stored one.
fn block_of<'a, R: PlanReader>(
    reader: &'a R,
    new: &HashMap<Hash256, (&'a Block, HeaderEntry)>,
    id: &Hash256,
) -> Result<Cow<'a, Block>> {
    if let Some((block, _)) = new.get(id) {
        return Ok(Cow::Borrowed(*block));
    }
    reader.block(id)?.ok_or(StorageError::NotFound {
        what: "block",
        id: *id,
    })
}

/// Records an item of a connected block at `(block, height, position)`, refusing one whose id
/// or (author, nonce) the chain already has.
fn index_item<R: PlanReader>(
    reader: &R,
    items: &mut HashMap<Hash256, Option<ItemLocation>>,
    nonces: &mut HashMap<NonceKey, Option<Hash256>>,
    (block, height, position): (Hash256, u64, usize),
    item: &talos_chain::SignedItem,
) -> Result<()> {
    let item_id = item.id();
    let existing = match items.get(&item_id) {
        Some(overlay) => *overlay,
        None => reader.item_location(&item_id)?,
    };
    if let Some(existing) = existing {
        return Err(UpdateError::DuplicateItem {
            item: item_id,
            block,
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
            block,
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
            block,
            height,
            position,
        }),
    );
    nonces.insert(nkey, Some(item_id));
    Ok(())
}

/// Checks that the tip an update declares is where its disconnects and connects end the best
/// chain: `end` (id, height, and the work of the last connected entry if any), `old_tip`
/// before the update, `stored_work` reading the cumulative work of a stored entry. Shared by
/// the chain store's and the header store's planners.
pub(crate) fn check_declared_tip(
    declared: ChainTip,
    end: (Hash256, u64, Option<talos_chain::Work>),
    old_tip: ChainTip,
    stored_work: impl FnOnce(&Hash256) -> Result<talos_chain::Work>,
) -> Result<ChainTip> {
    let (cur, cur_height, cur_work) = end;
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
        None => stored_work(&cur)?,
    };
    if work != declared.cumulative_work {
        return Err(UpdateError::TipWorkMismatch { tip: cur }.into());
    }
    Ok(declared)
}
