//! The Talos node's local HTTP/JSON API (axum), bound to loopback only and authorized by a
//! cookie, and the metrics endpoint on its own loopback port.
//!
//! Every `/v1` request needs `Authorization: Bearer <cookie>`, where the cookie is the secret
//! the node writes to `api.cookie` in its data dir (32 random bytes as hex, mode 0600,
//! rewritten on every start). Errors are JSON: `{"error": {"code": "...", "message": "..."}}`
//! ([`ErrorBody`]). Every request and response shape is in [`types`], which clients parse too.
//!
//! | method & path | answer |
//! |---|---|
//! | `GET /v1/status` | [`types::NodeStatus`] |
//! | `GET /v1/peers` | [`types::PeersJson`] |
//! | `GET /v1/chain/head` | [`types::HeadJson`] |
//! | `GET /v1/chain/block/{height_or_hash}` | [`types::BlockJson`] |
//! | `GET /v1/items/{id}` | [`types::ItemStatusJson`] (`confirmed` with location, or `pending`) |
//! | `GET /v1/proof/{id}` | [`types::ProofJson`] (verified here before it is returned) |
//! | `POST /v1/items` | body [`types::SubmitRequest`] `{"item": "<hex protobuf SignedItem>"}` → 202 [`types::SubmitResponse`] |
//! | `GET /v1/events` | server-sent [`types::EventJson`]s: `new_tip`, `block_imported`, `new_item`, `lagged` |
//! | `POST /v1/messages`, `GET /v1/messages`, `DELETE /v1/messages`, `GET /v1/messages/stream`, `GET /v1/sessions`, `POST /v1/did/publish`, `GET /v1/did/{did}` | agent messaging: see [`agent`] |
//!
//! Metrics: `GET /metrics` on the metrics port (no cookie; loopback only), OpenMetrics text.
//!
//! Both servers answer only a loopback `Host` (`localhost`, 127/8, `[::1]`, any port); any
//! other gets 403 `forbidden_host` before the cookie is looked at, so a web page that
//! re-points its own name at 127.0.0.1 (DNS rebinding) reads nothing.
//! The node behind the routes is any [`NodeApi`].

pub mod agent;
mod auth;
pub mod backend;
mod error;
mod events;
mod host;
pub mod light;
mod metrics;
mod routes;
pub mod types;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use backend::{
    BackendError, BlockKey, ChainPosition, EventOrLag, FoundItem, NodeApi, SubmitRejection,
};
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use metrics::{Encode, METRICS_CONTENT_TYPE, MetricsServer};

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not loopback.
    #[error(
        "{addr} is not a loopback address: the local API and metrics only listen on 127.0.0.1 or ::1"
    )]
    NotLoopback {
        /// The address.
        addr: SocketAddr,
    },
    /// Binding failed.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// State shared by the handlers.
pub(crate) struct ApiState<N> {
    pub(crate) node: N,
    /// Turns `true` at shutdown: ends event streams so graceful shutdown can finish.
    pub(crate) stop: watch::Receiver<bool>,
}

impl<N: Clone> Clone for ApiState<N> {
    fn clone(&self) -> Self {
        Self {
            node: self.node.clone(),
            stop: self.stop.clone(),
        }
    }
}

/// The API routes over `node`, behind the cookie check.
fn router<N: NodeApi>(node: N, cookie: Arc<str>, stop: watch::Receiver<bool>) -> Router {
    let state = ApiState { node, stop };
    Router::new()
        .route("/v1/status", get(routes::status::<N>))
        .route("/v1/peers", get(routes::peers::<N>))
        .route("/v1/chain/head", get(routes::head::<N>))
        .route("/v1/chain/block/{key}", get(routes::block::<N>))
        .route("/v1/items/{id}", get(routes::item::<N>))
        .route("/v1/items", post(routes::submit::<N>))
        .route("/v1/proof/{id}", get(routes::proof::<N>))
        .route("/v1/events", get(events::events::<N>))
        .route(
            "/v1/messages",
            post(agent::send::<N>)
                .get(agent::inbox::<N>)
                .delete(agent::delete::<N>),
        )
        .route("/v1/messages/stream", get(agent::stream::<N>))
        .route("/v1/sessions", get(agent::sessions::<N>))
        .route("/v1/did/publish", post(agent::publish::<N>))
        .route("/v1/did/{did}", get(agent::resolve::<N>))
        .route("/v1/light/status", get(routes::status::<N>))
        .route("/v1/light/headers", get(light::headers::<N>))
        .route("/v1/light/verify/{id}", get(light::verify::<N>))
        .route("/v1/light/revoked/{id}", get(light::revoked::<N>))
        .route("/v1/light/did/{did}", get(light::did::<N>))
        .route("/v1/light/verify-proof", post(light::verify_proof::<N>))
        .fallback(routes::fallback)
        .layer(DefaultBodyLimit::max(routes::MAX_SUBMIT_BODY))
        .layer(axum::middleware::from_fn_with_state(
            cookie,
            auth::require_cookie,
        ))
        .layer(axum::middleware::from_fn(host::require_loopback_host))
        .with_state(state)
}

pub(crate) async fn bind_loopback(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback { addr });
    }
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// A bound API server, not yet serving.
pub struct ApiServer<N> {
    listener: TcpListener,
    node: N,
    cookie: Arc<str>,
}

impl<N> std::fmt::Debug for ApiServer<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer")
            .field("addr", &self.listener.local_addr().ok())
            .finish()
    }
}

impl<N: NodeApi> ApiServer<N> {
    /// Binds `addr` (loopback only); requests must carry `cookie`.
    pub async fn bind(addr: SocketAddr, cookie: &str, node: N) -> Result<Self, ServeError> {
        let listener = bind_loopback(addr).await?;
        Ok(Self {
            listener,
            node,
            cookie: cookie.into(),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.listener.local_addr().map_err(ServeError::Serve)
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and closes event
    /// streams.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let app = router(self.node, self.cookie, stop_rx);
        let addr = self.listener.local_addr().ok();
        tracing::info!(addr = ?addr, "local API listening");
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                let _ = stop_tx.send(true);
            })
            .await
            .map_err(ServeError::Serve)
    }
}
