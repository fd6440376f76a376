//! A proof liar's answers: "not found" to every item proof request, and real state answers
//! changed in one place so they no longer verify.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use talos_chain::chain_state::StateAnswer;
use talos_chain::state::Terminal;
use talos_chain::{Hash256, Limits};
use talos_sync::{SyncResponse, encode_response};

/// Forges state answers and denies item proofs.
#[derive(Debug)]
pub struct ProofForger {
    rng: StdRng,
}

impl ProofForger {
    /// A forger deterministic in `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// `answer` changed in one place, so that [`StateAnswer::verify`] fails with a typed error
    /// against the root it was made for: one byte of the first sibling is flipped; with no
    /// siblings, one byte of the terminal leaf's value; and an empty terminal with no siblings
    /// (the proof of an empty tree) becomes a leaf of random key and value. The record is kept.
    pub fn forge(&mut self, answer: &StateAnswer) -> StateAnswer {
        let mut forged = answer.clone();
        let proof = &mut forged.proof;
        if let Some(sibling) = proof.siblings.first_mut() {
            self.flip_byte(sibling);
        } else if let Terminal::Leaf { value, .. } = &mut proof.terminal {
            self.flip_byte(value);
        } else {
            proof.terminal = Terminal::Leaf {
                key: Hash256(self.rng.r#gen()),
                value: Hash256(self.rng.r#gen()),
            };
        }
        forged
    }

    /// The encoded response `response` (an upstream's answer) with its state answer forged
    /// ([`ProofForger::forge`]); `None` when it carries none (the block is unknown, an error,
    /// or undecodable) and should be relayed unchanged.
    pub fn forge_response(&mut self, response: &[u8], limits: &Limits) -> Option<Vec<u8>> {
        match talos_sync::decode_response(response, limits) {
            Ok(SyncResponse::StateProof(Some(answer))) => {
                let forged = self.forge(&answer);
                Some(encode_response(&SyncResponse::StateProof(Some(Box::new(
                    forged,
                )))))
            }
            _ => None,
        }
    }

    /// The encoded denial of an item proof: "not found" (`Proof(None)`).
    pub fn denial() -> Vec<u8> {
        encode_response(&SyncResponse::Proof(None))
    }

    /// XORs one random byte of `hash` with a random non-zero mask.
    fn flip_byte(&mut self, hash: &mut Hash256) {
        let at = self.rng.gen_range(0..hash.0.len());
        hash.0[at] ^= self.rng.gen_range(1..=u8::MAX);
    }
}

#[cfg(test)]
mod tests {
    use talos_chain::chain_state::{RevocationRecord, StateAnswerError, StateRecord};
    use talos_chain::state::{EMPTY_ROOT, MemoryNodes, StateProofError, apply_updates, prove};
    use talos_sync::decode_response;

    use super::*;

    /// A tree of `keys` revocation records (each key's value is its record's), its root and
    /// the nodes.
    fn tree(keys: u64) -> (Hash256, MemoryNodes, Vec<(Hash256, StateRecord)>) {
        let entries: Vec<(Hash256, StateRecord)> = (0..keys)
            .map(|i| {
                let record = StateRecord::Revocation(RevocationRecord {
                    item_id: Hash256::sha256(&i.to_be_bytes()),
                    height: i + 1,
                });
                (Hash256::sha256(format!("key {i}").as_bytes()), record)
            })
            .collect();
        let updates: Vec<(Hash256, Hash256)> =
            entries.iter().map(|(k, r)| (*k, r.value())).collect();
        let mut nodes = MemoryNodes::new();
        let delta = apply_updates(&nodes, EMPTY_ROOT, &updates).expect("applies");
        nodes.extend(&delta);
        (delta.root, nodes, entries)
    }

    /// The honest answer about `key`, with `record` when the key is present.
    fn answer(
        root: Hash256,
        nodes: &MemoryNodes,
        key: &Hash256,
        record: Option<StateRecord>,
    ) -> StateAnswer {
        StateAnswer {
            proof: prove(nodes, root, key).expect("proves"),
            record,
        }
    }

    /// The honest answer verifies; its forgery fails with a typed error.
    fn check_forgery(forger: &mut ProofForger, root: &Hash256, key: &Hash256, real: &StateAnswer) {
        assert!(real.verify(root, key).is_ok(), "the honest answer verifies");
        let forged = forger.forge(real);
        assert_ne!(&forged, real);
        let err = forged.verify(root, key).expect_err("a forgery fails");
        assert!(
            matches!(
                err,
                StateAnswerError::Proof(
                    StateProofError::RootMismatch | StateProofError::NotCanonical
                )
            ),
            "{err:?}"
        );
    }

    #[test]
    fn every_shape_of_answer_is_forged_so_it_fails_verification() {
        let mut forger = ProofForger::new(3);
        // Siblings: a present key and an absent one in a tree of many keys.
        let (root, nodes, entries) = tree(40);
        let (key, record) = entries[7];
        let present = answer(root, &nodes, &key, Some(record));
        assert!(!present.proof.siblings.is_empty());
        check_forgery(&mut forger, &root, &key, &present);
        let absent_key = Hash256::sha256(b"absent");
        let absent = answer(root, &nodes, &absent_key, None);
        assert!(!absent.proof.siblings.is_empty());
        check_forgery(&mut forger, &root, &absent_key, &absent);
        let flipped = forger.forge(&present);
        assert_eq!(flipped.proof.terminal, present.proof.terminal);
        assert_eq!(flipped.proof.siblings[1..], present.proof.siblings[1..]);
        // No siblings, a leaf: the one-key tree.
        let (root, nodes, entries) = tree(1);
        let (key, record) = entries[0];
        let leaf = answer(root, &nodes, &key, Some(record));
        assert!(leaf.proof.siblings.is_empty());
        assert!(matches!(leaf.proof.terminal, Terminal::Leaf { .. }));
        check_forgery(&mut forger, &root, &key, &leaf);
        // No siblings, empty: the empty tree.
        let empty = answer(EMPTY_ROOT, &MemoryNodes::new(), &key, None);
        assert_eq!(empty.proof.terminal, Terminal::Empty);
        check_forgery(&mut forger, &EMPTY_ROOT, &key, &empty);
    }

    #[test]
    fn responses_are_forged_only_when_they_carry_a_state_answer() {
        let limits = talos_chain::NetworkSpec::local().limits;
        let mut forger = ProofForger::new(1);
        let (root, nodes, entries) = tree(5);
        let (key, record) = entries[2];
        let real = answer(root, &nodes, &key, Some(record));
        let response = encode_response(&SyncResponse::StateProof(Some(Box::new(real))));
        let forged = forger.forge_response(&response, &limits).expect("forged");
        let Ok(SyncResponse::StateProof(Some(forged))) = decode_response(&forged, &limits) else {
            panic!("a state answer decodes");
        };
        assert!(forged.verify(&root, &key).is_err());
        let unknown = encode_response(&SyncResponse::StateProof(None));
        assert_eq!(forger.forge_response(&unknown, &limits), None);
        assert_eq!(forger.forge_response(b"\xff\xff", &limits), None);
        assert_eq!(
            decode_response(&ProofForger::denial(), &limits).unwrap(),
            SyncResponse::Proof(None)
        );
    }
}
