//! The verdict on a state proof: is a capability revoked, which DID document is current.
//!
//! A light client asks full nodes for a proof under the state root of a block of its own best
//! chain (its tip), so the answer is checked against a header it already trusts; nothing in
//! the answer names the root.

use talos_chain::chain_state::{
    StateAnswer, StateAnswerError, StateFinding, did_key, revocation_key,
};
use talos_chain::{Hash256, VerifyingKey};

use crate::headers::{BlockAt, HeaderSource};

/// What a light client asks about the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateQuestion {
    /// Is this capability revoked?
    Revoked {
        /// The capability id.
        capability_id: Hash256,
    },
    /// Which document did `controller` last anchor for `did`? (For a `did:key`, the
    /// controller is the key the DID names.)
    Did {
        /// The key whose anchors count.
        controller: VerifyingKey,
        /// The DID.
        did: String,
    },
}

impl StateQuestion {
    /// The state tree key the question is about.
    pub fn key(&self) -> Hash256 {
        match self {
            Self::Revoked { capability_id } => revocation_key(capability_id),
            Self::Did { controller, did } => did_key(controller, did),
        }
    }
}

/// What a state proof shows about a question, at one best-chain block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateVerdict {
    /// The proof holds under the state root of `block`, which is in the best chain.
    Proven {
        /// The block whose state root the proof is under.
        block: Hash256,
        /// Its height.
        height: u64,
        /// What it proves.
        finding: StateFinding,
    },
    /// The block asked about is not (or no longer) in the best chain: ask again at the tip.
    OffBestChain {
        /// The block.
        block: Hash256,
    },
    /// The proof does not hold.
    Invalid(StateAnswerError),
}

impl StateVerdict {
    /// Stable snake_case name of the verdict.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Proven {
                finding: StateFinding::Present(_),
                ..
            } => "present",
            Self::Proven {
                finding: StateFinding::Absent,
                ..
            } => "absent",
            Self::OffBestChain { .. } => "off_best_chain",
            Self::Invalid(_) => "invalid",
        }
    }
}

/// Judges `answer` to `question` asked at `block` against the local best chain.
pub fn judge_state<S: HeaderSource>(
    source: &S,
    question: &StateQuestion,
    at: BlockAt,
    answer: &StateAnswer,
) -> Result<StateVerdict, S::Error> {
    let block = &at.id;
    if source.best_id_at(at.height)? != Some(*block) {
        return Ok(StateVerdict::OffBestChain { block: *block });
    }
    let Some(entry) = source.header(block, at.height)? else {
        return Ok(StateVerdict::OffBestChain { block: *block });
    };
    Ok(
        match answer.verify(&entry.header.state_root, &question.key()) {
            Ok(finding) => StateVerdict::Proven {
                block: *block,
                height: entry.height(),
                finding,
            },
            Err(e) => StateVerdict::Invalid(e),
        },
    )
}
