//! What to tell gossipsub about each message.
//!
//! With `validate_messages()` every message is held until the application reports one of
//! three results; [`Acceptance`] is that result without a libp2p dependency (the node maps it
//! to `gossipsub::MessageAcceptance`).
//!
//! | outcome | acceptance | why |
//! |---|---|---|
//! | payload does not decode (any [`crate::GossipDecodeError`] code: `too_large`, `too_many`, `malformed`, `protobuf`, `missing_field`, `bad_length`, `unknown_item_kind`, `bad_author_key`, `weak_author_key`, `item_too_large`) | `Reject` | the sender relayed bytes no honest node produces |
//! | message on a topic that is not ours | `Ignore` | nothing to judge; no penalty |
//! | block [`BlockOutcome::Imported`] (new tip or side chain) | `Accept` | valid: forward it |
//! | block [`BlockOutcome::AlreadyKnown`] | `Ignore` | valid but stale; peers that need it have it |
//! | block [`BlockOutcome::Orphan`] | `Ignore` | cannot judge before its parents arrive (they are fetched) |
//! | block [`BlockOutcome::Dropped`] (queue full, node busy, verdict timed out) | `Ignore` | not the sender's fault |
//! | block [`BlockOutcome::Invalid`] with `timestamp_too_far_in_future` | `Ignore` | clocks differ; may become valid |
//! | block [`BlockOutcome::Invalid`] with any other code (`bad_signature`, `insufficient_work`, `merkle_root_mismatch`, `wrong_network`, `wrong_target`, ...) | `Reject` | invalid under the rules every node applies |
//! | item [`ItemOutcome::Accepted`] (entered the mempool) | `Accept` | forward it |
//! | item [`ItemOutcome::Ignored`] (duplicate, in chain, pool full) | `Ignore` | no penalty |
//! | item [`ItemOutcome::Rejected`] (`bad_signature`, `item_too_large`, `weak_author_key`, ...) | `Reject` | invalid |

/// The validation result reported to gossipsub for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Acceptance {
    /// Valid: deliver and forward.
    Accept,
    /// Invalid: drop and penalize the propagation source (and every peer that also sent it).
    Reject,
    /// Not forwarded, no penalty.
    Ignore,
}

impl Acceptance {
    /// Stable name (`accept` / `reject` / `ignore`), used as a metrics label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Reject => "reject",
            Self::Ignore => "ignore",
        }
    }

    /// The result for a payload that failed to decode: always [`Acceptance::Reject`].
    pub fn for_decode_error(_error: &crate::GossipDecodeError) -> Self {
        Self::Reject
    }

    /// The result for a block the import pipeline judged.
    pub fn for_block(outcome: BlockOutcome<'_>) -> Self {
        match outcome {
            BlockOutcome::Imported => Self::Accept,
            BlockOutcome::AlreadyKnown | BlockOutcome::Orphan | BlockOutcome::Dropped => {
                Self::Ignore
            }
            BlockOutcome::Invalid { code } => block_error_acceptance(code),
        }
    }

    /// The result for an item the mempool judged.
    pub fn for_item(outcome: ItemOutcome<'_>) -> Self {
        match outcome {
            ItemOutcome::Accepted => Self::Accept,
            ItemOutcome::Ignored => Self::Ignore,
            ItemOutcome::Rejected { .. } => Self::Reject,
        }
    }
}

impl std::fmt::Display for Acceptance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Block error codes (`talos_chain::BlockError::code`) that are not the sender's fault.
pub const IGNORED_BLOCK_CODES: &[&str] = &["timestamp_too_far_in_future"];

fn block_error_acceptance(code: &str) -> Acceptance {
    if IGNORED_BLOCK_CODES.contains(&code) {
        Acceptance::Ignore
    } else {
        Acceptance::Reject
    }
}

/// What the import pipeline made of a gossiped block (the node converts its own
/// `ImportOutcome` into this).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockOutcome<'a> {
    /// Valid and stored.
    Imported,
    /// Already stored.
    AlreadyKnown,
    /// Parent unknown.
    Orphan,
    /// Not processed (queue full, timed out).
    Dropped,
    /// Invalid, with the rule's stable code.
    Invalid {
        /// Error code.
        code: &'a str,
    },
}

/// What the mempool made of a gossiped item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemOutcome<'a> {
    /// Entered the mempool.
    Accepted,
    /// Valid but not wanted.
    Ignored,
    /// Invalid.
    Rejected {
        /// Error code.
        code: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_outcomes_map_as_documented() {
        assert_eq!(
            Acceptance::for_block(BlockOutcome::Imported),
            Acceptance::Accept
        );
        assert_eq!(
            Acceptance::for_block(BlockOutcome::AlreadyKnown),
            Acceptance::Ignore
        );
        assert_eq!(
            Acceptance::for_block(BlockOutcome::Orphan),
            Acceptance::Ignore
        );
        assert_eq!(
            Acceptance::for_block(BlockOutcome::Dropped),
            Acceptance::Ignore
        );
        for code in [
            "bad_signature",
            "insufficient_work",
            "wrong_network",
            "merkle_root_mismatch",
            "anything_new",
        ] {
            assert_eq!(
                Acceptance::for_block(BlockOutcome::Invalid { code }),
                Acceptance::Reject,
                "{code}"
            );
        }
        assert_eq!(
            Acceptance::for_block(BlockOutcome::Invalid {
                code: "timestamp_too_far_in_future"
            }),
            Acceptance::Ignore
        );
    }

    #[test]
    fn item_outcomes_map_as_documented() {
        assert_eq!(
            Acceptance::for_item(ItemOutcome::Accepted),
            Acceptance::Accept
        );
        assert_eq!(
            Acceptance::for_item(ItemOutcome::Ignored),
            Acceptance::Ignore
        );
        assert_eq!(
            Acceptance::for_item(ItemOutcome::Rejected {
                code: "bad_signature"
            }),
            Acceptance::Reject
        );
    }

    #[test]
    fn decode_failures_are_rejected() {
        let limits = talos_chain::NetworkSpec::local().limits;
        let e = crate::decode_block(&[0xff; 8], &limits).unwrap_err();
        assert_eq!(Acceptance::for_decode_error(&e), Acceptance::Reject);
        assert_eq!(Acceptance::Reject.as_str(), "reject");
        assert_eq!(Acceptance::Accept.to_string(), "accept");
        assert_eq!(Acceptance::Ignore.as_str(), "ignore");
    }
}
