//! The state proof answer (`StateProofResponse` in `sync.proto`): its pre-scan, and the
//! conversions between [`StateAnswer`] and its wire form.
//!
//! Bounds, all checked before prost allocates: one `StateAnswer` occurrence is at most
//! [`MAX_STATE_ANSWER_WIRE_BYTES`]; the siblings, counted over every occurrence (prost merges
//! them), are at most [`MAX_PROOF_DEPTH`], each exactly 32 bytes; a leaf is at most two hashes
//! with their framing; a record at most [`DID_RECORD_BYTES`]. After prost, the leaf's key and
//! value must be 32 bytes and the record must decode ([`StateRecord::decode`]).

use talos_chain::chain_state::{DID_RECORD_BYTES, StateAnswer, StateRecord};
use talos_chain::state::{MAX_PROOF_DEPTH, StateProof, Terminal};
use talos_chain::wire::DecodeError;
use talos_proto::sync as pb;

use super::{Counter, check_len, each, field, hash};
use crate::error::SyncDecodeError;
use crate::limits::MAX_STATE_ANSWER_WIRE_BYTES;

/// Field numbers of the state proof messages.
mod number {
    /// `StateProofResponse.answer`.
    pub(super) const ANSWER: u32 = 1;
    /// `StateAnswer.siblings`.
    pub(super) const SIBLINGS: u32 = 1;
    /// `StateAnswer.leaf`.
    pub(super) const LEAF: u32 = 2;
    /// `StateAnswer.record`.
    pub(super) const RECORD: u32 = 3;
}

/// Largest encoded `StateLeaf`: two 32-byte fields with their keys and lengths.
const LEAF_WIRE_BYTES: usize = 2 * (32 + 2);

/// The wire form of `answer`.
pub(super) fn encode_answer(answer: &StateAnswer) -> pb::StateAnswer {
    pb::StateAnswer {
        siblings: answer.proof.siblings.iter().map(|h| h.0.to_vec()).collect(),
        leaf: match answer.proof.terminal {
            Terminal::Empty => None,
            Terminal::Leaf { key, value } => Some(pb::StateLeaf {
                key: key.0.to_vec(),
                value: value.0.to_vec(),
            }),
        },
        record: answer.record.as_ref().map(StateRecord::encode),
    }
}

/// Pre-scans the state proof answers of a response (any number of occurrences).
pub(super) fn scan(bytes: &[u8]) -> Result<(), DecodeError> {
    let mut siblings = Counter::new(MAX_PROOF_DEPTH, "state proof siblings");
    each(bytes, field::RESPONSE_STATE_PROOF, |response| {
        each(response, number::ANSWER, |answer| {
            check_len(
                "state answer in a response",
                answer,
                MAX_STATE_ANSWER_WIRE_BYTES,
            )?;
            each(answer, number::SIBLINGS, |sibling| {
                siblings.add()?;
                hash("state_answer.siblings", sibling).map(drop)
            })?;
            each(answer, number::LEAF, |leaf| {
                check_len("state leaf", leaf, LEAF_WIRE_BYTES)
            })?;
            each(answer, number::RECORD, |record| {
                check_len("state record", record, DID_RECORD_BYTES)
            })
        })
    })
}

/// The [`StateAnswer`] a wire answer holds.
pub(super) fn answer_from_wire(answer: pb::StateAnswer) -> Result<StateAnswer, SyncDecodeError> {
    // Also enforced by the pre-scan; kept so this conversion is safe on its own.
    if answer.siblings.len() > MAX_PROOF_DEPTH {
        return Err(DecodeError::TooMany {
            what: "state proof siblings",
            max: MAX_PROOF_DEPTH,
        }
        .into());
    }
    let siblings = answer
        .siblings
        .iter()
        .map(|s| hash("state_answer.siblings", s))
        .collect::<Result<_, _>>()?;
    let terminal = match answer.leaf {
        None => Terminal::Empty,
        Some(leaf) => Terminal::Leaf {
            key: hash("state_leaf.key", &leaf.key)?,
            value: hash("state_leaf.value", &leaf.value)?,
        },
    };
    let record = answer
        .record
        .map(|bytes| StateRecord::decode(&bytes))
        .transpose()?;
    Ok(StateAnswer {
        proof: StateProof { siblings, terminal },
        record,
    })
}

#[cfg(test)]
mod tests;
