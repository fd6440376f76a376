//! The local HTTP/JSON API (axum), bound to loopback only and authorized by a cookie file, and
//! the metrics endpoint on its own loopback port.
//!
//! Every `/v1` request needs `Authorization: Bearer <cookie>`, where the cookie is the content
//! of `api.cookie` in the data dir (32 random bytes as hex, mode 0600, rewritten on every
//! start). Errors are JSON: `{"error": {"code": "...", "message": "..."}}` ([`ErrorBody`]).
//!
//! | method & path | answer |
//! |---|---|
//! | `GET /v1/status` | [`crate::handle::NodeStatus`] |
//! | `GET /v1/peers` | `{"peers": [PeerInfo]}` |
//! | `GET /v1/chain/head` | [`HeadJson`] |
//! | `GET /v1/chain/block/{height_or_hash}` | [`BlockJson`] |
//! | `GET /v1/items/{id}` | [`ItemStatusJson`] (`confirmed` with location, or `pending`) |
//! | `GET /v1/proof/{id}` | [`ProofJson`] (verified here before it is returned) |
//! | `POST /v1/items` | body [`SubmitRequest`] `{"item": "<hex protobuf SignedItem>"}` → 202 [`SubmitResponse`] |
//! | `GET /v1/events` | server-sent events `new_tip`, `new_item`, `lagged` |
//!
//! Metrics: `GET /metrics` on the metrics port (no cookie; loopback only), OpenMetrics text.

mod auth;
mod error;
mod events;
pub mod json;
mod metrics;
mod routes;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use auth::{read_cookie, write_cookie};
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use json::{
    BlockJson, HeadJson, HeaderJson, ItemJson, ItemStatusJson, KindJson, LocationJson, ProofJson,
    SubmitRequest, SubmitResponse,
};
pub use metrics::{METRICS_CONTENT_TYPE, MetricsServer, serve_metrics};

use crate::handle::NodeHandle;
use crate::identity::IdentityError;

/// Name of the cookie file in the data dir.
pub const COOKIE_FILE: &str = "api.cookie";

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
    /// The cookie file could not be written.
    #[error("API cookie: {0}")]
    Cookie(#[from] IdentityError),
    /// The server failed while running.
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// State shared by the handlers.
#[derive(Clone)]
pub(crate) struct ApiState {
    pub(crate) handle: NodeHandle,
    /// Turns `true` at shutdown: ends event streams so graceful shutdown can finish.
    pub(crate) stop: watch::Receiver<bool>,
}

/// The API routes over `handle`, behind the cookie check.
fn router(handle: NodeHandle, cookie: Arc<str>, stop: watch::Receiver<bool>) -> Router {
    let state = ApiState { handle, stop };
    Router::new()
        .route("/v1/status", get(routes::status))
        .route("/v1/peers", get(routes::peers))
        .route("/v1/chain/head", get(routes::head))
        .route("/v1/chain/block/{key}", get(routes::block))
        .route("/v1/items/{id}", get(routes::item))
        .route("/v1/items", post(routes::submit))
        .route("/v1/proof/{id}", get(routes::proof))
        .route("/v1/events", get(events::events))
        .fallback(routes::fallback)
        .layer(DefaultBodyLimit::max(routes::MAX_SUBMIT_BODY))
        .layer(axum::middleware::from_fn_with_state(
            cookie,
            auth::require_cookie,
        ))
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
pub struct ApiServer {
    listener: TcpListener,
    handle: NodeHandle,
    cookie: Arc<str>,
}

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer")
            .field("addr", &self.listener.local_addr().ok())
            .finish()
    }
}

impl ApiServer {
    /// Binds `addr` (loopback only) and writes a fresh cookie to `cookie_path` (0600).
    pub async fn bind(
        addr: SocketAddr,
        cookie_path: &Path,
        handle: NodeHandle,
    ) -> Result<Self, ServeError> {
        let listener = bind_loopback(addr).await?;
        let cookie: Arc<str> = write_cookie(cookie_path)?.into();
        Ok(Self {
            listener,
            handle,
            cookie,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.listener.local_addr().map_err(ServeError::Serve)
    }

    /// The cookie clients must present.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and closes event
    /// streams.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let app = router(self.handle, self.cookie, stop_rx);
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

/// Serves the local API on `addr` (loopback only) with a fresh cookie in `cookie_path` until
/// `shutdown` completes.
pub async fn serve(
    addr: SocketAddr,
    cookie_path: &Path,
    handle: NodeHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    ApiServer::bind(addr, cookie_path, handle)
        .await?
        .run(shutdown)
        .await
}
