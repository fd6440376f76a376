//! Talos chain-sync protocol (`/talos/<network>/sync/1.0.0`): one request, one response per
//! stream.
//!
//! This crate holds the protocol's domain messages ([`SyncRequest`], [`SyncResponse`]), its caps
//! ([`limits`]) and its bounded protobuf codec ([`codec`]). Every decoder checks the byte
//! length, then the counts of repeated elements, before anything is allocated. It also holds the
//! sans-IO halves of both ends of the protocol: the range-sync state machine ([`machine`]) and
//! the answering of peers' requests from a [`server::ServeChain`] ([`server`]), plus the typed
//! reading of answers to requests sent to one peer outside the machine ([`query`]). The machine also runs
//! headers-only ([`SyncConfig::headers_only`], a light client). The libp2p
//! request-response codec ([`rr_codec`]) is behind the `libp2p` feature; the test chain and the
//! virtual-time network behind `testkit`.

pub mod codec;
pub mod error;
pub mod limits;
pub mod machine;
pub mod messages;
pub mod query;
#[cfg(feature = "libp2p")]
pub mod rr_codec;
pub mod server;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use codec::{decode_request, decode_response, encode_request, encode_response};
pub use error::SyncDecodeError;
pub use machine::{
    Action, ChainView, DisconnectReason, Misbehaviour, RequestId, SyncConfig, SyncMachine,
    SyncStatus,
};
pub use messages::{ErrorCode, SyncRequest, SyncResponse};
pub use query::{AnswerError, read_answer};
#[cfg(feature = "libp2p")]
pub use rr_codec::{InboundRequest, InboundResponse, SyncCodec};
pub use server::{ServeChain, answer, error_response};

/// The protocol id of chain sync on `network`: `/talos/<network>/sync/1.0.0`.
pub fn protocol_id(network: &str) -> String {
    format!("/talos/{network}/sync/1.0.0")
}
