//! State proofs from the store: the header of the block asked for, its `state_root`, the proof
//! read from the store's state nodes and, for a present key, the record stored under its value.

use talos_chain::Hash256;
use talos_chain::chain_state::StateAnswer;
use talos_chain::state::{Node, NodeSource, SmtError};
use talos_storage::{StorageError, Store};
use talos_sync::server::{StateServeError, prove_state};

/// The store's state tree nodes (every stored block's, all branches) as a [`NodeSource`].
pub(super) struct StoreNodes<'a>(pub(super) &'a dyn Store);

impl NodeSource for StoreNodes<'_> {
    type Error = StorageError;

    fn node(&self, hash: &Hash256) -> Result<Option<Node>, StorageError> {
        self.0.state_node(hash)
    }
}

/// The answer about `key` under the state root of the stored block `block`; `None` when the
/// block is not stored. A node or record the root reaches but the store lacks is corruption.
pub(super) fn state_answer(
    store: &dyn Store,
    block: &Hash256,
    key: &Hash256,
) -> Result<Option<StateAnswer>, StorageError> {
    let Some(entry) = store.header(block)? else {
        return Ok(None);
    };
    prove_state(&StoreNodes(store), entry.header.state_root, key, |value| {
        store.state_record(value)
    })
    .map(Some)
    .map_err(|e| into_storage_error(e, block))
}

/// A failed proof as the store's error: its own failure, or corruption.
fn into_storage_error(error: StateServeError<StorageError>, block: &Hash256) -> StorageError {
    let (what, key, reason) = match error {
        StateServeError::Tree(SmtError::Source(e)) => return e,
        StateServeError::Tree(SmtError::MissingNode(hash)) => (
            "state_nodes",
            hash,
            "reached from a stored block's state root but not stored",
        ),
        StateServeError::Tree(SmtError::Corrupt(hash)) => {
            ("state_nodes", hash, "misplaced on the path that reaches it")
        }
        StateServeError::MissingRecord(value) => (
            "state_records",
            value,
            "a proven state value without its record",
        ),
    };
    StorageError::Corrupt {
        what,
        key: key.to_hex(),
        reason: format!("{reason} (state of block {})", block.to_hex()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use talos_chain::chain_state::{StateFinding, apply_block, revocation_key};
    use talos_chain::item::{ItemKind, Revocation};
    use talos_chain::state::MemoryNodes;
    use talos_chain::testkit::{easy_spec, key};
    use talos_chain::{Block, NetworkSpec, ParentContext, UnsignedItem};
    use talos_storage::{ChainStore, ChainUpdate, MemoryStore, NewBlock};
    use talos_sync::{SyncRequest, SyncResponse};

    use super::*;
    use crate::sync_server::answer;

    /// A store holding genesis and one block revoking `cap`; the block and its state root.
    fn store_with_revocation(spec: &NetworkSpec, cap: Hash256) -> (MemoryStore, Block) {
        let store = MemoryStore::new(&spec.genesis()).expect("store");
        let author = key(4);
        let item = UnsignedItem {
            author: author.verifying_key(),
            nonce: 0,
            timestamp_ms: spec.genesis_timestamp_ms + 1,
            kind: ItemKind::Revocation(Revocation {
                capability_id: cap,
                reason: "leaked".into(),
            }),
        }
        .sign(&author, spec.network_id);
        let ctx = ParentContext::for_genesis(spec);
        let state = apply_block(
            &MemoryNodes::new(),
            ctx.header.state_root,
            1,
            std::slice::from_ref(&item),
        )
        .expect("from the empty state");
        let mut block = talos_chain::testkit::child(spec, &ctx, vec![item]);
        block.header.state_root = state.root;
        let block = talos_chain::testkit::mine(block);
        let work = ctx.child_of_header(&block.header).cumulative_work;
        let mut update = ChainUpdate::extend(Arc::new(block.clone()), work);
        update.store = vec![NewBlock {
            state_nodes: state.nodes,
            state_records: state.records,
            ..NewBlock::new(block.clone(), work)
        }];
        store.commit(update).expect("commit");
        (store, block)
    }

    fn ask(store: &MemoryStore, spec: &NetworkSpec, block: Hash256, key: Hash256) -> SyncResponse {
        answer(
            store,
            spec.network_id,
            &spec.limits,
            &SyncRequest::StateProof { block, key },
        )
    }

    #[test]
    fn state_proofs_are_served_from_the_store_at_every_stored_root() {
        let spec = easy_spec();
        let cap = Hash256::sha256(b"capability");
        let (store, block) = store_with_revocation(&spec, cap);
        let key = revocation_key(&cap);
        let root = block.header.state_root;

        let SyncResponse::StateProof(Some(found)) = ask(&store, &spec, block.id(), key) else {
            panic!("a state proof");
        };
        let StateFinding::Present(record) = found.verify(&root, &key).expect("verifies") else {
            panic!("present");
        };
        assert_eq!(record.item_id(), block.items[0].id());
        assert_eq!(record.height(), 1);
        // Genesis' state has no entries: the same key is absent there.
        let genesis = spec.genesis();
        let SyncResponse::StateProof(Some(absent)) = ask(&store, &spec, genesis.id(), key) else {
            panic!("a state proof");
        };
        assert_eq!(
            absent.verify(&genesis.header.state_root, &key),
            Ok(StateFinding::Absent)
        );
        let other = revocation_key(&Hash256::sha256(b"another"));
        let SyncResponse::StateProof(Some(absent)) = ask(&store, &spec, block.id(), other) else {
            panic!("a state proof");
        };
        assert_eq!(absent.verify(&root, &other), Ok(StateFinding::Absent));
        assert_eq!(
            ask(&store, &spec, Hash256([7; 32]), key),
            SyncResponse::StateProof(None),
            "an unknown block"
        );
    }

    #[test]
    fn a_root_whose_nodes_are_missing_is_corruption_not_an_answer() {
        let spec = easy_spec();
        let store = MemoryStore::new(&spec.genesis()).expect("store");
        let ctx = ParentContext::for_genesis(&spec);
        let mut block = talos_chain::testkit::child(&spec, &ctx, Vec::new());
        block.header.state_root = Hash256([0xab; 32]);
        let block = talos_chain::testkit::mine(block);
        let work = ctx.child_of_header(&block.header).cumulative_work;
        store
            .commit(ChainUpdate::extend(Arc::new(block.clone()), work))
            .expect("commit");
        let error = state_answer(&store, &block.id(), &Hash256([1; 32])).expect_err("corrupt");
        assert!(error.is_corruption(), "{error}");
        let response = ask(&store, &spec, block.id(), Hash256([1; 32]));
        assert!(matches!(
            response,
            SyncResponse::Error {
                code: talos_sync::ErrorCode::Internal,
                ..
            }
        ));
    }
}
