//! The node's peer policy, in one place: what each thing a peer can do wrong costs it, and
//! what gossipsub is told about each message.
//!
//! Every error a peer can cause reaches this module typed — a block [`Rejection`] (every
//! [`BlockError`] rule), an item's [`MempoolError`], a gossip payload's [`GossipDecodeError`], a
//! sync frame's [`SyncDecodeError`], the sync machine's [`Misbehaviour`], a messaging frame's
//! [`MessagingDecodeError`] — and is matched here
//! variant by variant, without wildcards: a new error variant does not compile until it has a
//! scoring decision. The local score starts at 0 and goes down by each [`Penalty`]; at
//! [`crate::peers::BAN_SCORE`] the peer is banned.
//!
//! | what | penalty | gossip |
//! |---|---|---|
//! | a block breaking any rule, or descending from an invalid block | 50 | `Reject` |
//! | a body that does not match its header (`item_count_mismatch`, `merkle_root_mismatch`): the sender's copy, not the block, is condemned | 50 | `Reject` |
//! | a block whose time is ahead of our clock (`timestamp_too_far_in_future`) | none (it may be our clock) | `Ignore` |
//! | a block stored, an orphan, a side block too far below the tip's work (`Stale`), or one not judged (queue full, storage) | none | `Accept` if imported, else `Ignore` |
//! | an invalid item (`too_large`, `weak_author_key`, `bad_signature`) | 20 | `Reject` |
//! | an item refused for being redundant or for room (`duplicate`, `nonce_reused`, `already_in_chain`, `author_cap`, `full`), or not judged (storage) | none | `Ignore` (`Accept` if pooled) |
//! | a gossip payload that does not decode (any chain decode error) | 20 | `Reject` |
//! | a sync request that does not decode | 25 | – |
//! | a sync request over the peer's quota (answered `busy`) | 5 | – |
//! | a DHT record put of no kind Talos defines (not stored) | 10 | – |
//! | a msg or mailbox request that does not decode (bad protobuf, a frame over the cap, an envelope whose fields or signature fail) | 25 | – |
//! | a msg or mailbox answer that does not decode (as for requests) | 50 | – |
//! | a messaging envelope of a version, or an answer with a status code, this build does not know (a newer peer's) | none | – |
//! | a sync response that does not decode (a state proof with too many or short siblings, a bad leaf or record included), or a frame over the cap | 50 | – |
//! | sync misbehaviour: timeout 5, empty answer 10, a round target that stalls 20, headers short of the claimed work 30, unrequested data (a proof query answered with another kind included) or too many items 30, wrong headers, wrong blocks, a body that does not match its accepted header or a malformed message 50, an invalid block or a header the light client's store refuses 100 | as listed | – |
//! | to a light client: a proof that fails (forged) 100, "not found" for an item another node proved below the denier's own tip 50 | as listed | – |
//! | another network id or genesis | ban at once | – |
//! | a gossipsub score below the graylist threshold | ban at once | – |

use talos_chain::wire::DecodeError;
use talos_chain::{BlockError, Hash256, MempoolError};
use talos_chain_service::{ImportOutcome, Rejection, SubmitError};
use talos_gossip::{Acceptance, GossipDecodeError};
use talos_sync::rr_codec::FrameTooLarge;
use talos_sync::server::QuotaExceeded;

use crate::records::RecordError;
use talos_light::LieKind;
use talos_messaging::{DecodeError as MessagingDecodeError, EnvelopeError};
use talos_sync::{Misbehaviour, SyncDecodeError};

/// What an offence costs a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Penalty {
    /// Nothing: not the peer's fault.
    None,
    /// This many points off its local score.
    Score(u32),
    /// A ban, whatever the score.
    Ban,
}

/// Points of an invalid block.
const INVALID_BLOCK: u32 = 50;
/// Points of an invalid or undecodable gossip message.
const INVALID_GOSSIP: u32 = 20;
/// Points of a sync request we had to refuse as malformed.
const BAD_REQUEST: u32 = 25;
/// Points of a sync response that does not decode, or a frame over the cap.
const BAD_FRAME: u32 = 50;
/// Points of a sync request over the peer's quota.
const OVER_QUOTA: u32 = 5;
/// Points of a DHT record put of no kind Talos defines, or one malformed or forged.
const UNWANTED_RECORD: u32 = 10;
/// Points of a proof that fails, served to our light client: forged on purpose (an honest node
/// serves proofs from validated blocks), so a ban at once.
const FORGED_PROOF: u32 = 100;
/// Points of a "not found" for an item another node proved in our best chain below the
/// denier's own tip.
const DENIED_PROOF: u32 = 50;

/// Something a peer did wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offence {
    /// It sent an invalid block (gossip or sync).
    InvalidBlock(Rejection),
    /// It gossiped an invalid item.
    InvalidItem(MempoolError),
    /// It gossiped bytes that are not a block or item.
    UndecodableGossip(GossipDecodeError),
    /// It sent a sync request that does not decode.
    BadSyncRequest(SyncDecodeError),
    /// It answered with a sync response that does not decode.
    BadSyncResponse(SyncDecodeError),
    /// It announced a sync frame over the cap.
    OversizedFrame(FrameTooLarge),
    /// The sync machine judged its answers bad.
    Sync(Misbehaviour),
    /// It asked more of our sync server than its quota allows.
    OverQuota(QuotaExceeded),
    /// It asked us to store a DHT record of no kind Talos defines, or one that does not
    /// validate (only malformed or forged ones cost: [`RecordError::is_peer_fault`]).
    UnwantedRecord(RecordError),
    /// Its status names another network id or genesis.
    WrongNetwork,
    /// Its gossipsub score fell below the graylist threshold.
    GossipScore,
    /// It lied to our light client (a proof that fails, or denying a proven item).
    LightLie(LieKind),
    /// It sent a msg or mailbox request that does not decode (or a frame over the cap).
    BadMessagingRequest(MessagingDecodeError),
    /// It answered a msg or mailbox request with bytes that do not decode.
    BadMessagingResponse(MessagingDecodeError),
}

impl Offence {
    /// Stable code of the offence's kind (ban metrics label, logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidBlock(_) => "invalid_block",
            Self::InvalidItem(_) | Self::UndecodableGossip(_) => "invalid_gossip",
            Self::BadSyncRequest(_) => "bad_request",
            Self::BadSyncResponse(_) | Self::OversizedFrame(_) => "bad_frame",
            Self::Sync(m) => m.code(),
            Self::OverQuota(_) => "over_quota",
            Self::UnwantedRecord(_) => "unwanted_record",
            Self::WrongNetwork => "wrong_network",
            Self::GossipScore => "gossip_score",
            Self::LightLie(_) => "light_lie",
            Self::BadMessagingRequest(_) => "bad_messaging_request",
            Self::BadMessagingResponse(_) => "bad_messaging_response",
        }
    }

    /// The code of the exact error (logs).
    pub fn detail(&self) -> &'static str {
        match self {
            Self::InvalidBlock(r) => r.code(),
            Self::InvalidItem(e) => e.code(),
            Self::UndecodableGossip(e) => e.code(),
            Self::BadSyncRequest(e) | Self::BadSyncResponse(e) => e.code(),
            Self::OversizedFrame(_) => "frame_too_large",
            Self::Sync(m) => m.code(),
            Self::OverQuota(over) => over.kind.code(),
            Self::UnwantedRecord(e) => e.code(),
            Self::WrongNetwork => "wrong_network",
            Self::GossipScore => "gossip_score",
            Self::LightLie(lie) => lie.code(),
            Self::BadMessagingRequest(e) | Self::BadMessagingResponse(e) => e.code(),
        }
    }

    /// What it costs.
    pub fn penalty(&self) -> Penalty {
        match self {
            Self::InvalidBlock(r) => block_penalty(r),
            Self::InvalidItem(e) => item_penalty(e),
            Self::UndecodableGossip(GossipDecodeError::Wire { source, .. }) => {
                wire_penalty(source, INVALID_GOSSIP)
            }
            Self::BadSyncRequest(e) => sync_decode_penalty(e, BAD_REQUEST),
            Self::BadSyncResponse(e) => sync_decode_penalty(e, BAD_FRAME),
            Self::OversizedFrame(_) => Penalty::Score(BAD_FRAME),
            Self::Sync(m) => sync_penalty(*m),
            Self::OverQuota(_) => Penalty::Score(OVER_QUOTA),
            Self::UnwantedRecord(e) if e.is_peer_fault() => Penalty::Score(UNWANTED_RECORD),
            Self::UnwantedRecord(_) => Penalty::None,
            Self::WrongNetwork | Self::GossipScore => Penalty::Ban,
            Self::LightLie(LieKind::InvalidProof(_)) => Penalty::Score(FORGED_PROOF),
            Self::LightLie(LieKind::DeniedProvenItem) => Penalty::Score(DENIED_PROOF),
            Self::BadMessagingRequest(e) => messaging_decode_penalty(e, BAD_REQUEST),
            Self::BadMessagingResponse(e) => messaging_decode_penalty(e, BAD_FRAME),
        }
    }
}

/// The penalty of an invalid block: every rule but the clock's.
pub fn block_penalty(rejection: &Rejection) -> Penalty {
    let error = match rejection {
        Rejection::InvalidAncestor => return Penalty::Score(INVALID_BLOCK),
        Rejection::Rule(error) => error,
    };
    match error {
        // Our clock may be behind theirs: the block may become valid.
        BlockError::TimestampTooFarInFuture { .. } => Penalty::None,
        BlockError::UnsupportedVersion { .. }
        | BlockError::WrongNetwork { .. }
        | BlockError::GenesisHeight
        | BlockError::TooManyItems { .. }
        | BlockError::ItemCountMismatch { .. }
        | BlockError::ItemTooLarge { .. }
        | BlockError::BlockTooLarge { .. }
        | BlockError::InvalidTarget { .. }
        | BlockError::TargetAboveLimit { .. }
        | BlockError::InsufficientWork { .. }
        | BlockError::DuplicateItem { .. }
        | BlockError::MerkleRootMismatch { .. }
        | BlockError::WeakAuthorKey { .. }
        | BlockError::BadSignature { .. }
        | BlockError::PrevHashMismatch { .. }
        | BlockError::WrongHeight { .. }
        | BlockError::WrongTarget { .. }
        | BlockError::TimestampNotAfterParent { .. }
        | BlockError::ItemAlreadyInChain { .. }
        | BlockError::NonceAlreadyUsed { .. }
        | BlockError::DuplicateNonce { .. }
        | BlockError::StateRootMismatch { .. } => Penalty::Score(INVALID_BLOCK),
    }
}

/// The penalty of an item the mempool refused: only an invalid item is the sender's fault.
pub fn item_penalty(error: &MempoolError) -> Penalty {
    match error {
        MempoolError::TooLarge { .. }
        | MempoolError::WeakAuthorKey
        | MempoolError::BadSignature => Penalty::Score(INVALID_GOSSIP),
        MempoolError::Duplicate
        | MempoolError::NonceReused
        | MempoolError::AlreadyInChain
        | MempoolError::AuthorCap { .. }
        | MempoolError::Full => Penalty::None,
    }
}

/// The penalty of bytes that are not a valid chain message, where a bad message costs
/// `points`: every decode failure is the sender's (an honest node never produces one).
fn wire_penalty(error: &DecodeError, points: u32) -> Penalty {
    match error {
        DecodeError::TooLarge { .. }
        | DecodeError::TooMany { .. }
        | DecodeError::Malformed(_)
        | DecodeError::Protobuf(_)
        | DecodeError::Missing(_)
        | DecodeError::BadLength { .. }
        | DecodeError::UnknownItemKind
        | DecodeError::BadAuthorKey
        | DecodeError::WeakAuthorKey
        | DecodeError::ItemTooLarge { .. } => Penalty::Score(points),
    }
}

/// The penalty of a sync message that does not decode, where a bad message costs `points`.
fn sync_decode_penalty(error: &SyncDecodeError, points: u32) -> Penalty {
    match error {
        SyncDecodeError::Wire(e) => wire_penalty(e, points),
        SyncDecodeError::MissingKind(_)
        | SyncDecodeError::ZeroCount(_)
        | SyncDecodeError::CountOverCap { .. }
        | SyncDecodeError::RangeOverflow { .. }
        | SyncDecodeError::BadStateRecord(_) => Penalty::Score(points),
    }
}

/// The penalty of a msg or mailbox message that does not decode, where a bad message costs
/// `points`: the sender's fault (an honest node seals and encodes within every rule), except
/// what a newer build may send (an envelope version, a status code this one does not know).
pub fn messaging_decode_penalty(error: &MessagingDecodeError, points: u32) -> Penalty {
    match error {
        MessagingDecodeError::TooLarge { .. }
        | MessagingDecodeError::Malformed { .. }
        | MessagingDecodeError::Empty(_)
        | MessagingDecodeError::TooMany { .. } => Penalty::Score(points),
        MessagingDecodeError::UnknownStatus { .. } => Penalty::None,
        MessagingDecodeError::Envelope(e) => match e {
            EnvelopeError::UnsupportedVersion(_) => Penalty::None,
            EnvelopeError::BadDid { .. }
            | EnvelopeError::BadMessageId(_)
            | EnvelopeError::FieldTooSmall { .. }
            | EnvelopeError::FieldTooLarge { .. }
            | EnvelopeError::BadSignature
            | EnvelopeError::SelfAddressed => Penalty::Score(points),
        },
    }
}

/// The penalty of what the sync machine judged bad.
pub fn sync_penalty(misbehaviour: Misbehaviour) -> Penalty {
    Penalty::Score(match misbehaviour {
        Misbehaviour::Timeout => 5,
        Misbehaviour::EmptyResponse => 10,
        Misbehaviour::Stalled => 20,
        Misbehaviour::UnbackedClaim => 30,
        Misbehaviour::UnrequestedData | Misbehaviour::TooManyItems => 30,
        Misbehaviour::WrongHeaders
        | Misbehaviour::WrongBlocks
        | Misbehaviour::MismatchedBody
        | Misbehaviour::MalformedMessage => 50,
        Misbehaviour::InvalidBlock | Misbehaviour::InvalidHeader => 100,
        Misbehaviour::WrongNetwork => return Penalty::Ban,
    })
}

/// What gossipsub is told about a block the pipeline judged.
pub fn block_acceptance(outcome: &ImportOutcome) -> Acceptance {
    match outcome {
        ImportOutcome::Imported { .. } => Acceptance::Accept,
        ImportOutcome::AlreadyKnown
        | ImportOutcome::Orphan { .. }
        | ImportOutcome::Stale
        | ImportOutcome::Dropped => Acceptance::Ignore,
        ImportOutcome::Invalid(rejection) => match block_penalty(rejection) {
            Penalty::None => Acceptance::Ignore,
            Penalty::Score(_) | Penalty::Ban => Acceptance::Reject,
        },
    }
}

/// What gossipsub is told about an item the mempool judged.
pub fn item_acceptance(verdict: &Result<Hash256, SubmitError>) -> Acceptance {
    match verdict {
        Ok(_) => Acceptance::Accept,
        Err(SubmitError::Storage(_)) => Acceptance::Ignore,
        Err(SubmitError::Refused(e)) => match item_penalty(e) {
            Penalty::None => Acceptance::Ignore,
            Penalty::Score(_) | Penalty::Ban => Acceptance::Reject,
        },
    }
}

#[cfg(test)]
mod tests;
