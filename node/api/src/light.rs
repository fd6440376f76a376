//! The light client's endpoints (`/v1/light/...`) and their JSON.
//!
//! A light node answers them from its header store and the full nodes it asks; a full node
//! answers `404 not_light` for the questions only a light client asks, and serves headers.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use talos_chain::Hash256;
use talos_light::saved::SavedProof;

use crate::ApiState;
use crate::backend::NodeApi;
use crate::error::ApiError;
use crate::types::HeaderJson;

/// Most headers one `GET /v1/light/headers` returns.
pub const MAX_HEADERS_PER_PAGE: usize = 2_000;

/// A question for the light client's full nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LightQuestion {
    /// Is this item in the best chain, at least this deep?
    Item {
        /// The item id.
        id: Hash256,
        /// Confirmations asked for.
        min_confirmations: u64,
    },
    /// Is this capability revoked?
    Revoked {
        /// The capability id.
        capability_id: Hash256,
    },
    /// Which document is current for this `did:key`?
    Did {
        /// The DID.
        did: String,
    },
}

/// A full node that lied, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiarJson {
    /// Its PeerId.
    pub peer_id: String,
    /// `invalid_proof` or `denied_proven_item`.
    pub lie: String,
    /// The failing check, for an invalid proof.
    pub reason: Option<String>,
}

/// The light client's answer to a question (`talos light ...`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LightAnswerJson {
    /// `verified`, `pending`, `not_found`, `invalid`, `off_best_chain`, `ahead_of_tip`,
    /// `no_answer` (item questions); `revoked`, `not_revoked`, `current`, `unknown`,
    /// `invalid`, `off_best_chain`, `no_answer` (state questions).
    pub outcome: String,
    /// Why, for `invalid` (the failing check's code) and `no_answer`.
    pub reason: Option<String>,
    /// The block the answer is about (the item's block, or the block whose state was proven).
    pub block: Option<String>,
    /// Its height.
    pub height: Option<u64>,
    /// Blocks from it to our tip, itself included.
    pub confirmations: Option<u64>,
    /// Confirmations asked for (item questions).
    pub min_confirmations: Option<u64>,
    /// The item that set a state entry (revocation or DID anchor) and its height.
    pub record_item: Option<String>,
    /// The current DID document's hash (DID questions).
    pub document_hash: Option<String>,
    /// The full node whose proof settled the answer.
    pub proven_by: Option<String>,
    /// Every full node asked.
    pub asked: Vec<String>,
    /// Nodes that answered "not found".
    pub not_found: usize,
    /// Nodes that gave no usable answer.
    pub unavailable: usize,
    /// Nodes that lied (penalized).
    pub liars: Vec<LiarJson>,
    /// The settling proof, ready to save for `talos verify-proof`.
    pub proof: Option<SavedProof>,
}

/// `GET /v1/light/headers` query.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct HeadersQuery {
    /// First height.
    #[serde(default)]
    pub from: u64,
    /// Most headers (capped at [`MAX_HEADERS_PER_PAGE`]).
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_limit() -> usize {
    100
}

/// `?min_confirmations=N`.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct ConfirmationsQuery {
    /// Confirmations asked for (default 1).
    #[serde(default = "one")]
    pub min_confirmations: u64,
}

fn one() -> u64 {
    1
}

/// `GET /v1/light/headers`: best-chain headers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadersJson {
    /// Headers from `from` upwards.
    pub headers: Vec<HeaderJson>,
}

fn parse_hash(what: &str, s: &str) -> Result<Hash256, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} must be 64 hex characters")))
}

/// `GET /v1/light/headers?from=H&limit=N`.
pub(crate) async fn headers<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Query(q): Query<HeadersQuery>,
) -> Result<Json<HeadersJson>, ApiError> {
    let headers = s
        .node
        .headers(q.from, q.limit.min(MAX_HEADERS_PER_PAGE))
        .await?;
    Ok(Json(HeadersJson {
        headers: headers.iter().map(HeaderJson::from).collect(),
    }))
}

/// `GET /v1/light/verify/{item_id}?min_confirmations=N`.
pub(crate) async fn verify<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Path(id): Path<String>,
    Query(q): Query<ConfirmationsQuery>,
) -> Result<Json<LightAnswerJson>, ApiError> {
    let id = parse_hash("item id", &id)?;
    let question = LightQuestion::Item {
        id,
        min_confirmations: q.min_confirmations,
    };
    Ok(Json(s.node.light_query(question).await?))
}

/// `GET /v1/light/revoked/{capability_id}`.
pub(crate) async fn revoked<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Path(id): Path<String>,
) -> Result<Json<LightAnswerJson>, ApiError> {
    let capability_id = parse_hash("capability id", &id)?;
    Ok(Json(
        s.node
            .light_query(LightQuestion::Revoked { capability_id })
            .await?,
    ))
}

/// `GET /v1/light/did/{did}`.
pub(crate) async fn did<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Path(did): Path<String>,
) -> Result<Json<LightAnswerJson>, ApiError> {
    if did.len() > 128 {
        return Err(ApiError::bad_request("a did:key is at most 128 characters"));
    }
    Ok(Json(s.node.light_query(LightQuestion::Did { did }).await?))
}

/// `POST /v1/light/verify-proof?min_confirmations=N` with a saved proof as the body: checked
/// against the local header store, no full node asked.
pub(crate) async fn verify_proof<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Query(q): Query<ConfirmationsQuery>,
    Json(proof): Json<SavedProof>,
) -> Result<Json<LightAnswerJson>, ApiError> {
    Ok(Json(s.node.verify_saved(proof, q.min_confirmations).await?))
}
