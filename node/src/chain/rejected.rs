//! A bounded memory of blocks found invalid, so a block sent again is refused without being
//! checked again. A block's validity is a function of the block alone (its id fixes its
//! parent, hence its whole chain), except for clock-dependent verdicts, which are never
//! remembered here.

use std::collections::{HashMap, VecDeque};

use talos_chain::Hash256;

/// Invalid block ids with the code of the rule they broke, oldest forgotten first.
#[derive(Debug)]
pub(crate) struct RejectedBlocks {
    codes: HashMap<Hash256, &'static str>,
    order: VecDeque<Hash256>,
    max: usize,
}

impl RejectedBlocks {
    /// An empty memory of at most `max` ids.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            codes: HashMap::new(),
            order: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// The code a block was rejected with, if remembered.
    pub(crate) fn get(&self, id: &Hash256) -> Option<&'static str> {
        self.codes.get(id).copied()
    }

    /// Remembers a rejection.
    pub(crate) fn insert(&mut self, id: Hash256, code: &'static str) {
        if self.codes.insert(id, code).is_some() {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > self.max {
            if let Some(old) = self.order.pop_front() {
                self.codes.remove(&old);
            }
        }
    }
}
