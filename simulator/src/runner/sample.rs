//! Periodic samples while the scenario runs: which tips the live nodes are on, and the
//! process's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use talos_chain::Hash256;
use talos_node::handle::NodeHandle;
use talos_storage::ChainTip;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::observe::Observer;
use super::scrape::process_rss;
use crate::record::TipSample;

/// Handles of the honest nodes that run now, by index.
#[derive(Clone, Debug, Default)]
pub(crate) struct LiveSet(Arc<Mutex<Vec<Option<NodeHandle>>>>);

impl LiveSet {
    /// Records that `node` runs with `handle` (or stopped, with `None`).
    pub(crate) fn set(&self, node: usize, handle: Option<NodeHandle>) {
        let mut live = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if live.len() <= node {
            live.resize(node + 1, None);
        }
        live[node] = handle;
    }

    /// The handles of the running nodes.
    pub(crate) fn handles(&self) -> Vec<NodeHandle> {
        let live = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        live.iter().flatten().cloned().collect()
    }
}

/// Summarises one set of tips: distinct tips, nodes on the most-work one, its height.
pub(crate) fn summarise(t_ms: f64, tips: &[ChainTip]) -> TipSample {
    let mut counts: HashMap<Hash256, usize> = HashMap::new();
    for tip in tips {
        *counts.entry(tip.id).or_default() += 1;
    }
    let best = tips.iter().max_by(|a, b| {
        a.cumulative_work
            .cmp(&b.cumulative_work)
            .then_with(|| counts[&a.id].cmp(&counts[&b.id]))
    });
    TipSample {
        t_ms,
        live: tips.len(),
        distinct_tips: counts.len(),
        on_best: best.map_or(0, |b| counts[&b.id]),
        best_height: best.map_or(0, |b| b.height),
    }
}

/// The sampling task.
pub(crate) struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<(Vec<TipSample>, u64)>,
}

impl Sampler {
    /// Samples `live` every `every` until stopped.
    pub(crate) fn spawn(live: LiveSet, observer: Observer, every: Duration) -> Self {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut peak = process_rss();
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                let tips: Vec<ChainTip> =
                    live.handles().iter().filter_map(|h| h.tip().ok()).collect();
                samples.push(summarise(observer.now_ms(), &tips));
                peak = peak.max(process_rss());
            }
            (samples, peak)
        });
        Self { stop, task }
    }

    /// Stops sampling; returns the samples and the peak RSS.
    pub(crate) async fn stop(self) -> (Vec<TipSample>, u64) {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use talos_chain::Work;

    use super::*;

    fn tip(byte: u8, height: u64, work: u64) -> ChainTip {
        ChainTip {
            id: Hash256([byte; 32]),
            height,
            cumulative_work: Work::from_be_slice(&work.to_be_bytes()).expect("8 bytes fit"),
        }
    }

    #[test]
    fn counts_distinct_tips_and_nodes_on_the_most_work_one() {
        let tips = [tip(1, 5, 50), tip(1, 5, 50), tip(2, 6, 60), tip(3, 4, 40)];
        let s = summarise(10.0, &tips);
        assert_eq!(
            (s.live, s.distinct_tips, s.on_best, s.best_height),
            (4, 3, 1, 6)
        );
        let agreed = summarise(20.0, &[tip(2, 6, 60), tip(2, 6, 60)]);
        assert_eq!((agreed.distinct_tips, agreed.on_best), (1, 2));
        let none = summarise(0.0, &[]);
        assert_eq!((none.live, none.distinct_tips, none.on_best), (0, 0, 0));
    }
}
