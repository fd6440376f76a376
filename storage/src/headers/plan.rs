//! Checks a [`HeaderUpdate`] against the stored headers and turns it into the exact set of
//! writes. Both header backends use this, so they accept and reject exactly the same updates.
//!
//! The rules are those of [`crate::ChainUpdate`]'s planner (`crate::plan`), minus everything
//! about bodies and items, plus one: a new header's cumulative work must be exactly its
//! parent's plus its own target's work (a header store recomputes those sums in its integrity
//! walk, so it cannot take a caller's word for them).

use std::collections::{BTreeMap, HashMap, HashSet};

use talos_chain::{Hash256, Work};

use super::entry::adds_own_work;
use super::update::HeaderUpdate;
use super::update::MAX_HEADER_UPDATE;
use crate::error::{Result, StorageError, UpdateError};
use crate::plan::check_declared_tip;
use crate::types::{ChainTip, HeaderEntry};

/// The reads the planner needs, answered from the state before the update.
pub(crate) trait HeaderReader {
    /// The current tip.
    fn tip(&self) -> Result<ChainTip>;
    /// The best-chain header at `height`.
    fn best_at(&self, height: u64) -> Result<Option<HeaderEntry>>;
    /// The stored header `id` of height `height`: on the best chain or off it.
    fn header(&self, id: &Hash256, height: u64) -> Result<Option<HeaderEntry>>;
}

/// Everything one commit writes.
#[derive(Debug)]
pub(crate) struct HeaderWriteSet {
    /// The final best-chain header per changed height: `None` deletes.
    pub best: BTreeMap<u64, Option<HeaderEntry>>,
    /// Headers that end up off the best chain and are to be kept as side headers (new side
    /// headers, and best-chain headers a reorg disconnects).
    pub side_puts: Vec<HeaderEntry>,
    /// Side headers that joined the best chain (now stored by height instead).
    pub side_deletes: Vec<Hash256>,
    /// The new tip.
    pub tip: ChainTip,
}

/// Validates `update` against `reader` and computes its writes. Writes nothing.
pub(crate) fn plan_headers<R: HeaderReader>(
    reader: &R,
    update: &HeaderUpdate,
) -> Result<HeaderWriteSet> {
    if update.len() > MAX_HEADER_UPDATE {
        return Err(UpdateError::TooLarge {
            limit: MAX_HEADER_UPDATE,
            actual: update.len(),
        }
        .into());
    }
    let old_tip = reader.tip()?;
    let mut planner = Planner {
        reader,
        new: HashMap::new(),
        new_order: Vec::new(),
        disconnected: Vec::new(),
        from_side: Vec::new(),
        best: BTreeMap::new(),
        cur: old_tip.id,
        cur_height: old_tip.height,
        cur_work: None,
    };
    planner.store_new(update)?;
    planner.disconnect(update)?;
    planner.connect(update)?;
    let tip = planner.check_tip(update, old_tip)?;
    Ok(planner.into_write_set(tip))
}

/// The chain while an update is planned: the new headers, the best-chain overlay and the best
/// chain's end as the disconnects and connects move it.
struct Planner<'r, R> {
    reader: &'r R,
    new: HashMap<Hash256, HeaderEntry>,
    /// The new headers' ids, parents first.
    new_order: Vec<Hash256>,
    /// Stored best-chain headers taken off the best chain.
    disconnected: Vec<HeaderEntry>,
    /// Stored side headers put on the best chain.
    from_side: Vec<Hash256>,
    best: BTreeMap<u64, Option<HeaderEntry>>,
    cur: Hash256,
    cur_height: u64,
    cur_work: Option<Work>,
}

impl<R: HeaderReader> Planner<'_, R> {
    /// Header `id`: new in this update (whatever its height), or stored at `height`.
    fn header_of(&self, id: &Hash256, height: u64) -> Result<HeaderEntry> {
        let found = match self.new.get(id) {
            Some(entry) => Some(*entry),
            None => self.reader.header(id, height)?,
        };
        found.ok_or(StorageError::NotFound {
            what: "header",
            id: *id,
        })
    }

    /// 1. New headers: parent known (stored one height down, or earlier here), height and
    ///    work consistent. A stored parent is looked up at the height below the header's own
    ///    (headers are stored by height), so a header claiming a wrong height finds no parent.
    fn store_new(&mut self, update: &HeaderUpdate) -> Result<()> {
        for entry in &update.store {
            let id = entry.id();
            if self.new.contains_key(&id) || self.reader.header(&id, entry.height())?.is_some() {
                continue;
            }
            let parent_id = entry.header.prev_hash;
            let parent = match self.new.get(&parent_id) {
                Some(parent) => Some(*parent),
                None => match entry.height().checked_sub(1) {
                    Some(height) => self.reader.header(&parent_id, height)?,
                    None => None,
                },
            };
            let parent = parent.ok_or(StorageError::MissingParent {
                block: id,
                parent: parent_id,
            })?;
            if parent.height().checked_add(1) != Some(entry.height()) {
                return Err(UpdateError::BadHeight {
                    block: id,
                    height: entry.height(),
                    parent_height: parent.height(),
                }
                .into());
            }
            if !adds_own_work(entry, parent.cumulative_work) {
                return Err(UpdateError::WorkNotIncreasing { block: id }.into());
            }
            self.new.insert(id, *entry);
            self.new_order.push(id);
        }
        Ok(())
    }

    /// 2. Disconnect: the tip and its ancestors, in order.
    fn disconnect(&mut self, update: &HeaderUpdate) -> Result<()> {
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
            let entry = self.header_of(id, self.cur_height)?;
            self.disconnected.push(entry);
            self.best.insert(self.cur_height, None);
            self.cur = entry.header.prev_hash;
            self.cur_height -= 1;
        }
        Ok(())
    }

    /// 3. Connect: each header extends the chain built so far.
    fn connect(&mut self, update: &HeaderUpdate) -> Result<()> {
        for (index, id) in update.connect.iter().enumerate() {
            let height = self.cur_height.saturating_add(1);
            let entry = self.header_of(id, height)?;
            if entry.header.prev_hash != self.cur || entry.height() != height {
                return Err(UpdateError::NotLinked {
                    index,
                    block: *id,
                    expected_parent: self.cur,
                }
                .into());
            }
            let was_best = self.reader.best_at(height)?.is_some_and(|e| e.id() == *id);
            if !self.new.contains_key(id) && !was_best {
                self.from_side.push(*id);
            }
            self.best.insert(height, Some(entry));
            self.cur = *id;
            self.cur_height = height;
            self.cur_work = Some(entry.cumulative_work);
        }
        Ok(())
    }

    /// 4. The declared tip must be the resulting one.
    fn check_tip(&self, update: &HeaderUpdate, old_tip: ChainTip) -> Result<ChainTip> {
        check_declared_tip(
            update.new_tip,
            (self.cur, self.cur_height, self.cur_work),
            old_tip,
            |id| Ok(self.header_of(id, update.new_tip.height)?.cumulative_work),
        )
    }

    /// Which headers end up where: on the best chain by height, or kept as side headers.
    fn into_write_set(self, tip: ChainTip) -> HeaderWriteSet {
        let on_best: HashSet<Hash256> = self.best.values().flatten().map(HeaderEntry::id).collect();
        let mut side_puts = Vec::new();
        let mut kept = HashSet::new();
        let candidates = self
            .new_order
            .iter()
            .map(|id| self.new[id])
            .chain(self.disconnected.iter().copied());
        for entry in candidates {
            let id = entry.id();
            if !on_best.contains(&id) && kept.insert(id) {
                side_puts.push(entry);
            }
        }
        HeaderWriteSet {
            side_deletes: self
                .from_side
                .into_iter()
                .filter(|id| on_best.contains(id))
                .collect(),
            best: self.best,
            side_puts,
            tip,
        }
    }
}
