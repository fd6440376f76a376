//! Talos chain-sync protocol (`/talos/<network>/sync/1.0.0`): one request, one response per
//! stream.
//!
//! This crate holds the protocol's domain messages ([`SyncRequest`], [`SyncResponse`]), its caps
//! ([`limits`]) and its bounded protobuf codec ([`codec`]). Every decoder checks the byte
//! length, then the counts of repeated elements, before anything is allocated. It also holds the
//! libp2p request-response codec ([`rr_codec`]) and the sans-IO range-sync state machine
//! ([`machine`]).

pub mod codec;
pub mod error;
pub mod limits;
pub mod machine;
pub mod messages;
pub mod rr_codec;

pub use codec::{decode_request, decode_response, encode_request, encode_response};
pub use error::SyncDecodeError;
pub use machine::{
    Action, ChainView, DisconnectReason, Misbehaviour, RequestId, SyncConfig, SyncMachine,
    SyncStatus,
};
pub use messages::{ErrorCode, SyncRequest, SyncResponse};
pub use rr_codec::{InboundRequest, InboundResponse, SyncCodec, protocol_name};
