//! `GET /metrics` on its own loopback port: the node's registry in the OpenMetrics text format.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::{ServeError, bind_loopback};

/// Content type of the OpenMetrics text format.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Renders the registry as OpenMetrics text (the node's `MetricsHub::encode`).
pub type Encode = Arc<dyn Fn() -> String + Send + Sync>;

async fn metrics(State(encode): State<Encode>) -> impl IntoResponse {
    let text = tokio::task::spawn_blocking(move || encode())
        .await
        .unwrap_or_default();
    ([(CONTENT_TYPE, METRICS_CONTENT_TYPE)], text)
}

/// A bound metrics server, not yet serving.
pub struct MetricsServer {
    listener: TcpListener,
    encode: Encode,
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.listener.local_addr().ok())
            .finish()
    }
}

impl MetricsServer {
    /// Binds `addr` (loopback only).
    pub async fn bind(addr: SocketAddr, encode: Encode) -> Result<Self, ServeError> {
        Ok(Self {
            listener: bind_loopback(addr).await?,
            encode,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.listener.local_addr().map_err(ServeError::Serve)
    }

    /// Serves until `shutdown` completes.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let app = Router::new()
            .route("/metrics", get(metrics))
            .layer(axum::middleware::from_fn(
                crate::host::require_loopback_host,
            ))
            .with_state(self.encode);
        tracing::info!(addr = ?self.listener.local_addr().ok(), "metrics listening");
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServeError::Serve)
    }
}
