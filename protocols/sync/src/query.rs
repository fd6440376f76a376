//! Requests a node sends to one chosen peer outside the range-sync machine (a light client
//! asking for an item's SPV proof or a state proof): the reading of the answer. Sans-IO: the
//! node sends the request, and hands whatever came back to [`read_answer`], which keeps an
//! answer of the kind asked for and turns anything else into a typed [`AnswerError`].
//!
//! Reading checks only the kind. Whether a proof holds is for the caller, against headers it
//! trusts: [`talos_chain::ItemProof::verify`] and the header's place in its chain,
//! [`talos_chain::chain_state::StateAnswer::verify`] against the state root of the block it
//! named.

use crate::machine::Misbehaviour;
use crate::messages::{ErrorCode, SyncRequest, SyncResponse};

/// Why a response is not an answer to the request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The peer refused the request (busy, rate limited, not found, …).
    #[error("the peer refused: {code}")]
    Refused {
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
    /// The peer answered with another kind of response.
    #[error("the peer answered a {asked} request with a {found} response")]
    WrongKind {
        /// The request kind.
        asked: &'static str,
        /// The response kind received.
        found: &'static str,
    },
}

impl AnswerError {
    /// What the peer did wrong, if anything: a refusal is no fault (an honest server may be
    /// saturated), another kind of answer is data we did not ask for.
    pub fn misbehaviour(&self) -> Option<Misbehaviour> {
        match self {
            Self::Refused { .. } => None,
            Self::WrongKind { .. } => Some(Misbehaviour::UnrequestedData),
        }
    }
}

impl SyncRequest {
    /// Whether `response` is of the kind that answers this request (an error answers none).
    pub fn is_answered_by(&self, response: &SyncResponse) -> bool {
        matches!(
            (self, response),
            (Self::Status(_), SyncResponse::Status(_))
                | (Self::HeadersByRange { .. }, SyncResponse::Headers(_))
                | (
                    Self::BlocksByRange { .. } | Self::BlocksByHash(_),
                    SyncResponse::Blocks(_)
                )
                | (Self::Proof(_), SyncResponse::Proof(_))
                | (Self::StateProof { .. }, SyncResponse::StateProof(_))
        )
    }
}

/// `response` as the answer to `request`: kept when it is of the kind asked for; a refusal or
/// another kind is an [`AnswerError`].
pub fn read_answer(
    request: &SyncRequest,
    response: SyncResponse,
) -> Result<SyncResponse, AnswerError> {
    if request.is_answered_by(&response) {
        return Ok(response);
    }
    match response {
        SyncResponse::Error { code, message } => Err(AnswerError::Refused { code, message }),
        other => Err(AnswerError::WrongKind {
            asked: request.kind_name(),
            found: other.kind_name(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use talos_chain::Hash256;

    use super::*;

    #[test]
    fn answers_of_the_kind_asked_for_are_kept() {
        let id = Hash256([1; 32]);
        let state = SyncRequest::StateProof {
            block: id,
            key: Hash256([2; 32]),
        };
        assert_eq!(
            read_answer(&SyncRequest::Proof(id), SyncResponse::Proof(None)),
            Ok(SyncResponse::Proof(None))
        );
        assert_eq!(
            read_answer(&state, SyncResponse::StateProof(None)),
            Ok(SyncResponse::StateProof(None))
        );
        assert!(SyncRequest::BlocksByHash(vec![id]).is_answered_by(&SyncResponse::Blocks(vec![])));
        assert!(!state.is_answered_by(&SyncResponse::Blocks(vec![])));
    }

    #[test]
    fn refusals_and_other_kinds_are_typed_errors() {
        let state = SyncRequest::StateProof {
            block: Hash256([1; 32]),
            key: Hash256([2; 32]),
        };
        let wrong = read_answer(&state, SyncResponse::Proof(None));
        assert_eq!(
            wrong,
            Err(AnswerError::WrongKind {
                asked: "state_proof",
                found: "proof"
            })
        );
        assert_eq!(
            wrong.err().and_then(|e| e.misbehaviour()),
            Some(Misbehaviour::UnrequestedData)
        );
        let refused = read_answer(&state, crate::server::busy());
        assert!(matches!(
            &refused,
            Err(AnswerError::Refused {
                code: ErrorCode::Busy,
                ..
            })
        ));
        assert_eq!(refused.err().and_then(|e| e.misbehaviour()), None);
    }
}
