//! A bounded memory of blocks found invalid, so a block sent again is refused without being
//! checked again. Only verdicts on the block itself enter ([`talos_chain::Blame::Block`]): a
//! block id fixes the header and, through its parent, the whole chain below it, but not the
//! body a peer attached to it, and not the validator's clock.

use std::collections::{HashMap, VecDeque};

use talos_chain::Hash256;

use crate::messages::Rejection;

/// Invalid block ids with the reason they were refused, oldest forgotten first.
#[derive(Debug)]
pub(crate) struct RejectedBlocks {
    verdicts: HashMap<Hash256, Rejection>,
    order: VecDeque<Hash256>,
    max: usize,
}

impl RejectedBlocks {
    /// An empty memory of at most `max` ids.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            verdicts: HashMap::new(),
            order: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// Why a block was rejected, if remembered.
    pub(crate) fn get(&self, id: &Hash256) -> Option<&Rejection> {
        self.verdicts.get(id)
    }

    /// Whether a block is remembered as invalid.
    pub(crate) fn contains(&self, id: &Hash256) -> bool {
        self.verdicts.contains_key(id)
    }

    /// Remembers a rejection.
    pub(crate) fn insert(&mut self, id: Hash256, rejection: Rejection) {
        if self.verdicts.insert(id, rejection).is_some() {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > self.max {
            if let Some(old) = self.order.pop_front() {
                self.verdicts.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_verdict_is_forgotten_first() {
        let mut memory = RejectedBlocks::new(2);
        for n in 1..=3u8 {
            memory.insert(Hash256([n; 32]), Rejection::InvalidAncestor);
        }
        assert!(!memory.contains(&Hash256([1; 32])));
        assert_eq!(
            memory.get(&Hash256([3; 32])),
            Some(&Rejection::InvalidAncestor)
        );
        memory.insert(Hash256([3; 32]), Rejection::InvalidAncestor);
        assert!(memory.contains(&Hash256([2; 32])), "a repeat takes no slot");
    }
}
