//! A launcher of real `talos run` processes for the multi-process end-to-end tests.
//!
//! Every node is a separate OS process of the real binary (`CARGO_BIN_EXE_talos`) with its own
//! data dir inside the cluster's temporary directory, its own loopback ports (libp2p TCP and
//! QUIC, local API, metrics), and its stdout/stderr captured to `<name>.log` next to its data
//! dir. Nodes are observed only from outside: the local HTTP API (cookie auth) and `/metrics`.
//!
//! - [`Cluster::new`] writes the network spec and takes a process-wide lock, so the tests of
//!   one binary run one at a time (they are timing-sensitive and the machine is small);
//! - [`Cluster::start`] launches a node and waits until its API answers;
//! - [`Cluster::stop`] (SIGTERM, checks a clean exit), [`Cluster::kill`] (SIGKILL),
//!   [`Cluster::restart`] (same data dir and ports, possibly new options);
//! - [`Cluster::wait_until`] polls a condition and fails with every node's status and the tail
//!   of its log;
//! - dropping the cluster (also while a test panics) SIGKILLs every child and reaps it.
//!
//! `TALOS_E2E_LOG` sets the children's `RUST_LOG` (default `info`); `TALOS_E2E_KEEP=1` keeps
//! the temporary directory (data dirs and logs) for inspection.

#![allow(dead_code)]

mod node;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

// Shared by two test binaries; each uses part of it.
#[allow(unused_imports)]
pub(crate) use node::{Listen, Node, NodeOptions, free_port};

/// How often conditions are polled.
pub(crate) const POLL: Duration = Duration::from_millis(150);

/// How long a node may take to answer its API after launch.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a node may take to exit after SIGTERM.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(40);

/// Timeout of one API or metrics request.
pub(crate) const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Log lines shown per node when a wait fails.
const LOG_TAIL_LINES: usize = 30;

/// The easiest compact target (about two hashes per block).
pub(crate) const TRIVIAL_TARGET: u32 = 0x207f_ffff;

/// A network spec for the tests: `local`'s limits and time rules with its own name, id and
/// targets. A block interval far below the miner's polling period keeps the retarget at
/// `pow_limit`, so blocks stay as cheap as the target says (see the test file's notes).
pub(crate) fn spec_toml(
    name: &str,
    network_id: u32,
    target: u32,
    block_interval_ms: u64,
) -> String {
    format!(
        r#"name = "{name}"
network_id = {network_id:#x}
genesis_timestamp_ms = 1767225600000
genesis_target = {target:#x}
max_future_drift_ms = 15000
bootnodes = []

[retarget]
block_interval_ms = {block_interval_ms}
damping = 8
max_interval_factor = 8
pow_limit = {target:#x}

[limits]
max_block_bytes = 1048576
max_item_bytes = 102400
max_items_per_block = 8192
mempool_max_items = 10000
mempool_max_bytes = 67108864
mempool_max_per_author = 1000
"#
    )
}

/// Compares two non-negative decimal integers of any size.
pub(crate) fn cmp_decimal(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The value of `series` in a metrics text; 0 when absent.
pub(crate) fn metric_value(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
        .unwrap_or(0.0)
}

/// The sum of the series containing every needle.
pub(crate) fn metric_sum(text: &str, needles: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            needles
                .iter()
                .all(|n| name.contains(n))
                .then(|| value.parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

/// The lock that runs the cluster tests of one binary one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A set of nodes sharing a network spec and a temporary directory.
pub(crate) struct Cluster {
    /// The nodes, in the order they were added. (Declared first: dropped, hence killed,
    /// before the directory is removed.)
    pub(crate) nodes: Vec<Node>,
    /// The spec file passed with `--network`.
    pub(crate) spec_path: PathBuf,
    dir: Option<tempfile::TempDir>,
    started: Instant,
    _serial: MutexGuard<'static, ()>,
}

/// Index of a node in its cluster.
pub(crate) type Id = usize;

impl Cluster {
    /// A cluster whose nodes run the network described by `spec_toml`.
    pub(crate) fn new(spec_toml: &str) -> Self {
        let serial = serial();
        let dir = tempfile::Builder::new()
            .prefix("talos-e2e-")
            .tempdir()
            .expect("create a temporary directory");
        let spec_path = dir.path().join("spec.toml");
        std::fs::write(&spec_path, spec_toml).expect("write the spec");
        Self {
            nodes: Vec::new(),
            spec_path,
            dir: Some(dir),
            started: Instant::now(),
            _serial: serial,
        }
    }

    /// The temporary directory.
    pub(crate) fn root(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new("/"), |d| d.path())
    }

    /// Seconds since the cluster was created (for progress lines).
    pub(crate) fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Prints a progress line on the test's stderr (shown with `--nocapture` or on failure).
    pub(crate) fn note(&self, msg: impl AsRef<str>) {
        eprintln!("[e2e {:7.2}s] {}", self.elapsed(), msg.as_ref());
    }

    /// Adds a node named `name`, launches it and waits until its API answers.
    pub(crate) fn start(&mut self, name: &str, options: NodeOptions) -> Id {
        let node = Node::new(name, self.root(), &self.spec_path, options);
        self.nodes.push(node);
        let id = self.nodes.len() - 1;
        self.launch(id);
        id
    }

    /// The node `id`.
    pub(crate) fn node(&self, id: Id) -> &Node {
        &self.nodes[id]
    }

    fn launch(&mut self, id: Id) {
        let started = Instant::now();
        self.nodes[id].spawn();
        let deadline = started + START_TIMEOUT;
        loop {
            let node = &mut self.nodes[id];
            if !node.is_running() {
                let status = node.wait_exit(Duration::ZERO);
                let msg = format!(
                    "{} exited during start-up ({status:?})\n{}",
                    node.name,
                    node.log_tail(LOG_TAIL_LINES)
                );
                self.fail(&msg);
            }
            if let Some(cookie) = node.read_cookie() {
                *node.cookie.lock().unwrap_or_else(|e| e.into_inner()) = cookie;
                if let Ok(status) = node.try_status() {
                    if !node.peer_id.is_empty() {
                        assert_eq!(
                            node.peer_id, status.peer_id,
                            "{}: the PeerId changed across a restart",
                            node.name
                        );
                    }
                    node.peer_id = status.peer_id;
                    let name = node.name.clone();
                    self.note(format!(
                        "{name} up in {:.2}s: height {} ({})",
                        started.elapsed().as_secs_f64(),
                        status.tip_height,
                        self.nodes[id].args().join(" ")
                    ));
                    return;
                }
            }
            if Instant::now() > deadline {
                let name = self.nodes[id].name.clone();
                self.fail(&format!(
                    "{name}: API did not answer within {START_TIMEOUT:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops node `id` with SIGTERM and checks that it exits cleanly (status 0) in time.
    pub(crate) fn stop(&mut self, id: Id) {
        let t = Instant::now();
        self.nodes[id].signal("TERM");
        match self.nodes[id].wait_exit(STOP_TIMEOUT) {
            Some(status) if status.success() => {
                let name = self.nodes[id].name.clone();
                self.note(format!(
                    "{name} stopped (SIGTERM) in {:.2}s",
                    t.elapsed().as_secs_f64()
                ));
            }
            Some(status) => {
                let name = self.nodes[id].name.clone();
                self.fail(&format!("{name} exited with {status} after SIGTERM"));
            }
            None => {
                let name = self.nodes[id].name.clone();
                self.nodes[id].hard_kill();
                self.fail(&format!(
                    "{name} did not exit within {STOP_TIMEOUT:?} of SIGTERM"
                ));
            }
        }
    }

    /// Kills node `id` with SIGKILL.
    pub(crate) fn kill(&mut self, id: Id) {
        self.nodes[id].hard_kill();
        let name = self.nodes[id].name.clone();
        self.note(format!("{name} killed (SIGKILL)"));
    }

    /// Restarts a stopped node from the same data dir and ports, after `change` adjusts its
    /// options; waits until its API answers.
    pub(crate) fn restart(&mut self, id: Id, change: impl FnOnce(&mut NodeOptions)) {
        assert!(
            !self.nodes[id].is_running(),
            "{} must be stopped before a restart",
            self.nodes[id].name
        );
        self.nodes[id].child = None;
        change(&mut self.nodes[id].options);
        self.launch(id);
    }

    /// Every node's summary and log tail.
    pub(crate) fn diagnostics(&mut self) -> String {
        let mut out = String::new();
        for node in &mut self.nodes {
            let _ = writeln!(out, "--- {}", node.summary());
            let _ = writeln!(out, "{}", node.log_tail(LOG_TAIL_LINES));
        }
        let _ = writeln!(out, "--- files in {}", self.root().display());
        out
    }

    /// Fails the test with `msg` and every node's diagnostics.
    pub(crate) fn fail(&mut self, msg: &str) -> ! {
        let diag = self.diagnostics();
        if std::env::var_os("TALOS_E2E_KEEP").is_some()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("keeping {}", dir.keep().display());
        }
        panic!("{msg}\n{diag}");
    }

    /// Runs `talos <args>` against node `id`'s data dir (the CLI finds the running node's API
    /// there); its stdout. Fails the test when the command fails.
    pub(crate) fn cli(&self, id: Id, args: &[&str]) -> String {
        let data_dir = self.node(id).data_dir.display().to_string();
        let spec = self.spec_path.display().to_string();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_talos"))
            .args(["--network", &spec, "--data-dir", &data_dir])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run talos");
        assert!(
            out.status.success(),
            "talos {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Polls `cond` every [`POLL`] until it holds; fails after `timeout` with `what`, every
    /// node's status and log tail. Returns how long it took.
    pub(crate) fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut cond: impl FnMut(&Cluster) -> bool,
    ) -> Duration {
        let t = Instant::now();
        loop {
            if cond(self) {
                let took = t.elapsed();
                self.note(format!("{what}: after {:.2}s", took.as_secs_f64()));
                return took;
            }
            if t.elapsed() > timeout {
                self.fail(&format!("timed out after {timeout:?} waiting until {what}"));
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.hard_kill();
        }
        if std::env::var_os("TALOS_E2E_KEEP").is_some()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("keeping {}", dir.keep().display());
        }
    }
}
