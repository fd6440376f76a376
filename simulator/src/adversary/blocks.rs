//! Blocks that decode but are invalid by consensus.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use talos_chain::header::HEADER_VERSION;
use talos_chain::{Block, BlockHeader, Hash256, NetworkSpec, mine_nonce};

/// Nonces tried to meet the target before giving up (then the proof of work is bad too).
const MINE_TRIES: u64 = 256;

/// Makes distinct, real-looking blocks on the genesis of a network that every honest node
/// rejects: their Merkle root commits to nothing they carry. Where the genesis target is easy
/// enough the proof of work is valid (so the Merkle check is what fails); otherwise the proof
/// of work fails first. Either way the node's context-free check rejects the block as the
/// sender's fault (not an "ignore"), so the sender is penalized.
#[derive(Debug)]
pub struct InvalidBlocks {
    spec: NetworkSpec,
    genesis: Hash256,
    rng: StdRng,
}

impl InvalidBlocks {
    /// A generator for `spec`, deterministic in `seed`.
    pub fn new(spec: &NetworkSpec, seed: u64) -> Self {
        Self {
            spec: spec.clone(),
            genesis: spec.genesis_hash(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The next invalid block (a fresh Merkle root, timestamp and nonce each time, so every
    /// block has its own id and gossip message id).
    pub fn next_block(&mut self) -> Block {
        let interval = self.spec.retarget.block_interval_ms.max(1);
        let header = BlockHeader {
            version: HEADER_VERSION,
            network_id: self.spec.network_id,
            height: 1,
            prev_hash: self.genesis,
            merkle_root: Hash256(self.rng.r#gen()),
            state_root: Hash256::ZERO,
            item_count: 0,
            timestamp_ms: self
                .spec
                .genesis_timestamp_ms
                .saturating_add(interval)
                .saturating_add(self.rng.gen_range(0..interval)),
            target: self.spec.genesis_target,
            nonce: self.rng.r#gen(),
        };
        let header = mine_nonce(&header, MINE_TRIES).unwrap_or(header);
        Block {
            header,
            items: Vec::new(),
        }
    }

    /// The next invalid block in its gossip encoding.
    pub fn next_encoded(&mut self) -> Vec<u8> {
        talos_gossip::encode_block(&self.next_block())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn blocks_decode_differ_and_fail_the_context_free_check() {
        let mut spec = NetworkSpec::local();
        spec.genesis_target = talos_chain::CompactTarget(0x207f_ffff);
        spec.retarget.pow_limit = spec.genesis_target;
        let mut blocks = InvalidBlocks::new(&spec, 7);
        let mut ids = HashSet::new();
        for _ in 0..20 {
            let bytes = blocks.next_encoded();
            let block = talos_gossip::decode_block(&bytes, &spec.limits).unwrap();
            assert!(ids.insert(block.id()));
            assert!(block.header.meets_own_target(), "easy target is met");
            let err = block.check(&spec).unwrap_err();
            assert_ne!(err.code(), "timestamp_too_far_in_future");
        }
        // Same seed, same blocks.
        let a = InvalidBlocks::new(&spec, 1).next_block();
        let b = InvalidBlocks::new(&spec, 1).next_block();
        assert_eq!(a, b);
    }

    #[test]
    fn hard_targets_give_blocks_with_bad_work() {
        let spec = NetworkSpec::local();
        let mut blocks = InvalidBlocks::new(&spec, 3);
        let block = blocks.next_block();
        assert!(block.check(&spec).is_err());
    }
}
