//! Several full nodes' answers to one question, combined: one verdict and who lied.
//!
//! A light client asks every full node it can reach (at least two where it can). A valid proof
//! settles the question, whoever sent it. Lies are what a proof exposes: a proof that fails is
//! always a lie; "not found" is one only when another node proved the item in our best chain
//! at a height the denying node claims to have (a node that is merely behind is not lying).
//! Timeouts and busy answers say nothing about honesty.

use crate::inclusion::InclusionVerdict;
use crate::state::StateVerdict;

/// One full node's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer<V> {
    /// A proof, judged against the local chain.
    Judged(V),
    /// The node says it has nothing: the item or the block is unknown to it.
    NotFound {
        /// The tip height the node advertised, if known.
        peer_height: Option<u64>,
    },
    /// No usable answer (timeout, busy, gone).
    Unavailable,
}

/// What a lying node did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LieKind {
    /// It served a proof that fails (the reason code).
    InvalidProof(&'static str),
    /// It said "not found" for an item another node proved in the best chain at a height it
    /// claims to have.
    DeniedProvenItem,
}

impl LieKind {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidProof(_) => "invalid_proof",
            Self::DeniedProvenItem => "denied_proven_item",
        }
    }
}

/// A node that lied, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Liar<P> {
    /// The node.
    pub peer: P,
    /// What it did.
    pub kind: LieKind,
}

/// The combined result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrossCheck<P, V> {
    /// The settled verdict and the node whose proof settled it; `None` when no node sent a
    /// proof (then `not_found` counts the nodes that said so).
    pub verdict: Option<(P, V)>,
    /// Nodes that said "not found".
    pub not_found: usize,
    /// Nodes that gave no usable answer.
    pub unavailable: usize,
    /// Nodes that lied.
    pub liars: Vec<Liar<P>>,
}

/// Combines answers to "is this item in the chain?".
pub fn cross_check_inclusion<P: Copy>(
    answers: &[(P, Answer<InclusionVerdict>)],
) -> CrossCheck<P, InclusionVerdict> {
    let judged = || {
        answers.iter().filter_map(|(p, a)| match a {
            Answer::Judged(v) => Some((*p, *v)),
            _ => None,
        })
    };
    // A proof in the best chain settles it; else any valid proof; else the first invalid one.
    let verdict = judged()
        .find(|(_, v)| v.is_in_best_chain())
        .or_else(|| judged().find(|(_, v)| !matches!(v, InclusionVerdict::Invalid(_))))
        .or_else(|| judged().next());
    let proven_height = verdict.and_then(|(_, v)| match v {
        InclusionVerdict::Verified { height, .. } | InclusionVerdict::Pending { height, .. } => {
            Some(height)
        }
        _ => None,
    });
    let mut out = tally(answers, verdict);
    for (peer, answer) in answers {
        let kind = match answer {
            Answer::Judged(InclusionVerdict::Invalid(reason)) => {
                Some(LieKind::InvalidProof(reason.code()))
            }
            Answer::NotFound { peer_height } => proven_height
                .filter(|h| peer_height.is_none_or(|ph| ph >= *h))
                .map(|_| LieKind::DeniedProvenItem),
            _ => None,
        };
        if let Some(kind) = kind {
            out.liars.push(Liar { peer: *peer, kind });
        }
    }
    out
}

/// Combines answers to a state question asked at one block.
pub fn cross_check_state<P: Copy>(
    answers: &[(P, Answer<StateVerdict>)],
) -> CrossCheck<P, StateVerdict> {
    let judged = || {
        answers.iter().filter_map(|(p, a)| match a {
            Answer::Judged(v) => Some((*p, *v)),
            _ => None,
        })
    };
    let verdict = judged()
        .find(|(_, v)| matches!(v, StateVerdict::Proven { .. }))
        .or_else(|| judged().next());
    let mut out = tally(answers, verdict);
    for (peer, answer) in answers {
        if let Answer::Judged(StateVerdict::Invalid(reason)) = answer {
            out.liars.push(Liar {
                peer: *peer,
                kind: LieKind::InvalidProof(reason.code()),
            });
        }
    }
    out
}

fn tally<P: Copy, V>(answers: &[(P, Answer<V>)], verdict: Option<(P, V)>) -> CrossCheck<P, V> {
    CrossCheck {
        verdict,
        not_found: answers
            .iter()
            .filter(|(_, a)| matches!(a, Answer::NotFound { .. }))
            .count(),
        unavailable: answers
            .iter()
            .filter(|(_, a)| matches!(a, Answer::Unavailable))
            .count(),
        liars: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inclusion::InvalidProof;
    use talos_chain::Hash256;

    fn verified(height: u64) -> InclusionVerdict {
        InclusionVerdict::Verified {
            block: Hash256::sha256(b"b"),
            height,
            confirmations: 3,
        }
    }

    #[test]
    fn a_denial_of_a_proven_item_is_a_lie_unless_the_node_is_behind() {
        let answers = [
            (
                1,
                Answer::NotFound {
                    peer_height: Some(10),
                },
            ),
            (2, Answer::Judged(verified(8))),
            (
                3,
                Answer::NotFound {
                    peer_height: Some(5),
                },
            ),
            (4, Answer::Unavailable),
        ];
        let out = cross_check_inclusion(&answers);
        assert_eq!(out.verdict, Some((2, verified(8))));
        assert_eq!(
            out.liars,
            vec![Liar {
                peer: 1,
                kind: LieKind::DeniedProvenItem
            }]
        );
        assert_eq!((out.not_found, out.unavailable), (2, 1));
    }

    #[test]
    fn a_failing_proof_is_a_lie_and_does_not_outvote_a_valid_one() {
        let bad = InclusionVerdict::Invalid(InvalidProof::WrongItem {
            found: Hash256::ZERO,
        });
        let answers = [(7, Answer::Judged(bad)), (8, Answer::Judged(verified(2)))];
        let out = cross_check_inclusion(&answers);
        assert_eq!(out.verdict, Some((8, verified(2))));
        assert_eq!(out.liars.len(), 1);
        assert_eq!(out.liars[0].peer, 7);
        assert_eq!(out.liars[0].kind.code(), "invalid_proof");
    }

    #[test]
    fn nobody_proving_anything_is_not_found_and_nobody_lied() {
        let answers = [
            (
                1,
                Answer::<InclusionVerdict>::NotFound { peer_height: None },
            ),
            (
                2,
                Answer::NotFound {
                    peer_height: Some(3),
                },
            ),
        ];
        let out = cross_check_inclusion(&answers);
        assert_eq!(out.verdict, None);
        assert!(out.liars.is_empty());
        assert_eq!(out.not_found, 2);
    }
}
