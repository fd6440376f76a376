//! One `talos run` child process: how it is launched ([`NodeOptions`]), its ports, and its
//! local API and metrics as seen from outside.

use std::collections::HashSet;
use std::fs::File;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use talos_api::types::{HeadJson, NodeStatus as Status, PeerJson, PeersJson};

use super::{HTTP_TIMEOUT, metric_sum, metric_value};

/// Which libp2p transports a node listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listen {
    /// TCP only.
    Tcp,
    /// QUIC only.
    Quic,
    /// TCP and QUIC.
    Both,
}

/// How a node is launched.
#[derive(Clone, Debug)]
pub(crate) struct NodeOptions {
    /// `--role bootstrap` instead of the default full node.
    pub(crate) bootstrap: bool,
    /// `--role light`: a headers-only light client.
    pub(crate) light: bool,
    /// `--mine`.
    pub(crate) mine: bool,
    /// Listen addresses.
    pub(crate) listen: Listen,
    /// `--bootnode` multiaddrs.
    pub(crate) bootnodes: Vec<String>,
}

impl NodeOptions {
    /// A full node listening on TCP and QUIC, not mining, without bootnodes.
    pub(crate) fn full() -> Self {
        Self {
            bootstrap: false,
            light: false,
            mine: false,
            listen: Listen::Both,
            bootnodes: Vec::new(),
        }
    }

    /// A bootstrap node listening on TCP and QUIC.
    pub(crate) fn bootstrap() -> Self {
        Self {
            bootstrap: true,
            ..Self::full()
        }
    }

    /// A light client listening on TCP.
    pub(crate) fn light() -> Self {
        Self {
            light: true,
            listen: Listen::Tcp,
            ..Self::full()
        }
    }

    /// Sets `--mine`.
    pub(crate) fn mining(mut self, mine: bool) -> Self {
        self.mine = mine;
        self
    }

    /// Sets the listen transports.
    pub(crate) fn listening(mut self, listen: Listen) -> Self {
        self.listen = listen;
        self
    }

    /// Adds a bootnode.
    pub(crate) fn bootnode(mut self, addr: impl Into<String>) -> Self {
        self.bootnodes.push(addr.into());
        self
    }
}

/// Ports handed out in this process (a freed port is not handed out twice).
fn used_ports() -> &'static Mutex<HashSet<u16>> {
    static USED: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    USED.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A loopback port free for both TCP and UDP right now.
pub(crate) fn free_port() -> u16 {
    let mut used = used_ports().lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..1000 {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind a TCP port");
        let port = tcp.local_addr().expect("local addr").port();
        if used.contains(&port) || UdpSocket::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        used.insert(port);
        return port;
    }
    panic!("no free loopback port found");
}

/// One `talos run` process (running or stopped) and how to reach it.
pub(crate) struct Node {
    /// Name in messages and file names.
    pub(crate) name: String,
    /// Its data dir.
    pub(crate) data_dir: PathBuf,
    /// Where its stdout and stderr go.
    pub(crate) log_path: PathBuf,
    /// libp2p TCP port.
    pub(crate) tcp_port: u16,
    /// libp2p QUIC (UDP) port.
    pub(crate) quic_port: u16,
    /// API port.
    pub(crate) api_port: u16,
    /// Metrics port.
    pub(crate) metrics_port: u16,
    /// Launch options of the current (or last) run.
    pub(crate) options: NodeOptions,
    /// Its PeerId (known after the first start).
    pub(crate) peer_id: String,
    spec_path: PathBuf,
    pub(super) child: Option<Child>,
    pub(super) cookie: Mutex<String>,
    agent: ureq::Agent,
    starts: u32,
}

impl Node {
    pub(super) fn new(name: &str, root: &Path, spec_path: &Path, options: NodeOptions) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(HTTP_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            name: name.to_owned(),
            data_dir: root.join(name),
            log_path: root.join(format!("{name}.log")),
            tcp_port: free_port(),
            quic_port: free_port(),
            api_port: free_port(),
            metrics_port: free_port(),
            options,
            peer_id: String::new(),
            spec_path: spec_path.to_owned(),
            child: None,
            cookie: Mutex::new(String::new()),
            agent,
            starts: 0,
        }
    }

    /// Whether the process is running (not exited).
    pub(crate) fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Its OS process id, while running.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `/ip4/127.0.0.1/tcp/<port>/p2p/<peer id>`.
    pub(crate) fn tcp_addr(&self) -> String {
        format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.tcp_port, self.peer_id)
    }

    /// `/ip4/127.0.0.1/udp/<port>/quic-v1/p2p/<peer id>`.
    pub(crate) fn quic_addr(&self) -> String {
        format!(
            "/ip4/127.0.0.1/udp/{}/quic-v1/p2p/{}",
            self.quic_port, self.peer_id
        )
    }

    /// An address it listens on (TCP when it listens on TCP).
    pub(crate) fn addr(&self) -> String {
        match self.options.listen {
            Listen::Quic => self.quic_addr(),
            Listen::Tcp | Listen::Both => self.tcp_addr(),
        }
    }

    pub(super) fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "run".into(),
            "--network".into(),
            self.spec_path.display().to_string(),
            "--data-dir".into(),
            self.data_dir.display().to_string(),
            "--api-addr".into(),
            format!("127.0.0.1:{}", self.api_port),
            "--metrics-addr".into(),
            format!("127.0.0.1:{}", self.metrics_port),
        ];
        if matches!(self.options.listen, Listen::Tcp | Listen::Both) {
            a.push("--listen".into());
            a.push(format!("/ip4/127.0.0.1/tcp/{}", self.tcp_port));
        }
        if matches!(self.options.listen, Listen::Quic | Listen::Both) {
            a.push("--listen".into());
            a.push(format!("/ip4/127.0.0.1/udp/{}/quic-v1", self.quic_port));
        }
        for b in &self.options.bootnodes {
            a.push("--bootnode".into());
            a.push(b.clone());
        }
        if self.options.bootstrap {
            a.push("--role".into());
            a.push("bootstrap".into());
        }
        if self.options.light {
            a.push("--role".into());
            a.push("light".into());
        }
        if self.options.mine {
            a.push("--mine".into());
        }
        a
    }

    /// Launches the process (log appended to [`Self::log_path`]); does not wait.
    pub(super) fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let mut log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open the node log");
        self.starts += 1;
        let args = self.args();
        {
            use std::io::Write as _;
            let _ = writeln!(
                log,
                "===== e2e: start #{} of {}: talos {}",
                self.starts,
                self.name,
                args.join(" ")
            );
        }
        let err = log.try_clone().expect("clone the log handle");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_talos"));
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .env(
                "RUST_LOG",
                std::env::var("TALOS_E2E_LOG").unwrap_or_else(|_| "info".into()),
            )
            .env("NO_COLOR", "1");
        // The children must see only what the test passes them.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("TALOS_") {
                cmd.env_remove(&key);
            }
        }
        self.child = Some(cmd.spawn().expect("spawn the talos binary"));
    }

    pub(super) fn read_cookie(&self) -> Option<String> {
        std::fs::read_to_string(self.data_dir.join("api.cookie"))
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    fn get(&self, path: &str) -> Result<String, String> {
        let cookie = self
            .cookie
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let url = format!("http://127.0.0.1:{}{path}", self.api_port);
        let mut resp = self
            .agent
            .get(&url)
            .header("Authorization", format!("Bearer {cookie}"))
            .call()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {path}: reading the body: {e}"))?;
        if status != 200 {
            return Err(format!("GET {path}: HTTP {status}: {body}"));
        }
        Ok(body)
    }

    /// `POST path` with a JSON body; the JSON answer.
    pub(crate) fn post_json<B: serde::Serialize, T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, String> {
        let cookie = self
            .cookie
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let url = format!("http://127.0.0.1:{}{path}", self.api_port);
        let body = serde_json::to_string(body).map_err(|e| e.to_string())?;
        let mut resp = self
            .agent
            .post(&url)
            .header("Authorization", format!("Bearer {cookie}"))
            .header("Content-Type", "application/json")
            .send(body.as_bytes())
            .map_err(|e| format!("POST {path}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("POST {path}: reading the body: {e}"))?;
        if !(200..300).contains(&status) {
            return Err(format!("POST {path}: HTTP {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("POST {path}: bad JSON ({e}): {text}"))
    }

    /// The first `n` lines of the server-sent event stream at `path` (the agent's timeout ends
    /// the read if fewer come).
    pub(crate) fn sse_lines(&self, path: &str, n: usize) -> Result<Vec<String>, String> {
        use std::io::BufRead as _;
        let cookie = self
            .cookie
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let url = format!("http://127.0.0.1:{}{path}", self.api_port);
        let mut resp = self
            .agent
            .get(&url)
            .header("Authorization", format!("Bearer {cookie}"))
            .call()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let reader = std::io::BufReader::new(resp.body_mut().as_reader());
        reader
            .lines()
            .take(n)
            .map(|l| l.map_err(|e| format!("GET {path}: {e}")))
            .collect()
    }

    /// `GET path` as JSON.
    pub(crate) fn get_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, String> {
        let body = self.get(path)?;
        serde_json::from_str(&body).map_err(|e| format!("GET {path}: bad JSON ({e}): {body}"))
    }

    /// `GET /v1/status`.
    pub(crate) fn try_status(&self) -> Result<Status, String> {
        self.get_json("/v1/status")
    }

    /// `GET /v1/status`, failing the test on error.
    pub(crate) fn status(&self) -> Status {
        self.try_status()
            .unwrap_or_else(|e| panic!("{}: status: {e}", self.name))
    }

    /// Tip height, or `None` when the API does not answer.
    pub(crate) fn height(&self) -> Option<u64> {
        self.try_status().ok().map(|s| s.tip_height)
    }

    /// `GET /v1/peers`.
    pub(crate) fn try_peers(&self) -> Result<Vec<PeerJson>, String> {
        self.get_json::<PeersJson>("/v1/peers").map(|p| p.peers)
    }

    /// `GET /v1/peers`, failing the test on error.
    pub(crate) fn peers(&self) -> Vec<PeerJson> {
        self.try_peers()
            .unwrap_or_else(|e| panic!("{}: peers: {e}", self.name))
    }

    /// `GET /v1/chain/head`.
    pub(crate) fn head(&self) -> HeadJson {
        self.get_json("/v1/chain/head")
            .unwrap_or_else(|e| panic!("{}: head: {e}", self.name))
    }

    /// The `/metrics` text.
    pub(crate) fn try_metrics_text(&self) -> Result<String, String> {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics_port);
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET /metrics: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET /metrics: {e}"))?;
        if status != 200 {
            return Err(format!("GET /metrics: HTTP {status}"));
        }
        Ok(body)
    }

    /// The value of one series, given exactly as written before the value
    /// (`talos_blocks_imported_total{code="sync"}`); 0 when absent.
    pub(crate) fn metric(&self, series: &str) -> f64 {
        let text = self
            .try_metrics_text()
            .unwrap_or_else(|e| panic!("{}: metrics: {e}", self.name));
        metric_value(&text, series)
    }

    /// Like [`Self::metric`], but `None` when the endpoint does not answer (for polling).
    pub(crate) fn try_metric(&self, series: &str) -> Option<f64> {
        self.try_metrics_text()
            .ok()
            .map(|text| metric_value(&text, series))
    }

    /// The sum of every series whose text before the value contains all of `needles`.
    pub(crate) fn metric_sum(&self, needles: &[&str]) -> f64 {
        let text = self
            .try_metrics_text()
            .unwrap_or_else(|e| panic!("{}: metrics: {e}", self.name));
        metric_sum(&text, needles)
    }

    /// The last `n` lines of its log.
    pub(crate) fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Whether its log contains `needle`.
    pub(crate) fn log_contains(&self, needle: &str) -> bool {
        std::fs::read_to_string(&self.log_path).is_ok_and(|t| t.contains(needle))
    }

    pub(super) fn signal(&self, signal: &str) {
        let Some(pid) = self.pid() else {
            return;
        };
        let ok = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "{}: kill -{signal} {pid} failed", self.name);
    }

    pub(super) fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    self.child = None;
                    return Some(status);
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => return None,
            }
        }
    }

    pub(super) fn hard_kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// One line about the node for failure messages.
    pub(crate) fn summary(&mut self) -> String {
        let running = self.is_running();
        let state = if running { "running" } else { "stopped" };
        let status = if running {
            match self.try_status() {
                Ok(s) => format!(
                    "height {} tip {} work {} peers {} sync {} mining {}",
                    s.tip_height,
                    &s.tip_id[..s.tip_id.len().min(12)],
                    s.cumulative_work,
                    s.peers,
                    serde_json::to_string(&s.sync).unwrap_or_default(),
                    s.mining
                ),
                Err(e) => format!("status error: {e}"),
            }
        } else {
            String::new()
        };
        format!(
            "{} ({state}, peer {}, tcp {} quic {} api {}): {status}",
            self.name, self.peer_id, self.tcp_port, self.quic_port, self.api_port
        )
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.hard_kill();
    }
}
