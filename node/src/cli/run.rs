//! `talos run`: start the node, the local API and the metrics endpoint; stop cleanly on
//! SIGINT/SIGTERM.

use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use crate::api::{ApiServer, MetricsServer};
use crate::config::Config;
use crate::identity::NodeIdentity;

/// How long the node gets to flush and stop after a signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Runs the node until a signal or until it stops by itself.
pub fn run(config: Config) -> anyhow::Result<()> {
    crate::logging::init(config.log_format)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("talos")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(config))
}

async fn run_async(config: Config) -> anyhow::Result<()> {
    // First start: data dir (0700) and key (0600). Refuses an insecure key before anything
    // else happens.
    let (identity, created) = NodeIdentity::load_or_create(&config.data_dir)?;
    tracing::info!(
        peer_id = %identity.peer_id(),
        did = identity.did(),
        network = %config.network.name,
        role = %config.role,
        data_dir = %config.data_dir.display(),
        new_key = created,
        "starting talos node"
    );
    let api_addr = config.api_addr;
    let metrics_addr = config.metrics_addr;
    let cookie_path = config.cookie_path();

    let running = crate::node::start(config, &identity)
        .await
        .context("starting the node")?;
    let handle = running.handle.clone();
    let progress = tokio::spawn(super::progress::show_sync_progress(handle.clone()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };

    let api = ApiServer::bind(api_addr, &cookie_path, handle.clone()).await?;
    let api_task = tokio::spawn(api.run(stopped(stop_rx.clone())));
    let metrics = MetricsServer::bind(metrics_addr, running.metrics.clone()).await?;
    let metrics_task = tokio::spawn(metrics.run(stopped(stop_rx.clone())));

    let wait = running.wait();
    tokio::pin!(wait);
    tokio::select! {
        _ = &mut wait => tracing::warn!("node stopped by itself"),
        signal = shutdown_signal() => {
            tracing::info!(signal, "shutting down");
            handle.shutdown();
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut wait).await.is_err() {
                tracing::error!(grace_s = SHUTDOWN_GRACE.as_secs(), "node did not stop in time");
            }
        }
    }
    progress.abort();
    let _ = stop_tx.send(true);
    for (name, task) in [("api", api_task), ("metrics", metrics_task)] {
        match tokio::time::timeout(Duration::from_secs(5), task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(server = name, error = %e, "server error"),
            Ok(Err(e)) => tracing::warn!(server = name, error = %e, "server task failed"),
            Err(_) => tracing::warn!(server = name, "server did not stop in time"),
        }
    }
    let _ = std::fs::remove_file(&cookie_path);
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGINT or SIGTERM and names it.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only SIGINT stops the node");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
