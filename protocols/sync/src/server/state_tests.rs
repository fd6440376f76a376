//! Answering state proof requests: present and absent keys at old and new roots, unknown
//! blocks, and a local chain missing what its roots reach.

use std::collections::HashMap;
use std::convert::Infallible;

use talos_chain::chain_state::{
    DidRecord, RevocationRecord, StateAnswer, StateFinding, StateRecord, revocation_key,
};
use talos_chain::state::{EMPTY_ROOT, MemoryNodes, SmtError, apply_updates};
use talos_chain::{Block, BlockHeader, ChainStatus, Hash256, ItemProof, Limits, NetworkSpec};

use super::{ServeChain, StateServeError, answer, prove_state};
use crate::codec::{decode_response, encode_response};
use crate::messages::{SyncRequest, SyncResponse};

/// Blocks known only by their state roots, over one node store and record table.
#[derive(Default)]
struct StateChain {
    roots: HashMap<Hash256, Hash256>,
    nodes: MemoryNodes,
    records: HashMap<Hash256, StateRecord>,
}

impl StateChain {
    /// Adds block `id` whose state is its parent's (`parent_root`) with `records` set.
    fn add_block(
        &mut self,
        id: Hash256,
        parent_root: Hash256,
        records: &[(Hash256, StateRecord)],
    ) -> Hash256 {
        let updates: Vec<_> = records.iter().map(|(k, r)| (*k, r.value())).collect();
        let delta = apply_updates(&self.nodes, parent_root, &updates).expect("nodes held");
        self.nodes.extend(&delta);
        for (_, record) in records {
            self.records.insert(record.value(), *record);
        }
        self.roots.insert(id, delta.root);
        delta.root
    }
}

impl ServeChain for StateChain {
    type Error = StateServeError<Infallible>;

    fn status(&self) -> Result<ChainStatus, Self::Error> {
        Ok(crate::testkit::TestChain::new().status())
    }

    fn best_headers(&self, _start: u64, _max: usize) -> Result<Vec<BlockHeader>, Self::Error> {
        Ok(Vec::new())
    }

    fn best_block_at(&self, _height: u64) -> Result<Option<Block>, Self::Error> {
        Ok(None)
    }

    fn block(&self, _id: &Hash256) -> Result<Option<Block>, Self::Error> {
        Ok(None)
    }

    fn item_proof(&self, _id: &Hash256) -> Result<Option<ItemProof>, Self::Error> {
        Ok(None)
    }

    fn state_proof(
        &self,
        block: &Hash256,
        key: &Hash256,
    ) -> Result<Option<StateAnswer>, Self::Error> {
        let Some(root) = self.roots.get(block) else {
            return Ok(None);
        };
        prove_state(&self.nodes, *root, key, |value| {
            Ok(self.records.get(value).copied())
        })
        .map(Some)
    }
}

fn limits() -> Limits {
    NetworkSpec::local().limits
}

fn revoked(n: u8) -> (Hash256, StateRecord) {
    (
        revocation_key(&Hash256([n; 32])),
        StateRecord::Revocation(RevocationRecord {
            item_id: Hash256([n; 32]),
            height: 1,
        }),
    )
}

/// Asks `chain` for `key` at `block` through the wire, as a requester would see it.
fn ask(chain: &StateChain, block: Hash256, key: Hash256) -> Option<Box<StateAnswer>> {
    let response =
        answer(chain, &limits(), &SyncRequest::StateProof { block, key }).expect("reads");
    let bytes = encode_response(&response);
    match decode_response(&bytes, &limits()) {
        Ok(SyncResponse::StateProof(answer)) => answer,
        other => panic!("not a state proof: {other:?}"),
    }
}

#[test]
fn present_and_absent_keys_are_proven_at_every_stored_root() {
    let mut chain = StateChain::default();
    let (one, two) = (Hash256([1; 32]), Hash256([2; 32]));
    let early: Vec<_> = (1..=4).map(revoked).collect();
    let root_one = chain.add_block(one, EMPTY_ROOT, &early);
    let did = (
        Hash256([0xd1; 32]),
        StateRecord::Did(DidRecord {
            document_hash: Hash256([5; 32]),
            item_id: Hash256([6; 32]),
            height: 2,
        }),
    );
    let root_two = chain.add_block(two, root_one, &[did, revoked(9)]);

    for (key, record) in early.iter().chain([&did, &revoked(9)]) {
        let found = ask(&chain, two, *key).expect("block known");
        assert_eq!(
            found.verify(&root_two, key),
            Ok(StateFinding::Present(*record))
        );
    }
    // Block one's state: the later entries are absent there, the early ones present.
    let later = ask(&chain, one, did.0).expect("block known");
    assert_eq!(later.record, None);
    assert_eq!(later.verify(&root_one, &did.0), Ok(StateFinding::Absent));
    let early_found = ask(&chain, one, early[2].0).expect("block known");
    assert_eq!(
        early_found.verify(&root_one, &early[2].0),
        Ok(StateFinding::Present(early[2].1))
    );
    // A proof is only good against its own block's root.
    assert!(early_found.verify(&root_two, &early[2].0).is_err());
    let never = revocation_key(&Hash256([0x77; 32]));
    let absent = ask(&chain, two, never).expect("block known");
    assert_eq!(absent.verify(&root_two, &never), Ok(StateFinding::Absent));
}

#[test]
fn an_unknown_block_is_answered_none() {
    let chain = StateChain::default();
    assert_eq!(ask(&chain, Hash256([3; 32]), Hash256([4; 32])), None);
}

#[test]
fn a_chain_missing_a_node_or_a_record_fails_the_read() {
    let mut chain = StateChain::default();
    let block = Hash256([1; 32]);
    let entries: Vec<_> = (1..=3).map(revoked).collect();
    chain.add_block(block, EMPTY_ROOT, &entries);
    chain.records.clear();
    let request = SyncRequest::StateProof {
        block,
        key: entries[0].0,
    };
    let value = entries[0].1.value();
    assert_eq!(
        answer(&chain, &limits(), &request),
        Err(StateServeError::MissingRecord(value))
    );
    let root = Hash256([0xab; 32]);
    chain.roots.insert(block, root);
    assert_eq!(
        answer(&chain, &limits(), &request),
        Err(StateServeError::Tree(SmtError::MissingNode(root)))
    );
}
