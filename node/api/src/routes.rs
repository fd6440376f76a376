//! The `/v1` handlers over a [`NodeApi`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use talos_chain::{Hash256, Limits};

use crate::ApiState;
use crate::backend::{BlockKey, FoundItem, NodeApi};
use crate::error::ApiError;
use crate::types::{
    BlockJson, HeadJson, HeaderJson, ItemJson, ItemStatusJson, LocationJson, NodeStatus, PeersJson,
    ProofJson, SubmitRequest, SubmitResponse,
};

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

fn parse_hash(what: &str, s: &str) -> Result<Hash256, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} must be 64 hex characters")))
}

/// `GET /v1/status`.
pub(crate) async fn status<N: NodeApi>(
    State(s): State<ApiState<N>>,
) -> Result<Json<NodeStatus>, ApiError> {
    Ok(Json(s.node.status().await?))
}

/// `GET /v1/peers`.
pub(crate) async fn peers<N: NodeApi>(
    State(s): State<ApiState<N>>,
) -> Result<Json<PeersJson>, ApiError> {
    Ok(Json(PeersJson {
        peers: s.node.peers().await?,
    }))
}

/// `GET /v1/chain/head`.
pub(crate) async fn head<N: NodeApi>(
    State(s): State<ApiState<N>>,
) -> Result<Json<HeadJson>, ApiError> {
    let (tip, header) = s.node.head().await?;
    Ok(Json(HeadJson {
        id: tip.id.to_hex(),
        height: tip.height,
        cumulative_work: tip.cumulative_work.to_string(),
        header: HeaderJson::from(&header),
    }))
}

/// A block height (decimal) or id (64 hex).
fn block_key(key: &str) -> Result<BlockKey, ApiError> {
    if key.len() == 64 {
        return parse_hash("block id", key).map(BlockKey::Id);
    }
    key.parse::<u64>().map(BlockKey::Height).map_err(|_| {
        ApiError::bad_request("expected a block height (decimal) or a block id (64 hex)")
    })
}

/// `GET /v1/chain/block/{height_or_hash}`: a best-chain block by decimal height, or any
/// stored block by 64-hex id.
pub(crate) async fn block<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Path(key): Path<String>,
) -> Result<Json<BlockJson>, ApiError> {
    let (block, position) = s
        .node
        .block(block_key(&key)?)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no block {key}")))?;
    Ok(Json(BlockJson::new(&block, position)))
}

/// `GET /v1/items/{id}`: confirmed (best chain, with location) or pending (mempool).
pub(crate) async fn item<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Path(id): Path<String>,
) -> Result<Json<ItemStatusJson>, ApiError> {
    let id = parse_hash("item id", &id)?;
    match s.node.item(id).await? {
        Some(FoundItem::Confirmed {
            item,
            location,
            tip_height,
        }) => Ok(Json(ItemStatusJson {
            status: "confirmed".into(),
            item: ItemJson::from(&item),
            location: Some(LocationJson::new(&location, tip_height)),
        })),
        Some(FoundItem::Pending(item)) => Ok(Json(ItemStatusJson {
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
pub(crate) async fn proof<N: NodeApi>(
    State(s): State<ApiState<N>>,
    Path(id): Path<String>,
) -> Result<Json<ProofJson>, ApiError> {
    let id = parse_hash("item id", &id)?;
    let proof = s.node.proof(id).await?.ok_or_else(|| {
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
pub(crate) async fn submit<N: NodeApi>(
    State(s): State<ApiState<N>>,
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
    let id = s.node.submit(item).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_keys_are_heights_or_ids() {
        assert_eq!(block_key("12").unwrap(), BlockKey::Height(12));
        let id = Hash256([0xab; 32]);
        assert_eq!(block_key(&id.to_hex()).unwrap(), BlockKey::Id(id));
        assert_eq!(block_key("tip").unwrap_err().code, "bad_request");
        assert_eq!(block_key(&"z".repeat(64)).unwrap_err().code, "bad_request");
    }
}
