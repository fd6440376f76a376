//! Node configuration: the [`Config`] a node runs with, and how it is assembled from layers.
//!
//! Layers, lowest first: built-in defaults < `talos.toml` in the data dir < `TALOS_*`
//! environment variables < command-line flags ("flags win"). Each layer is a
//! [`ConfigOverrides`] (every field optional); [`Config::resolve`] merges them. The data dir
//! (and the network, whose name picks the default data dir) cannot come from `talos.toml`,
//! because that file lives inside the data dir.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use libp2p::Multiaddr;
use serde::Deserialize;
use talos_chain::NetworkSpec;

/// Name of the config file in the data dir.
pub const CONFIG_FILE: &str = "talos.toml";

/// Default libp2p port (TCP and QUIC).
pub const DEFAULT_P2P_PORT: u16 = 7400;

/// Default local API address.
pub const DEFAULT_API_ADDR: &str = "127.0.0.1:7401";

/// Default metrics address.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:7402";

/// Default network when none is configured.
pub const DEFAULT_NETWORK: &str = "local";

/// Most miner threads a config may ask for.
pub const MAX_MINER_THREADS: usize = 256;

/// The node's role: the network's [`talos_network::Role`] (`bootstrap`, `full` or `light`).
pub use talos_network::Role;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// Stable lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

impl FromStr for LogFormat {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(invalid("log_format", other, "expected `text` or `json`")),
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value does not parse or is out of range.
    #[error("invalid {field} `{value}`: {reason}")]
    Invalid {
        /// The setting (flag, variable or file key name).
        field: String,
        /// The offending value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// The network is neither an embedded name nor a readable spec file.
    #[error("network `{value}`: {reason}")]
    Network {
        /// What was given.
        value: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The config file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid.
    #[error("{path} is not a valid config file: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The parse error.
        source: Box<toml::de::Error>,
    },
    /// Neither `TALOS_DATA_DIR` nor `HOME` is set, so there is no default data dir.
    #[error("no data dir: pass --data-dir or set TALOS_DATA_DIR or HOME")]
    NoDataDir,
}

fn invalid(field: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// A `local`/`testnet` name or a path to a spec TOML file.
pub fn load_network(value: &str) -> Result<NetworkSpec, ConfigError> {
    if let Some(spec) = NetworkSpec::embedded(value) {
        return Ok(spec);
    }
    let network_err = |reason: String| ConfigError::Network {
        value: value.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(value).map_err(|e| {
        network_err(format!(
            "not an embedded network (local, testnet) nor a readable spec file ({e})"
        ))
    })?;
    NetworkSpec::from_toml(&text).map_err(|e| network_err(e.to_string()))
}

/// The default data dir of `network`: `$TALOS_DATA_DIR` if set, else `$HOME/.talos/<network>`.
/// `env` looks variables up (`std::env::var` in the binary, a map in tests).
pub fn default_data_dir(
    network: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<PathBuf, ConfigError> {
    if let Some(dir) = env("TALOS_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = env("HOME")
        .filter(|h| !h.is_empty())
        .ok_or(ConfigError::NoDataDir)?;
    // A spec path as network name: use its file stem.
    let name = Path::new(network)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|_| NetworkSpec::embedded(network).is_none())
        .unwrap_or(network);
    Ok(PathBuf::from(home).join(".talos").join(name))
}

/// One configuration layer: every field optional; `None` leaves the lower layer's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigOverrides {
    /// Role.
    pub role: Option<Role>,
    /// Network: `local`, `testnet` or a spec file path.
    pub network: Option<String>,
    /// Data dir.
    pub data_dir: Option<PathBuf>,
    /// Listen addresses (replace the defaults).
    pub listen: Option<Vec<Multiaddr>>,
    /// Bootnodes (replace the spec's).
    pub bootnodes: Option<Vec<Multiaddr>>,
    /// Whether to mine.
    pub mine: Option<bool>,
    /// Miner threads.
    pub miner_threads: Option<usize>,
    /// Local API address.
    pub api_addr: Option<SocketAddr>,
    /// Metrics address.
    pub metrics_addr: Option<SocketAddr>,
    /// Log format.
    pub log_format: Option<LogFormat>,
}

/// `talos.toml`: the same settings as the flags, minus the data dir.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    role: Option<Role>,
    network: Option<String>,
    listen: Option<Vec<String>>,
    bootnodes: Option<Vec<String>>,
    mine: Option<bool>,
    miner_threads: Option<usize>,
    api_addr: Option<String>,
    metrics_addr: Option<String>,
    log_format: Option<LogFormat>,
}

/// Parses a multiaddr, naming the setting in the error.
pub fn parse_multiaddr(field: &str, value: &str) -> Result<Multiaddr, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|e: libp2p::multiaddr::Error| invalid(field, value, e.to_string()))
}

/// Parses a socket address, naming the setting in the error.
pub fn parse_socket_addr(field: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(field, value, "expected IP:PORT, e.g. 127.0.0.1:7401"))
}

/// Parses a role name, naming the setting in the error.
pub fn parse_role(field: &str, value: &str) -> Result<Role, ConfigError> {
    value
        .parse()
        .map_err(|_| invalid(field, value, "expected `bootstrap`, `full` or `light`"))
}

fn parse_bool(field: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(invalid(field, value, "expected true or false")),
    }
}

fn parse_threads(field: &str, value: &str) -> Result<usize, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(field, value, "expected a positive integer"))
}

fn parse_list(field: &str, value: &str) -> Result<Vec<Multiaddr>, ConfigError> {
    value
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_multiaddr(field, s))
        .collect()
}

impl ConfigOverrides {
    /// Reads the `TALOS_*` variables: `TALOS_ROLE`, `TALOS_NETWORK`, `TALOS_DATA_DIR`,
    /// `TALOS_LISTEN` and `TALOS_BOOTNODES` (comma-separated multiaddrs), `TALOS_MINE`,
    /// `TALOS_MINER_THREADS`, `TALOS_API_ADDR`, `TALOS_METRICS_ADDR`, `TALOS_LOG_FORMAT`.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        Ok(Self {
            role: get("TALOS_ROLE")
                .map(|v| parse_role("TALOS_ROLE", &v))
                .transpose()?,
            network: get("TALOS_NETWORK"),
            data_dir: get("TALOS_DATA_DIR").map(PathBuf::from),
            listen: get("TALOS_LISTEN")
                .map(|v| parse_list("TALOS_LISTEN", &v))
                .transpose()?,
            bootnodes: get("TALOS_BOOTNODES")
                .map(|v| parse_list("TALOS_BOOTNODES", &v))
                .transpose()?,
            mine: get("TALOS_MINE")
                .map(|v| parse_bool("TALOS_MINE", &v))
                .transpose()?,
            miner_threads: get("TALOS_MINER_THREADS")
                .map(|v| parse_threads("TALOS_MINER_THREADS", &v))
                .transpose()?,
            api_addr: get("TALOS_API_ADDR")
                .map(|v| parse_socket_addr("TALOS_API_ADDR", &v))
                .transpose()?,
            metrics_addr: get("TALOS_METRICS_ADDR")
                .map(|v| parse_socket_addr("TALOS_METRICS_ADDR", &v))
                .transpose()?,
            log_format: get("TALOS_LOG_FORMAT").map(|v| v.parse()).transpose()?,
        })
    }

    /// Parses `talos.toml` text. A relative spec path in `network` is taken relative to
    /// `base` (the data dir).
    pub fn from_toml(text: &str, path: &Path, base: &Path) -> Result<Self, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        let list = |field: &str, v: Option<Vec<String>>| {
            v.map(|v| {
                v.iter()
                    .map(|a| parse_multiaddr(field, a))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
        };
        let network = file.network.map(|n| {
            if NetworkSpec::embedded(&n).is_some() || Path::new(&n).is_absolute() {
                n
            } else {
                base.join(n).to_string_lossy().into_owned()
            }
        });
        Ok(Self {
            role: file.role,
            network,
            data_dir: None,
            listen: list("listen", file.listen)?,
            bootnodes: list("bootnodes", file.bootnodes)?,
            mine: file.mine,
            miner_threads: file.miner_threads,
            api_addr: file
                .api_addr
                .map(|a| parse_socket_addr("api_addr", &a))
                .transpose()?,
            metrics_addr: file
                .metrics_addr
                .map(|a| parse_socket_addr("metrics_addr", &a))
                .transpose()?,
            log_format: file.log_format,
        })
    }

    /// Reads `talos.toml` from `data_dir`; an absent file is an empty layer.
    pub fn from_data_dir(data_dir: &Path) -> Result<Self, ConfigError> {
        let path = data_dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_toml(&text, &path, data_dir),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// `self` with every value `upper` sets replaced by `upper`'s.
    pub fn merged_with(self, upper: Self) -> Self {
        Self {
            role: upper.role.or(self.role),
            network: upper.network.or(self.network),
            data_dir: upper.data_dir.or(self.data_dir),
            listen: upper.listen.or(self.listen),
            bootnodes: upper.bootnodes.or(self.bootnodes),
            mine: upper.mine.or(self.mine),
            miner_threads: upper.miner_threads.or(self.miner_threads),
            api_addr: upper.api_addr.or(self.api_addr),
            metrics_addr: upper.metrics_addr.or(self.metrics_addr),
            log_format: upper.log_format.or(self.log_format),
        }
    }
}

/// Everything a node runs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Bootstrap or full node.
    pub role: Role,
    /// The network.
    pub network: NetworkSpec,
    /// Where the key, cookie, config file and chain store live.
    pub data_dir: PathBuf,
    /// libp2p listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Peers dialed at start (by default the spec's bootnodes).
    pub bootnodes: Vec<Multiaddr>,
    /// Whether to mine.
    pub mine: bool,
    /// Miner threads (when mining).
    pub miner_threads: usize,
    /// Local API address (loopback only).
    pub api_addr: SocketAddr,
    /// Metrics address (loopback only).
    pub metrics_addr: SocketAddr,
    /// Log format.
    pub log_format: LogFormat,
}

/// The default listen addresses: TCP and QUIC on port [`DEFAULT_P2P_PORT`], all interfaces.
pub fn default_listen() -> Vec<Multiaddr> {
    [
        Multiaddr::empty()
            .with(libp2p::multiaddr::Protocol::Ip4(
                std::net::Ipv4Addr::UNSPECIFIED,
            ))
            .with(libp2p::multiaddr::Protocol::Tcp(DEFAULT_P2P_PORT)),
        Multiaddr::empty()
            .with(libp2p::multiaddr::Protocol::Ip4(
                std::net::Ipv4Addr::UNSPECIFIED,
            ))
            .with(libp2p::multiaddr::Protocol::Udp(DEFAULT_P2P_PORT))
            .with(libp2p::multiaddr::Protocol::QuicV1),
    ]
    .into()
}

/// The spec's bootnodes that parse as multiaddrs (a malformed one is skipped with a warning).
pub fn spec_bootnodes(spec: &NetworkSpec) -> Vec<Multiaddr> {
    spec.bootnodes
        .iter()
        .filter_map(|b| match b.parse() {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!(bootnode = %b, error = %e, "ignoring malformed bootnode in network spec");
                None
            }
        })
        .collect()
}

impl Default for Config {
    fn default() -> Self {
        let network = NetworkSpec::local();
        let data_dir = default_data_dir(DEFAULT_NETWORK, &|k| std::env::var(k).ok())
            .unwrap_or_else(|_| PathBuf::from(".talos").join(DEFAULT_NETWORK));
        Self {
            role: Role::Full,
            bootnodes: spec_bootnodes(&network),
            network,
            data_dir,
            listen: default_listen(),
            mine: false,
            miner_threads: 1,
            api_addr: SocketAddr::from(([127, 0, 0, 1], 7401)),
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], 7402)),
            log_format: LogFormat::Text,
        }
    }
}

impl Config {
    /// Sets the role.
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// Sets the network and resets the bootnodes to its spec's.
    pub fn with_network(mut self, network: NetworkSpec) -> Self {
        self.bootnodes = spec_bootnodes(&network);
        self.network = network;
        self
    }

    /// Sets the data dir.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = dir.into();
        self
    }

    /// Sets the listen addresses.
    pub fn with_listen(mut self, listen: Vec<Multiaddr>) -> Self {
        self.listen = listen;
        self
    }

    /// Sets the bootnodes.
    pub fn with_bootnodes(mut self, bootnodes: Vec<Multiaddr>) -> Self {
        self.bootnodes = bootnodes;
        self
    }

    /// Turns mining on or off.
    pub fn with_mine(mut self, mine: bool) -> Self {
        self.mine = mine;
        self
    }

    /// Sets the miner thread count.
    pub fn with_miner_threads(mut self, threads: usize) -> Self {
        self.miner_threads = threads;
        self
    }

    /// Sets the API address (checked to be loopback by [`Config::validate`]).
    pub fn with_api_addr(mut self, addr: SocketAddr) -> Self {
        self.api_addr = addr;
        self
    }

    /// Sets the metrics address (checked to be loopback by [`Config::validate`]).
    pub fn with_metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics_addr = addr;
        self
    }

    /// Sets the log format.
    pub fn with_log_format(mut self, format: LogFormat) -> Self {
        self.log_format = format;
        self
    }

    /// The identity key file.
    pub fn key_path(&self) -> PathBuf {
        self.data_dir.join(crate::identity::KEY_FILE)
    }

    /// The API cookie file.
    pub fn cookie_path(&self) -> PathBuf {
        self.data_dir.join(crate::files::COOKIE_FILE)
    }

    /// The chain store directory.
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join(crate::node::CHAIN_DIR)
    }

    /// The file where the running node records its API address.
    pub fn api_addr_path(&self) -> PathBuf {
        self.data_dir.join(crate::files::API_ADDR_FILE)
    }

    /// The config file.
    pub fn config_file_path(&self) -> PathBuf {
        self.data_dir.join(CONFIG_FILE)
    }

    /// Checks cross-field rules: loopback-only API and metrics, a sane thread count, a
    /// listen address, and no mining on a bootstrap node.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, addr) in [
            ("api_addr", self.api_addr),
            ("metrics_addr", self.metrics_addr),
        ] {
            if !addr.ip().is_loopback() {
                return Err(invalid(
                    field,
                    &addr.to_string(),
                    "must be a loopback address (127.0.0.1 or ::1): the local API and metrics are never exposed",
                ));
            }
        }
        if self.api_addr == self.metrics_addr && self.api_addr.port() != 0 {
            return Err(invalid(
                "metrics_addr",
                &self.metrics_addr.to_string(),
                "must differ from api_addr",
            ));
        }
        if self.miner_threads == 0 || self.miner_threads > MAX_MINER_THREADS {
            return Err(invalid(
                "miner_threads",
                &self.miner_threads.to_string(),
                format!("must be 1..={MAX_MINER_THREADS}"),
            ));
        }
        if self.listen.is_empty() {
            return Err(invalid(
                "listen",
                "",
                "at least one listen address is needed",
            ));
        }
        if self.role == Role::Bootstrap && self.mine {
            return Err(invalid(
                "mine",
                "true",
                "a bootstrap node does not mine; use --role full",
            ));
        }
        if self.role == Role::Light && self.mine {
            return Err(invalid(
                "mine",
                "true",
                "a light client holds no blocks to mine on; use --role full",
            ));
        }
        Ok(())
    }

    /// Assembles the config from its layers: defaults < `talos.toml` in the data dir < `env`
    /// < `flags`, then [`Config::validate`]s it. `env` looks variables up
    /// (`|k| std::env::var(k).ok()` in the binary).
    pub fn resolve(
        flags: ConfigOverrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let env_layer = ConfigOverrides::from_env(env)?;
        // The data dir (and the network naming the default one) come from env and flags only.
        let upper = env_layer.merged_with(flags);
        let network_name = upper
            .network
            .clone()
            .unwrap_or_else(|| DEFAULT_NETWORK.to_owned());
        let data_dir = match &upper.data_dir {
            Some(d) => d.clone(),
            None => default_data_dir(&network_name, env)?,
        };
        let file = ConfigOverrides::from_data_dir(&data_dir)?;
        let merged = file.merged_with(upper);
        let network_value = merged.network.unwrap_or_else(|| DEFAULT_NETWORK.to_owned());
        let mut config = Self::default()
            .with_network(load_network(&network_value)?)
            .with_data_dir(data_dir);
        if let Some(v) = merged.role {
            config.role = v;
        }
        if let Some(v) = merged.listen {
            config.listen = v;
        }
        if let Some(v) = merged.bootnodes {
            config.bootnodes = v;
        }
        if let Some(v) = merged.mine {
            config.mine = v;
        }
        if let Some(v) = merged.miner_threads {
            config.miner_threads = v;
        }
        if let Some(v) = merged.api_addr {
            config.api_addr = v;
        }
        if let Some(v) = merged.metrics_addr {
            config.metrics_addr = v;
        }
        if let Some(v) = merged.log_format {
            config.log_format = v;
        }
        config.validate()?;
        Ok(config)
    }
}

/// The text `talos init` writes: the explicitly given settings, and every other one commented
/// out at its default.
pub fn render_config_file(o: &ConfigOverrides) -> String {
    fn q(s: &str) -> String {
        toml::Value::String(s.to_owned()).to_string()
    }
    fn list(v: &[Multiaddr]) -> String {
        let items: Vec<String> = v.iter().map(|a| q(&a.to_string())).collect();
        format!("[{}]", items.join(", "))
    }
    let line = |set: Option<String>, key: &str, default: String| match set {
        Some(v) => format!("{key} = {v}\n"),
        None => format!("# {key} = {default}\n"),
    };
    let mut out = String::from(
        "# Talos node configuration. Precedence: defaults < this file < TALOS_* variables < flags.\n",
    );
    out += &line(o.role.map(|r| q(r.as_str())), "role", q("full"));
    out += &line(o.network.as_deref().map(q), "network", q(DEFAULT_NETWORK));
    out += &line(
        o.listen.as_deref().map(list),
        "listen",
        list(&default_listen()),
    );
    out += &line(
        o.bootnodes.as_deref().map(list),
        "bootnodes",
        "[] # default: the network spec's bootnodes".to_owned(),
    );
    out += &line(o.mine.map(|m| m.to_string()), "mine", "false".to_owned());
    out += &line(
        o.miner_threads.map(|t| t.to_string()),
        "miner_threads",
        "1".to_owned(),
    );
    out += &line(
        o.api_addr.map(|a| q(&a.to_string())),
        "api_addr",
        q(DEFAULT_API_ADDR),
    );
    out += &line(
        o.metrics_addr.map(|a| q(&a.to_string())),
        "metrics_addr",
        q(DEFAULT_METRICS_ADDR),
    );
    out += &line(o.log_format.map(|f| q(f.as_str())), "log_format", q("text"));
    out
}

#[cfg(test)]
mod tests;
