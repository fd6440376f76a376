//! Mutated copies of real blocks: the header untouched (so the copy has the real block's id),
//! the body changed so it no longer matches the header's commitment.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use talos_chain::item::Anchor;
use talos_chain::{Block, Hash256, ItemKind, NetworkSpec, SigningKey, UnsignedItem};

/// Makes body-mutated copies of the blocks it is given.
#[derive(Debug)]
pub struct BodyMutator {
    spec: NetworkSpec,
    key: SigningKey,
    rng: StdRng,
    nonce: u64,
}

impl BodyMutator {
    /// A mutator for `spec`, deterministic in `seed`.
    pub fn new(spec: &NetworkSpec, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let key = SigningKey::from_bytes(&rng.r#gen());
        Self {
            spec: spec.clone(),
            key,
            rng,
            nonce: 0,
        }
    }

    /// `block` with the same header and a body that does not match it: a real item swapped
    /// for a junk one (same count, wrong Merkle root), or, in an empty block, a junk item
    /// added (wrong count). The junk item is well formed and signed, so only the commitment
    /// check can tell.
    pub fn mutate(&mut self, block: &Block) -> Block {
        self.nonce = self.nonce.wrapping_add(1);
        let junk = UnsignedItem {
            author: self.key.verifying_key(),
            nonce: self.nonce,
            timestamp_ms: self.spec.genesis_timestamp_ms,
            kind: ItemKind::Anchor(Anchor {
                content_hash: Hash256(self.rng.r#gen()),
                label: "mutated".into(),
            }),
        }
        .sign(&self.key, self.spec.network_id);
        let mut copy = block.clone();
        if copy.items.is_empty() {
            copy.items.push(junk);
        } else {
            let at = self.rng.gen_range(0..copy.items.len());
            copy.items[at] = junk;
        }
        copy
    }
}

#[cfg(test)]
mod tests {
    use talos_chain::Blame;
    use talos_chain::testkit::{ChainBuilder, easy_spec, items};

    use super::*;

    #[test]
    fn copies_keep_the_id_and_fail_only_the_body() {
        let spec = easy_spec();
        let mut chain = ChainBuilder::new(&spec);
        let empty = chain.next_block();
        let full = chain.child(chain.tip(), items(&spec, 3));
        let mut mutator = BodyMutator::new(&spec, 1);
        for block in [&empty, &full] {
            let copy = mutator.mutate(block);
            assert_eq!(copy.id(), block.id());
            assert_ne!(&copy, block);
            let err = copy.check_body().unwrap_err();
            assert_eq!(err.blame(), Blame::Body, "{err}");
            assert!(block.check_body().is_ok());
        }
        assert_ne!(mutator.mutate(&full).items, mutator.mutate(&full).items);
    }
}
