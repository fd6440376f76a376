//! Building the answer to a state proof request from a node's state tree and records, for
//! [`super::ServeChain::state_proof`] implementations.

use talos_chain::Hash256;
use talos_chain::chain_state::{StateAnswer, StateRecord};
use talos_chain::state::{NodeSource, SmtError, Terminal, prove};

/// Why a state answer could not be built from the local chain: the caller's storage failed or
/// holds less than it should (never the requester's fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateServeError<E> {
    /// Reading the tree failed, or a node the root reaches is missing or misplaced.
    #[error(transparent)]
    Tree(#[from] SmtError<E>),
    /// The key is present but the record its value hashes to is not stored.
    #[error("no record is stored for state value {0}")]
    MissingRecord(Hash256),
}

/// The answer about `key` under the state root `root`: the tree proof read from `nodes` and,
/// when the key is present, its record read with `record` (by value hash).
pub fn prove_state<S: NodeSource>(
    nodes: &S,
    root: Hash256,
    key: &Hash256,
    record: impl FnOnce(&Hash256) -> Result<Option<StateRecord>, S::Error>,
) -> Result<StateAnswer, StateServeError<S::Error>> {
    let proof = prove(nodes, root, key)?;
    let record = match proof.terminal {
        Terminal::Leaf { key: found, value } if found == *key => Some(
            record(&value)
                .map_err(SmtError::Source)?
                .ok_or(StateServeError::MissingRecord(value))?,
        ),
        Terminal::Leaf { .. } | Terminal::Empty => None,
    };
    Ok(StateAnswer { proof, record })
}
