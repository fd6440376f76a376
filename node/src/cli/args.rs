//! Command-line arguments (clap derive) and THE mapping from flags to a config layer.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use libp2p::Multiaddr;

use crate::config::{ConfigOverrides, LogFormat, Role};

/// `talos`: a libp2p-native node with an append-only audit chain for AI agents.
#[derive(Debug, Parser)]
#[command(name = "talos", version, about, arg_required_else_help = true)]
pub struct Cli {
    /// Settings every command uses.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Settings shared by every command (they may follow the subcommand).
#[derive(Debug, Default, Clone, Args)]
pub struct GlobalArgs {
    /// Network: `local`, `testnet` or the path of a network spec TOML file [default: local].
    #[arg(long, global = true, value_name = "local|testnet|SPEC")]
    pub network: Option<String>,
    /// Data dir (key, API cookie, talos.toml, chain) [default: $TALOS_DATA_DIR or
    /// $HOME/.talos/<network>].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Local API address, loopback only [default: 127.0.0.1:7401].
    #[arg(long, global = true, value_name = "ADDR")]
    pub api_addr: Option<SocketAddr>,
    /// Print JSON instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Settings of a running node (`talos run`, `talos init`).
#[derive(Debug, Default, Clone, Args)]
pub struct RunArgs {
    /// Role.
    #[arg(long, value_name = "bootstrap|full|light", value_parser = parse_role)]
    pub role: Option<Role>,
    /// Listen address (repeatable) [default: /ip4/0.0.0.0/tcp/7400 and
    /// /ip4/0.0.0.0/udp/7400/quic-v1].
    #[arg(long = "listen", value_name = "MULTIADDR")]
    pub listen: Vec<Multiaddr>,
    /// Bootnode to dial (repeatable) [default: the network spec's bootnodes].
    #[arg(long = "bootnode", value_name = "MULTIADDR")]
    pub bootnodes: Vec<Multiaddr>,
    /// Mine blocks.
    #[arg(long)]
    pub mine: bool,
    /// Mining threads [default: 1].
    #[arg(long, value_name = "N", requires = "mine")]
    pub miner_threads: Option<usize>,
    /// Metrics address, loopback only [default: 127.0.0.1:7402].
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Log format (filter with RUST_LOG) [default: text].
    #[arg(long, value_name = "text|json", value_parser = parse_log_format)]
    pub log_format: Option<LogFormat>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    crate::config::parse_role("--role", s).map_err(|e| e.to_string())
}

fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    s.parse::<LogFormat>().map_err(|e| e.to_string())
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node (creates the data dir and key on first start).
    Run(RunArgs),
    /// Create the data dir, the node key and talos.toml; print the node's PeerId and DID.
    Init(RunArgs),
    /// Print the node's PeerId, DID and listen addresses.
    Id,
    /// Print the running node's status.
    Status,
    /// List the running node's peers.
    Peers,
    /// Read the chain.
    #[command(subcommand)]
    Chain(ChainCommand),
    /// Submit and look up items.
    #[command(subcommand)]
    Item(ItemCommand),
    /// Print the SPV proof of a confirmed item (JSON).
    Proof {
        /// Item id (64 hex).
        id: String,
    },
    /// Ask the running light client: items, revocations, DID documents, with proofs.
    #[command(subcommand)]
    Light(LightCommand),
    /// Check a saved proof (`talos light ... --save FILE`) against the running node's headers,
    /// asking nobody; without a running node, against the data dir's store.
    VerifyProof {
        /// The proof file (JSON).
        file: PathBuf,
        /// Confirmations an inclusion proof needs.
        #[arg(long, default_value_t = 1, value_name = "N")]
        min_confirmations: u64,
    },
    /// Send an end-to-end encrypted message to an agent (by did:key or PeerId).
    Send {
        /// The recipient: `did:key:z6Mk...` or a PeerId.
        to: String,
        /// The message (`-` or nothing with no `--file`: read stdin).
        #[arg(conflicts_with = "file")]
        text: Option<String>,
        /// Send this file's content.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Also put the envelope's hash on chain (an anchor item signed by the node key), so
        /// the message can later be proved sent.
        #[arg(long)]
        anchor: bool,
        /// Return once queued instead of waiting until it is handed over.
        #[arg(long)]
        no_wait: bool,
    },
    /// List received messages.
    Inbox {
        /// Keep printing new messages as they arrive.
        #[arg(long)]
        follow: bool,
        /// Only this sender's (did:key or PeerId), in its order.
        #[arg(long, value_name = "DID")]
        from: Option<String>,
        /// Delete the messages numbered up to N instead (the inbox is bounded per sender and
        /// in total; deleting what was read makes room).
        #[arg(long, value_name = "N", conflicts_with_all = ["follow", "from"])]
        delete_through: Option<u64>,
    },
    /// List the agent's end-to-end encrypted sessions.
    Sessions,
    /// Publish or resolve DID records in the DHT.
    #[command(subcommand)]
    Did(DidCommand),
    /// Print a network spec and its genesis hash.
    Spec {
        /// `local`, `testnet` or a spec file [default: --network, else local].
        network: Option<String>,
    },
}

/// `talos light ...`: questions a light client answers with proofs from several full nodes.
#[derive(Debug, Subcommand)]
pub enum LightCommand {
    /// Is this item in the best chain, and how deep?
    Verify {
        /// Item id (64 hex).
        id: String,
        /// Confirmations needed for `verified` (else `pending`).
        #[arg(long, default_value_t = 1, value_name = "N")]
        min_confirmations: u64,
        /// Save the settling proof to this file (for `talos verify-proof`).
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },
    /// Is this capability revoked?
    Revoked {
        /// Capability id (64 hex).
        id: String,
        /// Save the settling proof to this file.
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },
    /// The current DID document anchored by a `did:key`'s own key.
    Did {
        /// The `did:key`.
        did: String,
        /// Save the settling proof to this file.
        #[arg(long, value_name = "FILE")]
        save: Option<PathBuf>,
    },
}

/// `talos did ...`.
#[derive(Debug, Subcommand)]
pub enum DidCommand {
    /// Publish this node's DID record now (it is also published at start and every 12 h).
    Publish,
    /// The best valid DID record of a did:key (this node's store and the DHT).
    Resolve {
        /// The `did:key`.
        did: String,
    },
}

/// `talos chain ...`.
#[derive(Debug, Subcommand)]
pub enum ChainCommand {
    /// The best tip.
    Head,
    /// A block by height (best chain) or id.
    Block {
        /// Height (decimal) or block id (64 hex).
        key: String,
    },
}

/// `talos item ...`.
#[derive(Debug, Subcommand)]
pub enum ItemCommand {
    /// Sign an anchor of some data's SHA-256 with the node key and submit it.
    Submit {
        /// The data: text, or `hex:<bytes>`.
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        data: Option<String>,
        /// Anchor this file's content.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Label stored with the anchor.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Show an item (confirmed or pending).
    Show {
        /// Item id (64 hex).
        id: String,
    },
}

/// Maps flags to a config layer: the one place where flags become configuration. `run` is
/// `None` for commands without node settings.
pub fn to_overrides(global: &GlobalArgs, run: Option<&RunArgs>) -> ConfigOverrides {
    let mut o = ConfigOverrides {
        network: global.network.clone(),
        data_dir: global.data_dir.clone(),
        api_addr: global.api_addr,
        ..ConfigOverrides::default()
    };
    if let Some(r) = run {
        o.role = r.role;
        o.listen = (!r.listen.is_empty()).then(|| r.listen.clone());
        o.bootnodes = (!r.bootnodes.is_empty()).then(|| r.bootnodes.clone());
        // An absent `--mine` leaves talos.toml / TALOS_MINE in charge.
        o.mine = r.mine.then_some(true);
        o.miner_threads = r.miner_threads;
        o.metrics_addr = r.metrics_addr;
        o.log_format = r.log_format;
    }
    o
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::Config;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("talos").chain(args.iter().copied())).unwrap()
    }

    fn run_overrides(args: &[&str]) -> ConfigOverrides {
        let cli = parse(args);
        match &cli.command {
            Command::Run(r) | Command::Init(r) => to_overrides(&cli.global, Some(r)),
            _ => to_overrides(&cli.global, None),
        }
    }

    #[test]
    fn no_flags_override_nothing() {
        assert_eq!(run_overrides(&["run"]), ConfigOverrides::default());
        assert_eq!(run_overrides(&["status"]), ConfigOverrides::default());
    }

    #[test]
    fn every_flag_maps() {
        let o = run_overrides(&[
            "run",
            "--role",
            "bootstrap",
            "--network",
            "testnet",
            "--listen",
            "/ip4/127.0.0.1/tcp/1",
            "--listen",
            "/ip4/127.0.0.1/udp/1/quic-v1",
            "--bootnode",
            "/ip4/10.0.0.1/tcp/7400",
            "--mine",
            "--miner-threads",
            "3",
            "--data-dir",
            "/tmp/x",
            "--api-addr",
            "127.0.0.1:9001",
            "--metrics-addr",
            "127.0.0.1:9002",
            "--log-format",
            "json",
        ]);
        assert_eq!(o.role, Some(Role::Bootstrap));
        assert_eq!(o.network.as_deref(), Some("testnet"));
        let listen: Vec<String> = o.listen.unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(
            listen,
            ["/ip4/127.0.0.1/tcp/1", "/ip4/127.0.0.1/udp/1/quic-v1"]
        );
        assert_eq!(
            o.bootnodes.unwrap()[0].to_string(),
            "/ip4/10.0.0.1/tcp/7400"
        );
        assert_eq!(o.mine, Some(true));
        assert_eq!(o.miner_threads, Some(3));
        assert_eq!(o.data_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(o.api_addr.unwrap().to_string(), "127.0.0.1:9001");
        assert_eq!(o.metrics_addr.unwrap().to_string(), "127.0.0.1:9002");
        assert_eq!(o.log_format, Some(LogFormat::Json));
    }

    #[test]
    fn global_flags_work_before_and_after_the_subcommand_and_for_clients() {
        let o = run_overrides(&["--data-dir", "/d", "status", "--api-addr", "127.0.0.1:1"]);
        assert_eq!(o.data_dir, Some(PathBuf::from("/d")));
        assert_eq!(o.api_addr.unwrap().port(), 1);
        let cli = parse(&["chain", "block", "12", "--json"]);
        assert!(cli.global.json);
        assert!(
            matches!(cli.command, Command::Chain(ChainCommand::Block { ref key }) if key == "12")
        );
    }

    #[test]
    fn flags_override_env_and_file() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("talos.toml"),
            "miner_threads = 2\nlog_format = \"text\"\n",
        )
        .unwrap();
        let dir = tmp.path().to_str().unwrap();
        let env: HashMap<&str, &str> = [("TALOS_MINER_THREADS", "4"), ("TALOS_LOG_FORMAT", "text")]
            .into_iter()
            .collect();
        let env = |k: &str| env.get(k).map(|v| (*v).to_owned());
        let flags = run_overrides(&["run", "--data-dir", dir, "--mine", "--miner-threads", "6"]);
        let c = Config::resolve(flags, &env).unwrap();
        assert_eq!(c.miner_threads, 6);
        assert!(c.mine);
        let flags = run_overrides(&["run", "--data-dir", dir, "--log-format", "json"]);
        let c = Config::resolve(flags, &env).unwrap();
        assert_eq!(c.miner_threads, 4, "env over file when no flag");
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn bad_flags_error_clearly() {
        let err = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("talos").chain(args.iter().copied()))
                .unwrap_err()
                .to_string()
        };
        assert!(
            err(&["run", "--role", "heavy"]).contains("expected `bootstrap`, `full` or `light`")
        );
        assert!(err(&["run", "--listen", "nope"]).contains("--listen"));
        assert!(err(&["run", "--miner-threads", "2"]).contains("--mine"));
        assert!(err(&["run", "--api-addr", "localhost"]).contains("--api-addr"));
        assert!(err(&["run", "--log-format", "xml"]).contains("expected `text` or `json`"));
        assert!(err(&["item", "submit"]).contains("--data"));
        assert!(err(&["item", "submit", "--data", "a", "--file", "b"]).contains("cannot be used"));
        // Non-loopback API addresses parse but are refused by the config.
        let tmp = tempfile::tempdir().unwrap();
        let flags = run_overrides(&[
            "run",
            "--data-dir",
            tmp.path().to_str().unwrap(),
            "--api-addr",
            "0.0.0.0:7401",
        ]);
        let e = Config::resolve(flags, &|_| None).unwrap_err().to_string();
        assert!(e.contains("loopback"), "{e}");
    }

    #[test]
    fn bare_talos_prints_help() {
        let e = Cli::try_parse_from(["talos"]).unwrap_err();
        assert_eq!(
            e.kind(),
            clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
    }
}
