//! Publishing and resolving agents' DID records over Kademlia ([`crate::NetCommand::PublishDid`],
//! [`crate::NetCommand::ResolveDid`]): the results the node gets, and the bookkeeping of the
//! queries in flight.
//!
//! A published record is judged like any a peer puts ([`crate::records`]), stored locally,
//! then put to the closest peers. A resolution takes the better of the local store's record and
//! the first valid record the query finds (the query stops there: waiting for every closest
//! peer would wait for the slowest), each validated under its key; a peer that serves a forged or
//! malformed record is penalized like one that puts it.

use std::collections::HashMap;

use libp2p::kad::QueryId;
use talos_identity::ValidRecord;
use tokio::sync::oneshot;

use crate::records::RecordError;

/// Most DID queries in flight at once.
pub const MAX_DID_QUERIES: usize = 64;

/// Why a DID query gave no result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DidQueryError {
    /// The record to publish does not validate, or loses to the one stored.
    #[error("record refused: {0}")]
    Refused(RecordError),
    /// No valid record of this DID was found.
    #[error("no valid record of this DID was found")]
    NotFound,
    /// Not a `did:key` whose record can be looked up.
    #[error("not an Ed25519 did:key: {0}")]
    BadDid(talos_identity::DidError),
    /// Too many DID queries in flight.
    #[error("too many DID queries in flight")]
    TooManyInFlight,
    /// The local record store refused it (full).
    #[error("local record store: {0}")]
    Store(String),
}

impl DidQueryError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(e) => e.code(),
            Self::NotFound => "not_found",
            Self::BadDid(e) => e.code(),
            Self::TooManyInFlight => "too_many_in_flight",
            Self::Store(_) => "store_full",
        }
    }
}

/// What publishing came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// Peers that stored it besides this node (of the closest ones it was put to).
    pub peers: usize,
}

/// A publication's answer.
pub type PublishResult = Result<Published, DidQueryError>;
/// A resolution's answer.
pub type ResolveResult = Result<ValidRecord, DidQueryError>;

/// A query in flight.
#[derive(Debug)]
pub(crate) enum PendingDid {
    Publish(oneshot::Sender<PublishResult>),
    Resolve(Box<Resolving>),
}

/// A resolution in flight: the record key and the best valid record so far.
#[derive(Debug)]
pub(crate) struct Resolving {
    pub(crate) key: Vec<u8>,
    pub(crate) best: Option<ValidRecord>,
    pub(crate) reply: oneshot::Sender<ResolveResult>,
}

/// The DID queries in flight, by Kademlia query id.
#[derive(Debug, Default)]
pub(crate) struct PendingDids(HashMap<QueryId, PendingDid>);

impl PendingDids {
    pub(crate) fn has_room(&self) -> bool {
        self.0.len() < MAX_DID_QUERIES
    }

    pub(crate) fn insert(&mut self, id: QueryId, pending: PendingDid) {
        self.0.insert(id, pending);
    }

    pub(crate) fn get_mut(&mut self, id: &QueryId) -> Option<&mut PendingDid> {
        self.0.get_mut(id)
    }

    pub(crate) fn take(&mut self, id: &QueryId) -> Option<PendingDid> {
        self.0.remove(id)
    }
}

/// Of two valid records of one DID, the one to keep: the higher sequence (the first on a tie
/// or an equivocation).
pub(crate) fn better(current: Option<ValidRecord>, found: ValidRecord) -> ValidRecord {
    match current {
        Some(current) if !found.supersedes(&current) => current,
        _ => found,
    }
}
