//! Agent messaging over the API: send, inbox (and its server-sent stream), sessions, and the
//! agent's DID record.
//!
//! | method & path | answer |
//! |---|---|
//! | `POST /v1/messages` | body [`SendRequest`] → 202 [`SendResponse`] (sealed and queued durably; with `"wait": true`, after each is handed over or 30 s) |
//! | `GET /v1/messages?after=N&limit=M&from=DID` | [`InboxJson`]: received messages in arrival order (`from`: one sender's, in its sequence order) |
//! | `DELETE /v1/messages?through=N` | [`DeletedJson`]: deletes received messages numbered up to `N` (the inbox is bounded per sender and in total; deleting makes room) |
//! | `GET /v1/messages/stream` | server-sent `message` events, each an [`InboxMessageJson`] |
//! | `GET /v1/sessions` | [`SessionsJson`] |
//! | `POST /v1/did/publish` | [`DidPublishJson`] |
//! | `GET /v1/did/{did}` | [`DidRecordJson`]: the best valid record (local store and DHT) |

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::ApiState;
use crate::backend::NodeApi;
use crate::error::ApiError;

/// Most messages in one `POST /v1/messages`.
pub const MAX_MESSAGES_PER_SEND: usize = 256;

/// `POST /v1/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    /// A `did:key` or a PeerId.
    pub to: String,
    /// The messages, in order: UTF-8 text, or hex bytes when `hex` is true.
    pub messages: Vec<String>,
    /// Whether `messages` are hex-encoded bytes.
    #[serde(default)]
    pub hex: bool,
    /// Wait until each message is handed over (to the recipient or its mailboxes).
    #[serde(default)]
    pub wait: bool,
}

/// One sent message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentJson {
    /// Message id (32 hex).
    pub message_id: String,
    /// Envelope hash (64 hex): what `talos send --anchor` puts on chain.
    pub envelope_hash: String,
    /// `queued`, `direct`, `mailboxes:<n>`, `refused:<status>` or `pending` (waited 30 s).
    pub delivery: String,
}

/// The answer to a send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResponse {
    /// The recipient's `did:key`.
    pub to: String,
    /// The messages, in order.
    pub messages: Vec<SentJson>,
}

/// A received message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxMessageJson {
    /// Arrival number here.
    pub number: u64,
    /// The sender's `did:key`.
    pub from: String,
    /// Message id (32 hex).
    pub message_id: String,
    /// The sender's sequence number in the conversation.
    pub seq: u64,
    /// The sender's clock when sealed (ms).
    pub sent_ms: u64,
    /// When it arrived here (ms).
    pub received_ms: u64,
    /// `direct` or `mailbox`.
    pub via: String,
    /// The body as text, when it is UTF-8.
    pub text: Option<String>,
    /// The body as hex, when it is not.
    pub hex: Option<String>,
}

/// `GET /v1/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxJson {
    /// Messages in arrival order.
    pub messages: Vec<InboxMessageJson>,
}

/// `DELETE /v1/messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedJson {
    /// Messages deleted.
    pub deleted: u64,
}

/// Query of `DELETE /v1/messages`.
#[derive(Clone, Debug, Deserialize)]
pub struct DeleteQuery {
    /// Delete the messages numbered up to this one.
    pub through: u64,
}

/// One conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionJson {
    /// The peer's `did:key`.
    pub peer: String,
    /// Whether this agent started it.
    pub initiator: bool,
    /// Whether the peer has answered on the current session.
    pub confirmed: bool,
    /// Older sessions kept.
    pub previous_sessions: usize,
    /// Skipped message keys held.
    pub skipped_keys: usize,
    /// Messages to the peer not yet handed over.
    pub outbox: usize,
}

/// `GET /v1/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsJson {
    /// The conversations.
    pub sessions: Vec<SessionJson>,
}

/// `POST /v1/did/publish`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DidPublishJson {
    /// The agent's `did:key`.
    pub did: String,
    /// Peers that stored the record besides this node.
    pub peers: usize,
}

/// `GET /v1/did/{did}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DidRecordJson {
    /// The DID.
    pub did: String,
    /// The record's sequence number.
    pub sequence: u64,
    /// When it was issued (ms).
    pub issued_at_ms: u64,
    /// When it expires (ms).
    pub expires_at_ms: u64,
    /// The W3C DID document.
    pub document: serde_json::Value,
}

/// Query of `GET /v1/messages`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct InboxQuery {
    /// Only messages after this arrival number.
    pub after: Option<u64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<usize>,
    /// Only this sender's, in its sequence order.
    pub from: Option<String>,
}

/// `POST /v1/messages`.
pub(crate) async fn send<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Json(request): Json<SendRequest>,
) -> Result<(StatusCode, Json<SendResponse>), ApiError> {
    if request.messages.is_empty() || request.messages.len() > MAX_MESSAGES_PER_SEND {
        return Err(ApiError::bad_request(format!(
            "`messages` must hold 1 to {MAX_MESSAGES_PER_SEND} messages"
        )));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(s.node.send_messages(request).await?),
    ))
}

/// `GET /v1/messages`.
pub(crate) async fn inbox<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Query(query): Query<InboxQuery>,
) -> Result<Json<InboxJson>, ApiError> {
    Ok(Json(s.node.inbox(query).await?))
}

/// `DELETE /v1/messages`.
pub(crate) async fn delete<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Query(query): Query<DeleteQuery>,
) -> Result<Json<DeletedJson>, ApiError> {
    Ok(Json(s.node.delete_messages(query.through).await?))
}

/// `GET /v1/messages/stream`.
pub(crate) async fn stream<N: NodeApi>(
    State(s): State<ApiState<N>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut stop = s.stop.clone();
    let stopped = async move {
        let _ = stop.wait_for(|v| *v).await;
    };
    let hello = futures::stream::once(async { Ok(Event::default().comment("talos messages")) });
    let messages = s.node.messages().map(|item| {
        Ok(match item {
            Ok(message) => Event::default()
                .event("message")
                .data(serde_json::to_string(&message).unwrap_or_default()),
            Err(missed) => Event::default()
                .event("lagged")
                .data(format!("{{\"missed\":{missed}}}")),
        })
    });
    Sse::new(hello.chain(messages).take_until(Box::pin(stopped)))
        .keep_alive(KeepAlive::new().interval(crate::events::KEEP_ALIVE))
}

/// `GET /v1/sessions`.
pub(crate) async fn sessions<N: NodeApi>(
    State(s): State<ApiState<N>>,
) -> Result<Json<SessionsJson>, ApiError> {
    Ok(Json(s.node.sessions().await?))
}

/// `POST /v1/did/publish`.
pub(crate) async fn publish<N: NodeApi>(
    State(s): State<ApiState<N>>,
) -> Result<Json<DidPublishJson>, ApiError> {
    Ok(Json(s.node.publish_did().await?))
}

/// `GET /v1/did/{did}`.
pub(crate) async fn resolve<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Path(did): Path<String>,
) -> Result<Json<DidRecordJson>, ApiError> {
    Ok(Json(s.node.resolve_did(did).await?))
}
