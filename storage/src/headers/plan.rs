//! Checks a [`HeaderUpdate`] against the stored headers and turns it into the exact set of
//! writes. Both header backends use this, so they accept and reject exactly the same updates.
//!
//! The rules are those of [`crate::ChainUpdate`]'s planner (`crate::plan`), minus everything
//! about bodies and items, plus one: a new header's cumulative work must be exactly its
//! parent's plus its own target's work (a header store recomputes those sums in its integrity
//! walk, so it cannot take a caller's word for them).

use std::collections::{BTreeMap, HashMap};

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
    /// A stored header.
    fn header(&self, id: &Hash256) -> Result<Option<HeaderEntry>>;
    /// Whether a header is stored.
    fn contains(&self, id: &Hash256) -> Result<bool>;
}

/// Everything one commit writes. Height changes hold the final value per height: `None`
/// deletes.
#[derive(Debug)]
pub(crate) struct HeaderWriteSet {
    /// New headers, parents first.
    pub headers: Vec<HeaderEntry>,
    /// Height index changes.
    pub heights: BTreeMap<u64, Option<Hash256>>,
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
        headers: Vec::new(),
        heights: BTreeMap::new(),
        cur: old_tip.id,
        cur_height: old_tip.height,
        cur_work: None,
    };
    planner.store_new(update)?;
    planner.disconnect(update)?;
    planner.connect(update)?;
    let tip = planner.check_tip(update, old_tip)?;
    Ok(HeaderWriteSet {
        headers: planner.headers,
        heights: planner.heights,
        tip,
    })
}

/// The chain while an update is planned: the new headers, the height overlay and the best
/// chain's end as the disconnects and connects move it.
struct Planner<'r, R> {
    reader: &'r R,
    new: HashMap<Hash256, HeaderEntry>,
    headers: Vec<HeaderEntry>,
    heights: BTreeMap<u64, Option<Hash256>>,
    cur: Hash256,
    cur_height: u64,
    cur_work: Option<Work>,
}

impl<R: HeaderReader> Planner<'_, R> {
    /// A header of the update, or a stored one.
    fn header_of(&self, id: &Hash256) -> Result<HeaderEntry> {
        if let Some(entry) = self.new.get(id) {
            return Ok(*entry);
        }
        self.reader.header(id)?.ok_or(StorageError::NotFound {
            what: "header",
            id: *id,
        })
    }

    /// 1. New headers: parent known (stored or earlier here), height and work consistent.
    fn store_new(&mut self, update: &HeaderUpdate) -> Result<()> {
        for entry in &update.store {
            let id = entry.id();
            if self.new.contains_key(&id) || self.reader.contains(&id)? {
                continue;
            }
            let parent_id = entry.header.prev_hash;
            let parent = match self.new.get(&parent_id) {
                Some(parent) => *parent,
                None => self
                    .reader
                    .header(&parent_id)?
                    .ok_or(StorageError::MissingParent {
                        block: id,
                        parent: parent_id,
                    })?,
            };
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
            self.headers.push(*entry);
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
            let entry = self.header_of(id)?;
            self.heights.insert(self.cur_height, None);
            self.cur = entry.header.prev_hash;
            self.cur_height -= 1;
        }
        Ok(())
    }

    /// 3. Connect: each header extends the chain built so far.
    fn connect(&mut self, update: &HeaderUpdate) -> Result<()> {
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
            self.heights.insert(entry.height(), Some(*id));
            self.cur = *id;
            self.cur_height = entry.height();
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
            |id| Ok(self.header_of(id)?.cumulative_work),
        )
    }
}
