//! The `/v1` handlers over [`NodeHandle`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use talos_chain::{Hash256, Limits};

use super::ApiState;
use super::error::ApiError;
use super::json::{
    BlockJson, HeadJson, HeaderJson, ItemJson, ItemStatusJson, LocationJson, ProofJson,
    SubmitRequest, SubmitResponse,
};
use crate::handle::{HandleError, NodeHandle, NodeStatus};

/// Limits used to decode a submitted item before the chain service checks it against the
/// network's own (smaller) limits: they only bound the work the API does.
pub(crate) const SUBMIT_DECODE_LIMITS: Limits = Limits {
    max_block_bytes: 2 << 20,
    max_item_bytes: 1 << 20,
    max_items_per_block: 1,
    mempool_max_items: 1,
    mempool_max_bytes: 1 << 20,
    mempool_max_per_author: 1,
};

/// Largest `POST /v1/items` body: the hex of the largest decodable item plus JSON framing.
pub(crate) const MAX_SUBMIT_BODY: usize = 2 * (SUBMIT_DECODE_LIMITS.max_item_bytes + 4096) + 1024;

/// Runs a store read on the blocking pool (sled reads may touch the disk).
async fn blocking<T, F>(handle: &NodeHandle, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&NodeHandle) -> Result<T, HandleError> + Send + 'static,
{
    let handle = handle.clone();
    tokio::task::spawn_blocking(move || f(&handle))
        .await
        .map_err(|e| ApiError::internal(format!("store read task failed: {e}")))?
        .map_err(ApiError::from)
}

fn parse_hash(what: &str, s: &str) -> Result<Hash256, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} must be 64 hex characters")))
}

/// `GET /v1/status`.
pub(crate) async fn status(State(s): State<ApiState>) -> Result<Json<NodeStatus>, ApiError> {
    Ok(Json(s.handle.status().await?))
}

/// `GET /v1/peers`.
pub(crate) async fn peers(State(s): State<ApiState>) -> Result<Json<serde_json::Value>, ApiError> {
    let peers = s.handle.peers().await?;
    Ok(Json(serde_json::json!({ "peers": peers })))
}

/// `GET /v1/chain/head`.
pub(crate) async fn head(State(s): State<ApiState>) -> Result<Json<HeadJson>, ApiError> {
    let (tip, entry) = blocking(&s.handle, |h| {
        let tip = h.tip()?;
        let entry = h
            .store()
            .header(&tip.id)
            .map_err(|e| HandleError::Storage(e.to_string()))?;
        Ok((tip, entry))
    })
    .await?;
    let entry = entry.ok_or_else(|| ApiError::internal("tip header missing from the store"))?;
    Ok(Json(HeadJson {
        id: tip.id.to_hex(),
        height: tip.height,
        cumulative_work: tip.cumulative_work.to_string(),
        header: HeaderJson::from(&entry.header),
    }))
}

/// `GET /v1/chain/block/{height_or_hash}`: a best-chain block by decimal height, or any
/// stored block by 64-hex id.
pub(crate) async fn block(
    State(s): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<BlockJson>, ApiError> {
    let by_height = if key.len() == 64 {
        None
    } else {
        Some(key.parse::<u64>().map_err(|_| {
            ApiError::bad_request("expected a block height (decimal) or a block id (64 hex)")
        })?)
    };
    let hash = match by_height {
        Some(_) => None,
        None => Some(parse_hash("block id", &key)?),
    };
    let found = blocking(&s.handle, move |h| {
        let block = match (by_height, hash) {
            (Some(height), _) => h.block_at(height)?,
            (None, Some(id)) => h.block(&id)?,
            (None, None) => None,
        };
        match block {
            Some(b) => {
                let best = h
                    .store()
                    .is_best_chain(&b.id())
                    .map_err(|e| HandleError::Storage(e.to_string()))?;
                Ok(Some(BlockJson::new(&b, best)))
            }
            None => Ok(None),
        }
    })
    .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no block {key}")))
}

/// `GET /v1/items/{id}`: confirmed (best chain, with location) or pending (mempool).
pub(crate) async fn item(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<ItemStatusJson>, ApiError> {
    let id = parse_hash("item id", &id)?;
    let confirmed = blocking(&s.handle, move |h| {
        let found = h.item(&id)?;
        let tip = h.tip()?;
        Ok(found.map(|(item, loc)| (item, loc, tip.height)))
    })
    .await?;
    if let Some((item, loc, tip_height)) = confirmed {
        return Ok(Json(ItemStatusJson {
            status: "confirmed".into(),
            item: ItemJson::from(&item),
            location: Some(LocationJson::new(&loc, tip_height)),
        }));
    }
    match s.handle.mempool_item(id).await? {
        Some(item) => Ok(Json(ItemStatusJson {
            status: "pending".into(),
            item: ItemJson::from(&item),
            location: None,
        })),
        None => Err(ApiError::not_found(format!(
            "no item {id} in the best chain or the mempool"
        ))),
    }
}

/// `GET /v1/proof/{id}`: the SPV proof of a best-chain item, checked here first.
pub(crate) async fn proof(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<ProofJson>, ApiError> {
    let id = parse_hash("item id", &id)?;
    let proof = blocking(&s.handle, move |h| h.proof(&id))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no item {id} in the best chain (pending items have no proof yet)"
            ))
        })?;
    // Hashing and a signature check: small, but not for the async workers.
    let json = tokio::task::spawn_blocking(move || ProofJson::from(&proof))
        .await
        .map_err(|e| ApiError::internal(format!("proof task failed: {e}")))?;
    Ok(Json(json))
}

/// `POST /v1/items`: body `{"item": "<hex of the protobuf SignedItem>"}`.
pub(crate) async fn submit(
    State(s): State<ApiState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SubmitResponse>), ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(e.status(), "body_too_large", e.body_text())
        } else {
            ApiError::bad_request(e.body_text())
        }
    })?;
    let request: SubmitRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{\"item\": \"<hex protobuf SignedItem>\"}}: {e}"
        ))
    })?;
    let bytes = hex::decode(request.item.trim())
        .map_err(|e| ApiError::bad_request(format!("`item` is not hex: {e}")))?;
    let item = talos_chain::wire::decode_item(&bytes, &SUBMIT_DECODE_LIMITS).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_item",
            format!("{}: {e}", e.code()),
        )
    })?;
    let id = s.handle.submit_item(item).await??;
    Ok((
        StatusCode::ACCEPTED,
        Json(SubmitResponse {
            id: id.to_hex(),
            status: "pending".into(),
        }),
    ))
}

/// Any other path.
pub(crate) async fn fallback() -> ApiError {
    ApiError::not_found("no such endpoint; see the README's API section")
}
