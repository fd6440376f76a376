//! Honest proofs verify; every kind of forgery is refused with its reason; a reorg that drops
//! a proven block is reported; a revocation mined later flips the state answer.

use talos_chain::chain_state::{self, StateAnswer, StateFinding};
use talos_chain::item::{ItemKind, Revocation, UnsignedItem};
use talos_chain::merkle::MerkleTree;
use talos_chain::state::{self as smt, MemoryNodes, Terminal};
use talos_chain::testkit::{ChainBuilder, easy_spec, item, key};
use talos_chain::{Block, Hash256, ItemProof, NetworkSpec, SignedItem};
use talos_light::{
    BlockAt, InclusionVerdict, Lighter, MemoryHeaders, StateQuestion, StateVerdict,
    judge_inclusion, judge_state, plan_headers,
};

const NOW: u64 = u64::MAX / 2;

/// A chain and everything a full node keeps for it: blocks and state nodes.
struct FullNode {
    builder: ChainBuilder,
    nodes: MemoryNodes,
    blocks: Vec<Block>,
}

impl FullNode {
    fn new(spec: &NetworkSpec) -> Self {
        Self {
            builder: ChainBuilder::new(spec),
            nodes: MemoryNodes::new(),
            blocks: Vec::new(),
        }
    }

    fn mine(&mut self, parent: Hash256, items: Vec<SignedItem>) -> Block {
        let parent_root = self
            .blocks
            .iter()
            .find(|b| b.id() == parent)
            .map_or(smt::EMPTY_ROOT, |b| b.header.state_root);
        let block = self.builder.child(parent, items);
        let state =
            chain_state::apply_block(&self.nodes, parent_root, block.header.height, &block.items)
                .expect("state nodes kept");
        for node in state.nodes {
            self.nodes.insert(node);
        }
        self.blocks.push(block.clone());
        block
    }

    fn item_proof(&self, block: &Block, index: usize) -> ItemProof {
        let ids: Vec<Hash256> = block.items.iter().map(SignedItem::id).collect();
        ItemProof {
            item: block.items[index].clone(),
            header: block.header,
            proof: MerkleTree::new(&ids).proof(index as u64).expect("in range"),
        }
    }

    fn state_answer(
        &self,
        block: &Block,
        key: &Hash256,
        records: &[chain_state::StateRecord],
    ) -> StateAnswer {
        let proof = smt::prove(&self.nodes, block.header.state_root, key).expect("nodes kept");
        let record = match proof.terminal {
            Terminal::Leaf { key: k, value } if k == *key => {
                records.iter().find(|r| r.value() == value).copied()
            }
            _ => None,
        };
        StateAnswer { proof, record }
    }
}

fn follow(light: &mut MemoryHeaders, spec: &NetworkSpec, blocks: &[Block]) {
    let headers: Vec<_> = blocks.iter().map(|b| b.header).collect();
    let plan =
        plan_headers(&*light, &headers, spec, NOW, 1_000, Lighter::Refuse).expect("valid headers");
    light.apply(&plan);
}

fn revocation(spec: &NetworkSpec, capability: Hash256, nonce: u64) -> SignedItem {
    let k = key(4);
    UnsignedItem {
        author: k.verifying_key(),
        nonce,
        timestamp_ms: spec.genesis_timestamp_ms,
        kind: ItemKind::Revocation(Revocation {
            capability_id: capability,
            reason: "key leaked".into(),
        }),
    }
    .sign(&k, spec.network_id)
}

#[test]
fn an_honest_proof_verifies_and_forgeries_are_refused_with_their_reason() {
    let spec = easy_spec();
    let mut full = FullNode::new(&spec);
    let mut light = MemoryHeaders::new(&spec);
    let items: Vec<_> = (0..5).map(|n| item(&spec, &key(1), n)).collect();
    let b1 = full.mine(full.builder.genesis(), items);
    let b2 = full.mine(b1.id(), Vec::new());
    follow(&mut light, &spec, &[b1.clone(), b2]);
    let net = spec.network_id;
    let honest = full.item_proof(&b1, 3);
    let id = honest.item.id();

    let verdict = judge_inclusion(&light, net, &id, &honest, 2).unwrap();
    assert!(
        matches!(
            verdict,
            InclusionVerdict::Verified {
                height: 1,
                confirmations: 2,
                ..
            }
        ),
        "{verdict:?}"
    );
    let verdict = judge_inclusion(&light, net, &id, &honest, 3).unwrap();
    assert!(
        matches!(
            verdict,
            InclusionVerdict::Pending {
                confirmations: 2,
                needed: 3,
                ..
            }
        ),
        "{verdict:?}"
    );

    let reason = |proof: &ItemProof| match judge_inclusion(&light, net, &id, proof, 1).unwrap() {
        InclusionVerdict::Invalid(e) => e.code(),
        other => panic!("forgery accepted: {other:?}"),
    };
    let mut sibling = honest.clone();
    sibling.proof.path[0] = Hash256::sha256(b"forged");
    assert_eq!(reason(&sibling), "root_mismatch");
    let mut index = honest.clone();
    index.proof.leaf_index = 2;
    assert_eq!(reason(&index), "root_mismatch");
    let mut out_of_range = honest.clone();
    out_of_range.proof.leaf_index = 9;
    assert_eq!(reason(&out_of_range), "index_out_of_range");
    let mut size = honest.clone();
    size.proof.tree_size = 6;
    assert_eq!(reason(&size), "tree_size_mismatch");
    let other = full.item_proof(&b1, 1);
    assert_eq!(reason(&other), "wrong_item");
}

#[test]
fn a_proof_whose_block_left_the_best_chain_is_reported() {
    let spec = easy_spec();
    let mut full = FullNode::new(&spec);
    let mut light = MemoryHeaders::new(&spec);
    let genesis = full.builder.genesis();
    let b1 = full.mine(genesis, vec![item(&spec, &key(1), 0)]);
    follow(&mut light, &spec, std::slice::from_ref(&b1));
    let proof = full.item_proof(&b1, 0);
    let id = proof.item.id();
    assert!(
        judge_inclusion(&light, spec.network_id, &id, &proof, 1)
            .unwrap()
            .is_in_best_chain()
    );
    // A heavier branch without the item replaces block 1.
    let f1 = full.mine(genesis, vec![item(&spec, &key(2), 0)]);
    let f2 = full.mine(f1.id(), Vec::new());
    follow(&mut light, &spec, &[f1, f2]);
    let verdict = judge_inclusion(&light, spec.network_id, &id, &proof, 1).unwrap();
    assert_eq!(
        verdict,
        InclusionVerdict::OffBestChain {
            block: b1.id(),
            height: 1
        }
    );
}

#[test]
fn a_revocation_mined_later_flips_the_state_answer_with_valid_proofs_both_times() {
    let spec = easy_spec();
    let mut full = FullNode::new(&spec);
    let mut light = MemoryHeaders::new(&spec);
    let capability = Hash256::sha256(b"capability issued at height 1");
    let question = StateQuestion::Revoked {
        capability_id: capability,
    };
    let key = question.key();
    let b1 = full.mine(full.builder.genesis(), vec![item(&spec, &key_of(1), 0)]);
    follow(&mut light, &spec, std::slice::from_ref(&b1));
    let before = full.state_answer(&b1, &key, &[]);
    let verdict = judge_state(&light, &question, BlockAt::of(&b1.header), &before).unwrap();
    assert!(
        matches!(
            verdict,
            StateVerdict::Proven {
                finding: StateFinding::Absent,
                ..
            }
        ),
        "{verdict:?}"
    );

    let revoke = revocation(&spec, capability, 0);
    let b2 = full.mine(b1.id(), vec![revoke.clone()]);
    follow(&mut light, &spec, std::slice::from_ref(&b2));
    let record = chain_state::StateRecord::Revocation(chain_state::RevocationRecord {
        item_id: revoke.id(),
        height: 2,
    });
    let after = full.state_answer(&b2, &key, &[record]);
    let verdict = judge_state(&light, &question, BlockAt::of(&b2.header), &after).unwrap();
    assert_eq!(
        verdict,
        StateVerdict::Proven {
            block: b2.id(),
            height: 2,
            finding: StateFinding::Present(record)
        }
    );
    // The old absence proof does not hold under the new root, nor the new proof for a wrong key.
    assert!(matches!(
        judge_state(&light, &question, BlockAt::of(&b2.header), &before).unwrap(),
        StateVerdict::Invalid(_)
    ));
    let other = StateQuestion::Revoked {
        capability_id: Hash256::sha256(b"another capability"),
    };
    // In a one-entry tree the entry's path proves every other key absent, so only the record
    // (which an absence has none of) gives the substitution away.
    let verdict = judge_state(&light, &other, BlockAt::of(&b2.header), &after).unwrap();
    assert!(
        matches!(verdict, StateVerdict::Invalid(e) if e.code() == "unexpected_record"),
        "{verdict:?}"
    );
    // A sibling changed on the path: the root does not match.
    let mut forged = full.state_answer(&b2, &key, &[record]);
    forged.proof.siblings.push(Hash256::sha256(b"forged"));
    let verdict = judge_state(&light, &question, BlockAt::of(&b2.header), &forged).unwrap();
    assert!(matches!(verdict, StateVerdict::Invalid(_)), "{verdict:?}");
    // A record that does not hash to the proven value.
    let mut lying = after.clone();
    lying.record = Some(chain_state::StateRecord::Revocation(
        chain_state::RevocationRecord {
            item_id: revoke.id(),
            height: 1,
        },
    ));
    let verdict = judge_state(&light, &question, BlockAt::of(&b2.header), &lying).unwrap();
    assert!(
        matches!(verdict, StateVerdict::Invalid(e) if e.code() == "record_mismatch"),
        "{verdict:?}"
    );
}

fn key_of(seed: u8) -> talos_chain::SigningKey {
    key(seed)
}
