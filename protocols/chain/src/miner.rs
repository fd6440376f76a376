//! Proof-of-work search on std threads, cancellable when the tip changes.
//!
//! [`Miner::start`] hashes a header template on `N` threads off the caller's thread with
//! [`NonceHasher`] (the first 64 header bytes hashed once per template). Thread `i` tries the
//! nonces `i, i + N, i + 2N, …`, so the threads never repeat each other's work. Every thread
//! checks a shared stop flag every [`CHECK_INTERVAL`] hashes, so [`MiningJob::cancel`] (or
//! dropping the job) stops all of them within a few milliseconds; dropping a job joins its
//! threads. [`mine_nonce`] is a synchronous search for tests and the simulator.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::header::{BlockHeader, NonceHasher};
use crate::pow::TargetError;

/// Hashes between two looks at the stop flag (a few milliseconds of work at most).
pub const CHECK_INTERVAL: u64 = 4096;

/// Most threads one job may use.
pub const MAX_THREADS: usize = 256;

/// Why a mining job could not start.
#[derive(Debug, thiserror::Error)]
pub enum MinerError {
    /// The header's target is not a valid compact target: no nonce could meet it.
    #[error("header target is invalid: {0}")]
    InvalidTarget(#[from] TargetError),
    /// The operating system refused a thread.
    #[error("could not spawn a mining thread: {0}")]
    Spawn(#[from] std::io::Error),
}

impl MinerError {
    /// Stable snake_case code: `invalid_target` or `spawn`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidTarget(_) => "invalid_target",
            Self::Spawn(_) => "spawn",
        }
    }
}

/// State shared by a job, its threads and its cancel handles.
#[derive(Debug, Default)]
struct Shared {
    /// Set to stop every thread: on cancel, on drop, or when one thread found a nonce.
    stop: AtomicBool,
    /// Set by [`MiningJob::cancel`] / [`MiningCanceller::cancel`] only.
    cancelled: AtomicBool,
    /// Hashes tried so far, over all threads.
    hashes: AtomicU64,
}

impl Shared {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts mining jobs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Miner;

impl Miner {
    /// Starts searching nonces for `header` on `threads` threads (clamped to
    /// `1..=`[`MAX_THREADS`]). The nonce space is searched from 0; `header.nonce` is ignored.
    pub fn start(header: BlockHeader, threads: usize) -> Result<MiningJob, MinerError> {
        let target = target_bytes(&header)?;
        let threads = threads.clamp(1, MAX_THREADS);
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::sync_channel(threads);
        let hasher = NonceHasher::new(&header);
        let mut job = MiningJob {
            header,
            shared: Arc::clone(&shared),
            results: rx,
            workers: Vec::with_capacity(threads),
            outcome: None,
            started: Instant::now(),
        };
        for i in 0..threads {
            let (hasher, shared, tx) = (hasher.clone(), Arc::clone(&shared), tx.clone());
            let step = threads as u64;
            let spawned = thread::Builder::new()
                .name(format!("talos-miner-{i}"))
                .spawn(move || {
                    if let Some(nonce) = search(&hasher, &target, i as u64, step, &shared) {
                        shared.stop.store(true, Ordering::Relaxed);
                        // Capacity is one per thread and each thread sends at most once.
                        let _ = tx.try_send(BlockHeader { nonce, ..header });
                    }
                });
            match spawned {
                Ok(handle) => job.workers.push(handle),
                // Dropping the job stops and joins the threads already started.
                Err(e) => return Err(MinerError::Spawn(e)),
            }
        }
        Ok(job)
    }
}

/// A running search; see [`Miner::start`]. Dropping it stops and joins its threads.
#[derive(Debug)]
pub struct MiningJob {
    header: BlockHeader,
    shared: Arc<Shared>,
    results: mpsc::Receiver<BlockHeader>,
    workers: Vec<JoinHandle<()>>,
    /// `Some` once the job's result is known.
    outcome: Option<Option<BlockHeader>>,
    started: Instant,
}

impl MiningJob {
    /// The template being mined.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// Stops the search (e.g. the tip changed). Threads notice within [`CHECK_INTERVAL`]
    /// hashes; after this, [`Self::wait`] and [`Self::try_result`] return `None`.
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// A handle that cancels this job from another thread or task.
    pub fn canceller(&self) -> MiningCanceller {
        MiningCanceller {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Blocks until a nonce is found or the job is cancelled, then joins the threads.
    /// Returns the header with a nonce that meets its target; `None` if the job was cancelled
    /// (even if a thread found a nonce meanwhile) or the nonce space ran out.
    pub fn wait(&mut self) -> Option<BlockHeader> {
        if self.outcome.is_none() {
            // Err: every thread ended without a result (cancelled or exhausted).
            let found = self.results.recv().ok();
            self.finish(found);
        }
        self.join();
        self.current()
    }

    /// The result if the job has finished, without blocking: `Some` with the mined header,
    /// `None` while it runs or if it ended without one (see [`Self::is_finished`]).
    pub fn try_result(&mut self) -> Option<BlockHeader> {
        if self.outcome.is_none() {
            match self.results.try_recv() {
                Ok(found) => self.finish(Some(found)),
                Err(mpsc::TryRecvError::Disconnected) => self.finish(None),
                Err(mpsc::TryRecvError::Empty) => {}
            }
        }
        self.current()
    }

    /// Whether the search is over (found, cancelled or exhausted). Threads may still be
    /// finishing their last [`CHECK_INTERVAL`] hashes; [`Self::wait`] and drop join them.
    pub fn is_finished(&self) -> bool {
        self.outcome.is_some()
            || self.shared.stop.load(Ordering::Relaxed)
            || self.workers.iter().all(JoinHandle::is_finished)
    }

    /// Hashes tried so far, over all threads.
    pub fn hashes(&self) -> u64 {
        self.shared.hashes.load(Ordering::Relaxed)
    }

    /// Time since the job started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Average hashes per second since the job started.
    pub fn hashrate(&self) -> f64 {
        let secs = self.elapsed().as_secs_f64();
        if secs > 0.0 {
            self.hashes() as f64 / secs
        } else {
            0.0
        }
    }

    fn finish(&mut self, found: Option<BlockHeader>) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.outcome = Some(found);
    }

    fn current(&self) -> Option<BlockHeader> {
        if self.shared.cancelled.load(Ordering::Relaxed) {
            return None;
        }
        self.outcome.flatten()
    }

    fn join(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for worker in self.workers.drain(..) {
            // A worker cannot panic (no indexing, no unwrap); if one did, there is nothing
            // left to clean up.
            let _ = worker.join();
        }
    }
}

impl Drop for MiningJob {
    fn drop(&mut self) {
        self.join();
    }
}

/// Cancels a [`MiningJob`] from elsewhere (e.g. the swarm task when the tip changes).
#[derive(Debug, Clone)]
pub struct MiningCanceller {
    shared: Arc<Shared>,
}

impl MiningCanceller {
    /// Stops the job; see [`MiningJob::cancel`].
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    /// Whether the job was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::Relaxed)
    }
}

/// Tries up to `max_tries` consecutive nonces from `header.nonce` on the calling thread.
/// Returns the first header that meets its own target; `None` if none does in that range or the
/// target is invalid. For tests and the simulator with easy targets.
pub fn mine_nonce(header: &BlockHeader, max_tries: u64) -> Option<BlockHeader> {
    let target = target_bytes(header).ok()?;
    let hasher = NonceHasher::new(header);
    let mut nonce = header.nonce;
    for _ in 0..max_tries {
        if hasher.hash_with_nonce(nonce).0 <= target {
            return Some(BlockHeader { nonce, ..*header });
        }
        nonce = nonce.checked_add(1)?;
    }
    None
}

/// The header's target as big-endian bytes: a hash meets it when its bytes compare `<=`.
fn target_bytes(header: &BlockHeader) -> Result<[u8; 32], TargetError> {
    Ok(header.target.to_target()?.value().to_be_bytes())
}

/// Searches `first, first + step, …` until a hash meets `target`, the space ends, or `stop`.
fn search(
    hasher: &NonceHasher,
    target: &[u8; 32],
    first: u64,
    step: u64,
    shared: &Shared,
) -> Option<u64> {
    let mut nonce = first;
    loop {
        for done in 1..=CHECK_INTERVAL {
            if hasher.hash_with_nonce(nonce).0 <= *target {
                shared.hashes.fetch_add(done, Ordering::Relaxed);
                return Some(nonce);
            }
            let Some(next) = nonce.checked_add(step) else {
                shared.hashes.fetch_add(done, Ordering::Relaxed);
                return None;
            };
            nonce = next;
        }
        shared.hashes.fetch_add(CHECK_INTERVAL, Ordering::Relaxed);
        if shared.stop.load(Ordering::Relaxed) {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Hash256;
    use crate::header::HEADER_VERSION;
    use crate::pow::CompactTarget;

    /// Hash value 1 or 0 only: never met in practice.
    const IMPOSSIBLE: CompactTarget = CompactTarget(0x0101_0000);
    /// About one hash in 2^16.
    const MODERATE: CompactTarget = CompactTarget(0x1f00_ffff);
    /// About one hash in two.
    const TRIVIAL: CompactTarget = crate::testkit::EASY;

    fn header(target: CompactTarget) -> BlockHeader {
        BlockHeader {
            version: HEADER_VERSION,
            network_id: 1,
            height: 1,
            prev_hash: Hash256::sha256(b"parent"),
            merkle_root: Hash256::sha256(b"root"),
            state_root: Hash256::ZERO,
            item_count: 0,
            timestamp_ms: 1_767_225_600_000,
            target,
            nonce: 0,
        }
    }

    const BOUND: Duration = Duration::from_secs(5);

    #[test]
    fn finds_a_nonce_that_meets_the_target() {
        let template = header(MODERATE);
        let mut job = Miner::start(template, 2).unwrap();
        let mined = job.wait().expect("a moderate target is found");
        assert!(mined.meets_own_target());
        assert_eq!(BlockHeader { nonce: 0, ..mined }, template);
        assert!(job.is_finished());
        assert!(job.hashes() >= 1);
        assert_eq!(job.wait(), Some(mined), "the result is kept");
        assert_eq!(job.try_result(), Some(mined));
    }

    #[test]
    fn try_result_polls_without_blocking() {
        let mut job = Miner::start(header(TRIVIAL), 3).unwrap();
        let deadline = Instant::now() + BOUND;
        let mined = loop {
            if let Some(h) = job.try_result() {
                break h;
            }
            assert!(Instant::now() < deadline, "trivial target not found");
            thread::sleep(Duration::from_millis(1));
        };
        assert!(mined.meets_own_target());
    }

    #[test]
    fn cancel_stops_every_thread_promptly() {
        let mut job = Miner::start(header(IMPOSSIBLE), 2).unwrap();
        let canceller = job.canceller();
        while job.hashes() < 2 * CHECK_INTERVAL {
            thread::sleep(Duration::from_millis(1));
        }
        assert!(!job.is_finished());
        assert_eq!(job.try_result(), None);
        let started = Instant::now();
        job.cancel();
        assert_eq!(job.wait(), None);
        assert!(started.elapsed() < BOUND);
        assert!(canceller.is_cancelled());
        assert!(job.is_finished());
        // Only this test's handles still hold the shared state: every thread has ended.
        assert_eq!(Arc::strong_count(&canceller.shared), 2);
        assert!(job.hashrate() > 0.0);
    }

    #[test]
    fn cancel_from_another_thread_wakes_wait() {
        let mut job = Miner::start(header(IMPOSSIBLE), 2).unwrap();
        let canceller = job.canceller();
        let started = Instant::now();
        let cancelling = thread::spawn(move || {
            thread::sleep(Duration::from_millis(30));
            canceller.cancel();
        });
        assert_eq!(job.wait(), None);
        assert!(started.elapsed() < BOUND);
        cancelling.join().unwrap();
    }

    #[test]
    fn drop_joins_the_threads() {
        let job = Miner::start(header(IMPOSSIBLE), 4).unwrap();
        let canceller = job.canceller();
        let started = Instant::now();
        drop(job);
        assert!(started.elapsed() < BOUND);
        assert_eq!(Arc::strong_count(&canceller.shared), 1);
        assert!(!canceller.is_cancelled(), "dropping is not cancelling");
    }

    #[test]
    fn cancelled_job_reports_no_result_even_if_found() {
        let mut job = Miner::start(header(TRIVIAL), 1).unwrap();
        while !job.is_finished() {
            thread::sleep(Duration::from_millis(1));
        }
        job.cancel();
        assert_eq!(job.wait(), None);
    }

    #[test]
    fn threads_split_the_nonce_space() {
        let shared = Shared::default();
        let template = header(TRIVIAL);
        let hasher = NonceHasher::new(&template);
        let target = target_bytes(&template).unwrap();
        for (first, step) in [(0u64, 4u64), (3, 4), (1, 7)] {
            let nonce = search(&hasher, &target, first, step, &shared).unwrap();
            assert_eq!(nonce % step, first % step);
            assert!(BlockHeader { nonce, ..template }.meets_own_target());
        }
        // The end of the space stops a thread instead of wrapping around.
        let max = [0u8; 32];
        assert_eq!(search(&hasher, &max, u64::MAX - 2, 2, &shared), None);
    }

    #[test]
    fn invalid_target_is_refused() {
        let err = Miner::start(header(CompactTarget(0x1d80_0000)), 1).unwrap_err();
        assert_eq!(err.code(), "invalid_target");
        assert_eq!(mine_nonce(&header(CompactTarget(0)), 10), None);
    }

    #[test]
    fn mine_nonce_searches_from_the_header_nonce() {
        let template = BlockHeader {
            nonce: 1_000,
            ..header(TRIVIAL)
        };
        let mined = mine_nonce(&template, 1_000).expect("trivial target");
        assert!(mined.nonce >= 1_000);
        assert!(mined.meets_own_target());
        assert_eq!(mine_nonce(&header(IMPOSSIBLE), 1_000), None);
        assert_eq!(mine_nonce(&header(TRIVIAL), 0), None);
        let last = BlockHeader {
            nonce: u64::MAX,
            ..header(IMPOSSIBLE)
        };
        assert_eq!(mine_nonce(&last, 10), None);
    }
}
