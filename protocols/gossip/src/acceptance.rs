//! What to tell gossipsub about each message.
//!
//! With `validate_messages()` every message is held until the application reports one of
//! three results; [`Acceptance`] is that result without a libp2p dependency (the node maps it
//! to `gossipsub::MessageAcceptance`). A payload that does not decode is always
//! [`Acceptance::Reject`]: the sender relayed bytes no honest node produces. What a decoded
//! block or item earns depends on the node's verdict and on whose fault a rejection is; that
//! mapping is the node's peer policy (`talos-network`'s `policy` module), next to the
//! penalties, so the two cannot disagree.

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
}

impl std::fmt::Display for Acceptance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
