//! Talos chain-sync protocol (`/talos/<network>/sync/1.0.0`): one request, one response per
//! stream.
//!
//! This crate holds the protocol's domain messages ([`SyncRequest`], [`SyncResponse`]), its caps
//! ([`limits`]) and its bounded protobuf codec ([`codec`]). Every decoder checks the byte
//! length, then the counts of repeated elements, before anything is allocated. The libp2p
//! behaviour and the range-sync state machine build on these.

pub mod codec;
pub mod error;
pub mod limits;
pub mod messages;

pub use codec::{decode_request, decode_response, encode_request, encode_response};
pub use error::SyncDecodeError;
pub use messages::{ErrorCode, SyncRequest, SyncResponse};
