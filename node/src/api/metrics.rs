//! `GET /metrics` on its own loopback port: the shared registry in the OpenMetrics text
//! format.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use super::{ServeError, bind_loopback};
use crate::metrics::MetricsHub;

/// Content type of the OpenMetrics text format.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

async fn metrics(State(hub): State<MetricsHub>) -> impl IntoResponse {
    let text = tokio::task::spawn_blocking(move || hub.encode())
        .await
        .unwrap_or_default();
    ([(CONTENT_TYPE, METRICS_CONTENT_TYPE)], text)
}

/// A bound metrics server, not yet serving.
#[derive(Debug)]
pub struct MetricsServer {
    listener: TcpListener,
    hub: MetricsHub,
}

impl MetricsServer {
    /// Binds `addr` (loopback only).
    pub async fn bind(addr: SocketAddr, hub: MetricsHub) -> Result<Self, ServeError> {
        Ok(Self {
            listener: bind_loopback(addr).await?,
            hub,
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
            .with_state(self.hub);
        tracing::info!(addr = ?self.listener.local_addr().ok(), "metrics listening");
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServeError::Serve)
    }
}

/// Serves `GET /metrics` on `addr` (loopback only) until `shutdown` completes.
pub async fn serve_metrics(
    addr: SocketAddr,
    hub: MetricsHub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    MetricsServer::bind(addr, hub).await?.run(shutdown).await
}
