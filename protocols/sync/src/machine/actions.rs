//! What the machine asks the node to do: [`Action`]s, and the types they carry.

use std::collections::VecDeque;
use std::fmt;

use talos_chain::{Block, BlockHeader};

use crate::messages::SyncRequest;

/// Id of a request the machine asked the node to send; the node reports the answer (or the
/// failure) under the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sync-req-{}", self.0)
    }
}

/// Something a peer did wrong, with a stable code. What it costs the peer is the node's
/// policy (`talos-network`'s `policy` module).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Misbehaviour {
    /// Answered a request for data it claims to have with nothing.
    EmptyResponse,
    /// Headers that do not link, are at the wrong heights, miss their own target or belong to
    /// another network.
    WrongHeaders,
    /// Blocks that do not match the headers accepted for the range, or are at the wrong
    /// heights.
    WrongBlocks,
    /// A block whose header is the accepted one but whose body does not match it (item count
    /// or Merkle root): the server's fault, never the block's.
    MismatchedBody,
    /// A response of the wrong kind, or blocks that were not asked for.
    UnrequestedData,
    /// More elements than asked for.
    TooManyItems,
    /// No answer in time (or the stream failed).
    Timeout,
    /// As the target of a round, failed to answer for its own headers (no answer, busy, an
    /// error) or let the round go without progress: it loses the round to other peers.
    Stalled,
    /// Its headers, checked, carry less work than the status it claimed.
    UnbackedClaim,
    /// A block that failed validation on import.
    InvalidBlock,
    /// A header that failed validation in a headers-only node's header store (a rule the
    /// machine's own header checks do not cover, such as the header version).
    InvalidHeader,
    /// Another network id or genesis.
    WrongNetwork,
    /// Bytes that do not decode as a sync message.
    MalformedMessage,
}

impl Misbehaviour {
    /// Stable code (metrics label, logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyResponse => "empty_response",
            Self::WrongHeaders => "wrong_headers",
            Self::WrongBlocks => "wrong_blocks",
            Self::MismatchedBody => "mismatched_body",
            Self::UnrequestedData => "unrequested_data",
            Self::TooManyItems => "too_many_items",
            Self::Timeout => "timeout",
            Self::Stalled => "stalled",
            Self::UnbackedClaim => "unbacked_claim",
            Self::InvalidBlock => "invalid_block",
            Self::InvalidHeader => "invalid_header",
            Self::WrongNetwork => "wrong_network",
            Self::MalformedMessage => "malformed_message",
        }
    }
}

impl fmt::Display for Misbehaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why the machine asks to drop a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The peer's status names another network id or genesis.
    WrongNetwork,
}

impl DisconnectReason {
    /// Stable code (metrics label, logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongNetwork => "wrong_network",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An instruction for the node, drained with [`crate::machine::SyncMachine::poll_action`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<P> {
    /// Send `request` to `peer` and report the answer with
    /// [`crate::machine::SyncMachine::on_response`] (or the failure with
    /// [`crate::machine::SyncMachine::on_request_failed`]) under `id`.
    Send {
        /// The peer.
        peer: P,
        /// The machine's id for this request.
        id: RequestId,
        /// The request.
        request: SyncRequest,
    },
    /// Hand these blocks to the import pipeline, in this order: parent first, each the child
    /// of the one before.
    Import {
        /// The peer that served them (blame for invalid ones).
        peer: P,
        /// The blocks.
        blocks: Vec<Block>,
    },
    /// Headers-only mode ([`crate::SyncConfig::headers_only`]): store these headers, in this
    /// order (parent first, each the child of the one before, the first building on a stored
    /// header), then report with [`crate::machine::SyncMachine::on_blocks_imported`] (or a
    /// rejected one with [`crate::machine::SyncMachine::on_import_failed`]). Checked against
    /// the chain rules from their parents already, and together heavier than the local chain.
    ImportHeaders {
        /// The peer that served them (blame for invalid ones).
        peer: P,
        /// The headers, at most [`crate::SyncConfig::headers_per_request`].
        headers: Vec<BlockHeader>,
    },
    /// Lower the peer's score.
    Penalize {
        /// The peer.
        peer: P,
        /// What it did.
        misbehaviour: Misbehaviour,
    },
    /// Close the connections to the peer.
    Disconnect {
        /// The peer.
        peer: P,
        /// Why.
        reason: DisconnectReason,
    },
}

/// Whether the machine is catching up with a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// No peer is known to have more work than us.
    Idle,
    /// Downloading a heavier chain.
    Syncing {
        /// Height of the tip being synced to.
        target_height: u64,
    },
}

/// The bounded output queue.
#[derive(Debug)]
pub(crate) struct ActionQueue<P> {
    queue: VecDeque<Action<P>>,
    cap: usize,
    dropped: u64,
}

impl<P> ActionQueue<P> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            queue: VecDeque::new(),
            cap,
            dropped: 0,
        }
    }

    /// Whether a request or an import may be queued now.
    pub(crate) fn has_room(&self) -> bool {
        self.queue.len() < self.cap
    }

    /// Queues a request or an import; the caller checked [`ActionQueue::has_room`].
    pub(crate) fn push(&mut self, action: Action<P>) {
        self.queue.push_back(action);
    }

    /// Queues a penalty or disconnect, dropping it when even the extra room is used.
    pub(crate) fn push_control(&mut self, action: Action<P>) {
        if self.queue.len() < self.cap.saturating_mul(2) {
            self.queue.push_back(action);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }

    pub(crate) fn pop(&mut self) -> Option<Action<P>> {
        self.queue.pop_front()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}
