//! Why a message is delivered, what came of it, and which of our error kinds each kind of
//! delivery may be rejected with.

use talos_ratchet::DecryptError;

/// What a delivery did, the same in both engines (checked by [`World::decrypt_both`]).
///
/// [`World::decrypt_both`]: crate::world::World::decrypt_both
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Both decrypted it, to this plaintext.
    Accepted(Vec<u8>),
    /// Both rejected it, their states unchanged.
    Rejected,
}

/// Why a message is delivered: what the specification says must happen to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// First delivery of a genuine message: it must decrypt to what was sent.
    Genuine,
    /// An already delivered message again: rejected.
    Replay,
    /// A copy with one byte changed: rejected.
    Tampered,
    /// A party's own message back to it: rejected.
    Reflected,
    /// A genuine message that would skip more than `MAX_SKIP` keys: rejected.
    OverSkipBound,
}

/// Checks our rejection has a kind our documentation gives for that kind of delivery.
pub(crate) fn check_our_error(error: &DecryptError, kind: Delivery, context: &str) {
    let expected = match kind {
        Delivery::Genuine => false,
        Delivery::Replay => matches!(
            error,
            DecryptError::DuplicateOrExpired { .. } | DecryptError::BadHeader
        ),
        Delivery::Tampered => matches!(
            error,
            DecryptError::BadHeader | DecryptError::BadCiphertext | DecryptError::Wire(_)
        ),
        Delivery::Reflected => *error == DecryptError::BadHeader,
        Delivery::OverSkipBound => matches!(error, DecryptError::TooManySkipped { .. }),
    };
    assert!(
        expected,
        "{context}: {kind:?} delivery rejected by ours as {error:?}"
    );
}
