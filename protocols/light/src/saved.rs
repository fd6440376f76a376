//! A proof as a self-contained JSON file, checked offline against the local header store
//! (`talos verify-proof <proof.json>`).
//!
//! Binary parts are hex: the item in its wire encoding, the header in its 136-byte canonical
//! encoding. Decoding is bounded by the network's limits and every malformed field is a typed
//! [`SavedProofError`].

use serde::{Deserialize, Serialize};
use talos_chain::chain_state::{StateAnswer, StateRecord};
use talos_chain::header::HEADER_BYTES;
use talos_chain::merkle::MerkleProof;
use talos_chain::state::{MAX_PROOF_DEPTH, StateProof, Terminal};
use talos_chain::wire::{decode_item, encode_item};
use talos_chain::{BlockHeader, Hash256, ItemProof, Limits, VerifyingKey};

use crate::headers::{BlockAt, HeaderSource};
use crate::inclusion::{InclusionVerdict, judge_inclusion};
use crate::state::{StateQuestion, StateVerdict, judge_state};

/// Longest Merkle path a saved inclusion proof may carry (a tree of 2^64 leaves).
const MAX_PATH: usize = 64;

/// A saved proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SavedProof {
    /// An item's inclusion in a block.
    Inclusion {
        /// The item id.
        item_id: Hash256,
        /// The item, wire encoding in hex.
        item: String,
        /// The block header, canonical encoding in hex.
        header: String,
        /// The item's leaf index.
        leaf_index: u64,
        /// The block's item count.
        tree_size: u64,
        /// Merkle path, leaf upwards.
        path: Vec<Hash256>,
    },
    /// A state answer under a block's state root.
    State {
        /// The block whose state root the proof is under.
        block: Hash256,
        /// Its height.
        height: u64,
        /// What was asked.
        question: SavedQuestion,
        /// Siblings from the root down.
        siblings: Vec<Hash256>,
        /// The leaf at the end of the path (`None`: an empty subtree).
        terminal: Option<SavedLeaf>,
        /// The entry's record in hex, for a present key.
        record: Option<String>,
    },
}

/// A saved state question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "of", rename_all = "snake_case", deny_unknown_fields)]
pub enum SavedQuestion {
    /// Is the capability revoked?
    Revoked {
        /// The capability id.
        capability_id: Hash256,
    },
    /// The current document `controller` (hex Ed25519 key) anchored for `did`.
    Did {
        /// The controller key, hex.
        controller: String,
        /// The DID.
        did: String,
    },
}

/// A saved terminal leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedLeaf {
    /// The leaf's key.
    pub key: Hash256,
    /// The leaf's value.
    pub value: Hash256,
}

/// Why a saved proof cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SavedProofError {
    /// A field is not what it should be.
    #[error("field `{field}`: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn bad(field: &'static str, reason: impl ToString) -> SavedProofError {
    SavedProofError::Field {
        field,
        reason: reason.to_string(),
    }
}

/// What a saved proof shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavedVerdict {
    /// An inclusion proof's verdict.
    Inclusion(InclusionVerdict),
    /// A state proof's verdict.
    State(StateVerdict),
}

impl SavedProof {
    /// Saves an inclusion proof.
    pub fn inclusion(proof: &ItemProof) -> Self {
        Self::Inclusion {
            item_id: proof.item.id(),
            item: hex::encode(encode_item(&proof.item)),
            header: hex::encode(proof.header.canonical_bytes()),
            leaf_index: proof.proof.leaf_index,
            tree_size: proof.proof.tree_size,
            path: proof.proof.path.clone(),
        }
    }

    /// Saves a state answer to `question` at `block`.
    pub fn state(question: &StateQuestion, block: BlockAt, answer: &StateAnswer) -> Self {
        Self::State {
            block: block.id,
            height: block.height,
            question: match question {
                StateQuestion::Revoked { capability_id } => SavedQuestion::Revoked {
                    capability_id: *capability_id,
                },
                StateQuestion::Did { controller, did } => SavedQuestion::Did {
                    controller: hex::encode(controller.as_bytes()),
                    did: did.clone(),
                },
            },
            siblings: answer.proof.siblings.clone(),
            terminal: match answer.proof.terminal {
                Terminal::Empty => None,
                Terminal::Leaf { key, value } => Some(SavedLeaf { key, value }),
            },
            record: answer.record.map(|r| hex::encode(r.encode())),
        }
    }
}

fn decode_header_hex(text: &str) -> Result<BlockHeader, SavedProofError> {
    let mut bytes = [0u8; HEADER_BYTES];
    hex::decode_to_slice(text, &mut bytes).map_err(|e| bad("header", e))?;
    Ok(BlockHeader::from_canonical_bytes(&bytes))
}

fn decode_question(question: &SavedQuestion) -> Result<StateQuestion, SavedProofError> {
    Ok(match question {
        SavedQuestion::Revoked { capability_id } => StateQuestion::Revoked {
            capability_id: *capability_id,
        },
        SavedQuestion::Did { controller, did } => {
            let mut key = [0u8; 32];
            hex::decode_to_slice(controller, &mut key).map_err(|e| bad("controller", e))?;
            let controller = VerifyingKey::from_bytes(&key).map_err(|e| bad("controller", e))?;
            StateQuestion::Did {
                controller,
                did: did.clone(),
            }
        }
    })
}

fn decode_record(text: &str) -> Result<StateRecord, SavedProofError> {
    if text.len() > 2 * 128 {
        return Err(bad("record", "too long"));
    }
    let bytes = hex::decode(text).map_err(|e| bad("record", e))?;
    StateRecord::decode(&bytes).map_err(|e| bad("record", e))
}

/// Checks a saved proof against the local chain in `source` (network `network_id`, item
/// limits `limits`), asking inclusion proofs for `min_confirmations`.
pub fn verify_saved<S: HeaderSource>(
    source: &S,
    saved: &SavedProof,
    network_id: u32,
    limits: &Limits,
    min_confirmations: u64,
) -> Result<Result<SavedVerdict, SavedProofError>, S::Error> {
    let decoded = match decode(saved, limits) {
        Ok(decoded) => decoded,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(match decoded {
        Decoded::Inclusion(item_id, proof) => SavedVerdict::Inclusion(judge_inclusion(
            source,
            network_id,
            &item_id,
            &proof,
            min_confirmations,
        )?),
        Decoded::State(question, block, answer) => {
            SavedVerdict::State(judge_state(source, &question, block, &answer)?)
        }
    }))
}

enum Decoded {
    Inclusion(Hash256, ItemProof),
    State(StateQuestion, BlockAt, StateAnswer),
}

fn decode(saved: &SavedProof, limits: &Limits) -> Result<Decoded, SavedProofError> {
    match saved {
        SavedProof::Inclusion {
            item_id,
            item,
            header,
            leaf_index,
            tree_size,
            path,
        } => {
            if path.len() > MAX_PATH {
                return Err(bad("path", format!("more than {MAX_PATH} hashes")));
            }
            if item.len() > 2 * limits.max_item_bytes.saturating_mul(2) {
                return Err(bad("item", "larger than the network allows"));
            }
            let bytes = hex::decode(item).map_err(|e| bad("item", e))?;
            let item = decode_item(&bytes, limits).map_err(|e| bad("item", e))?;
            let proof = ItemProof {
                item,
                header: decode_header_hex(header)?,
                proof: MerkleProof {
                    leaf_index: *leaf_index,
                    tree_size: *tree_size,
                    path: path.clone(),
                },
            };
            Ok(Decoded::Inclusion(*item_id, proof))
        }
        SavedProof::State {
            block,
            height,
            question,
            siblings,
            terminal,
            record,
        } => {
            if siblings.len() > MAX_PROOF_DEPTH {
                return Err(bad("siblings", format!("more than {MAX_PROOF_DEPTH}")));
            }
            let answer = StateAnswer {
                proof: StateProof {
                    siblings: siblings.clone(),
                    terminal: terminal.map_or(Terminal::Empty, |l| Terminal::Leaf {
                        key: l.key,
                        value: l.value,
                    }),
                },
                record: record.as_deref().map(decode_record).transpose()?,
            };
            let at = BlockAt {
                id: *block,
                height: *height,
            };
            Ok(Decoded::State(decode_question(question)?, at, answer))
        }
    }
}
