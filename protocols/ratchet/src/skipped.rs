//! Skipped message keys (`MKSKIPPED`), grouped by receiving chain with the chain's header key,
//! bounded per chain, in total and in chains, evicting the oldest.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::keys::Secret32;

/// The most message keys one message may make the receiver skip in one chain, and the most
/// kept per chain.
pub const MAX_SKIP: u32 = 1000;
/// The most skipped message keys kept in total.
pub const MAX_SKIPPED_TOTAL: usize = 2000;
/// The most receiving chains with skipped keys kept; each costs one trial header decryption
/// for a message no current header key opens.
pub const MAX_SKIPPED_CHAINS: usize = 32;

/// The skipped keys of one receiving chain.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SkippedChain {
    /// Sequence number of the receiving chain (see `Session::recv_chain`).
    pub(crate) chain: u64,
    /// The chain's header key.
    pub(crate) header_key: Secret32,
    /// Message number to message key, ascending, so the first is the oldest.
    pub(crate) keys: BTreeMap<u32, Secret32>,
}

/// All skipped keys, chains oldest first. Keys are only ever added to the newest chain, so the
/// first key of the first chain is the oldest key overall.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SkippedKeys {
    chains: VecDeque<SkippedChain>,
}

impl SkippedKeys {
    /// Number of stored keys.
    pub(crate) fn len(&self) -> usize {
        self.chains.iter().map(|c| c.keys.len()).sum()
    }

    /// The chains, oldest first.
    pub(crate) fn chains(&self) -> impl Iterator<Item = &SkippedChain> {
        self.chains.iter()
    }

    /// The key of message `n` of receiving chain `chain`, if stored.
    pub(crate) fn get(&self, chain: u64, n: u32) -> Option<&Secret32> {
        self.chains.iter().find(|c| c.chain == chain)?.keys.get(&n)
    }

    /// Deletes the key of message `n` of chain `chain` after its use.
    pub(crate) fn remove(&mut self, chain: u64, n: u32) {
        let Some(at) = self.chains.iter().position(|c| c.chain == chain) else {
            return;
        };
        self.chains[at].keys.remove(&n);
        if self.chains[at].keys.is_empty() {
            self.chains.remove(at);
        }
    }

    /// Stores keys skipped in receiving chain `chain` (newer than or equal to every stored
    /// chain), then evicts the oldest keys beyond the bounds.
    pub(crate) fn extend(&mut self, chain: u64, header_key: &Secret32, keys: Vec<(u32, Secret32)>) {
        if keys.is_empty() {
            return;
        }
        if self.chains.back().is_none_or(|c| c.chain != chain) {
            self.chains.push_back(SkippedChain {
                chain,
                header_key: header_key.clone(),
                keys: BTreeMap::new(),
            });
        }
        let Some(group) = self.chains.back_mut() else {
            return;
        };
        group.keys.extend(keys);
        while group.keys.len() > MAX_SKIP as usize {
            group.keys.pop_first();
        }
        self.evict();
    }

    fn evict(&mut self) {
        while self.chains.len() > MAX_SKIPPED_CHAINS {
            self.chains.pop_front();
        }
        let mut excess = self.len().saturating_sub(MAX_SKIPPED_TOTAL);
        while excess > 0 {
            let Some(oldest) = self.chains.front_mut() else {
                break;
            };
            if oldest.keys.len() <= excess {
                excess -= oldest.keys.len();
                self.chains.pop_front();
            } else {
                for _ in 0..excess {
                    oldest.keys.pop_first();
                }
                excess = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KEY_LEN;

    fn keys(range: core::ops::Range<u32>) -> Vec<(u32, Secret32)> {
        range.map(|n| (n, Secret32([n as u8; KEY_LEN]))).collect()
    }

    #[test]
    fn bounds_evict_oldest_first() {
        let hk = Secret32([0; KEY_LEN]);
        let mut skipped = SkippedKeys::default();
        skipped.extend(0, &hk, keys(0..1000));
        skipped.extend(0, &hk, keys(1000..1010));
        assert_eq!(skipped.len(), 1000, "per-chain bound");
        assert!(skipped.get(0, 9).is_none() && skipped.get(0, 10).is_some());
        skipped.extend(1, &hk, keys(0..1000));
        skipped.extend(2, &hk, keys(0..500));
        assert_eq!(skipped.len(), MAX_SKIPPED_TOTAL, "total bound");
        assert!(skipped.get(0, 509).is_none() && skipped.get(0, 510).is_some());
        for chain in 3..40 {
            skipped.extend(chain, &hk, keys(0..1));
        }
        assert_eq!(skipped.chains().count(), MAX_SKIPPED_CHAINS, "chain bound");
        assert!(skipped.get(0, 510).is_none() && skipped.get(39, 0).is_some());
        let total: usize = skipped.chains().map(|c| c.keys.len()).sum();
        assert_eq!(total, skipped.len());
        skipped.remove(39, 0);
        assert!(skipped.get(39, 0).is_none());
        assert_eq!(skipped.chains().count(), MAX_SKIPPED_CHAINS - 1);
    }
}
