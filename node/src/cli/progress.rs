//! A progress bar on the terminal while the node syncs many blocks.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use talos_sync::SyncStatus;

use crate::handle::NodeHandle;

/// Below this many blocks behind, sync is not worth a progress bar.
const MIN_BLOCKS_BEHIND: u64 = 100;

/// Shows sync progress on stderr while the node is far behind, if stderr is a terminal.
/// Runs until the node stops answering.
pub(crate) async fn show_sync_progress(handle: NodeHandle) {
    if !std::io::stderr().is_terminal() {
        return;
    }
    let mut bar: Option<ProgressBar> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let Ok(status) = handle.status().await else {
            break;
        };
        match (status.sync, bar.as_ref()) {
            (SyncStatus::Syncing { target_height }, None)
                if target_height.saturating_sub(status.tip.height) >= MIN_BLOCKS_BEHIND =>
            {
                let b = ProgressBar::new(target_height);
                b.set_style(
                    ProgressStyle::with_template(
                        "syncing {bar:40} {pos}/{len} blocks ({per_sec}, eta {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                b.set_position(status.tip.height);
                bar = Some(b);
            }
            (SyncStatus::Syncing { target_height }, Some(b)) => {
                b.set_length(target_height);
                b.set_position(status.tip.height);
            }
            (SyncStatus::Idle, Some(b)) => {
                b.set_position(status.tip.height);
                b.finish_with_message("synced");
                bar = None;
            }
            _ => {}
        }
    }
    if let Some(b) = bar {
        b.abandon();
    }
}
