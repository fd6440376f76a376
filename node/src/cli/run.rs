//! `talos run`: start the node, the local API and the metrics endpoint; stop cleanly on
//! SIGINT/SIGTERM. A node that stops by itself (a failed part, an address in use at start)
//! is an error: the process exits non-zero, so a supervisor restarts it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use talos_api::{ApiServer, MetricsServer};
use tokio::sync::watch;

use std::net::SocketAddr;
use std::path::PathBuf;

use talos_api::NodeApi;
use tokio::task::JoinHandle;

use crate::config::{Config, Role};
use crate::files::{remove_run_files, write_api_addr, write_cookie};
use crate::identity::NodeIdentity;
use crate::metrics::MetricsHub;
use crate::node::NodeError;

/// How long the node gets to flush and stop after a signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Runs the node until a signal (then `Ok`) or until it stops by itself (then the cause).
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
    let data_dir = config.data_dir.clone();
    let (api_addr, metrics_addr) = (config.api_addr, config.metrics_addr);
    if config.role == Role::Light {
        let running = crate::light::start_light(&config, &identity)
            .await
            .context("starting the light client")?;
        let handle = running.handle.clone();
        let stopper = handle.clone();
        let served = Served {
            data_dir,
            api_addr,
            metrics_addr,
            metrics: running.metrics.clone(),
        };
        return serve(
            served,
            handle,
            move || stopper.shutdown(),
            running.wait(),
            None,
        )
        .await;
    }
    let running = crate::node::start(config, &identity)
        .await
        .context("starting the node")?;
    let handle = running.handle.clone();
    let progress = tokio::spawn(super::progress::show_sync_progress(handle.clone()));
    let stopper = handle.clone();
    let served = Served {
        data_dir,
        api_addr,
        metrics_addr,
        metrics: running.metrics.clone(),
    };
    serve(
        served,
        handle,
        move || stopper.shutdown(),
        running.wait(),
        Some(progress),
    )
    .await
}

/// Where a running node is served.
struct Served {
    data_dir: PathBuf,
    api_addr: SocketAddr,
    metrics_addr: SocketAddr,
    metrics: MetricsHub,
}

/// Serves the API and metrics of a running node (full or light) until it stops by itself or
/// a signal arrives (then `shutdown` and a grace period).
async fn serve<N: NodeApi>(
    served: Served,
    handle: N,
    shutdown: impl Fn(),
    wait: impl Future<Output = Result<(), NodeError>>,
    progress: Option<JoinHandle<()>>,
) -> anyhow::Result<()> {
    let Served {
        data_dir,
        api_addr,
        metrics_addr,
        metrics: metrics_hub,
    } = served;
    let cookie = write_cookie(&data_dir).context("writing the API cookie")?;
    let api = ApiServer::bind(api_addr, &cookie, handle).await?;
    let bound = api.local_addr()?;
    write_api_addr(&data_dir, bound).context("recording the API address")?;
    let metrics = MetricsServer::bind(metrics_addr, Arc::new(move || metrics_hub.encode())).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let api_task = tokio::spawn(api.run(stopped(stop_rx.clone())));
    let metrics_task = tokio::spawn(metrics.run(stopped(stop_rx.clone())));
    tokio::pin!(wait);
    let outcome = tokio::select! {
        result = &mut wait => result.context("the node stopped by itself"),
        signal = shutdown_signal() => {
            tracing::info!(signal, "shutting down");
            shutdown();
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut wait).await {
                Ok(result) => result.context("stopping the node"),
                Err(_) => Err(anyhow::anyhow!(
                    "the node did not stop within {} s",
                    SHUTDOWN_GRACE.as_secs()
                )),
            }
        }
    };
    if let Some(progress) = progress {
        progress.abort();
    }
    let _ = stop_tx.send(true);
    for (name, task) in [("api", api_task), ("metrics", metrics_task)] {
        match tokio::time::timeout(Duration::from_secs(5), task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(server = name, error = %e, "server error"),
            Ok(Err(e)) => tracing::warn!(server = name, error = %e, "server task failed"),
            Err(_) => tracing::warn!(server = name, "server did not stop in time"),
        }
    }
    remove_run_files(&data_dir);
    match &outcome {
        Ok(()) => tracing::info!("stopped"),
        Err(e) => tracing::error!(error = format!("{e:#}"), "stopped on an error"),
    }
    outcome
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
