//! The `talos` command line (clap).
//!
//! - `talos run` runs a node ([`run`]);
//! - `talos init`, `talos id`, `talos spec` work on the data dir and network spec alone;
//! - `talos status|peers|chain|item|proof` talk to a running node's local API, at the address
//!   the node recorded in its data dir (or `--api-addr`), with the cookie it wrote there
//!   ([`client`]).
//!
//! Configuration precedence: defaults < `talos.toml` < `TALOS_*` < flags; the flag mapping is
//! [`args::to_overrides`]. Every failure, including a node that stops by itself, exits with
//! status 1 and names its cause.

pub mod args;
pub mod client;
mod light;
mod local;
mod messages;
pub mod output;
mod progress;
mod queries;
pub mod run;
pub mod submit;

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::config::{Config, ConfigOverrides, load_network};
pub use args::{Cli, Command, to_overrides};
use client::ApiClient;
pub use output::Format;

/// Entry point of the `talos` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, `: `-separated. A cause whose text its wrapper
/// already ends with (a wrapper that prints its source) is not repeated.
pub fn report(e: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !text.is_empty() && !last.ends_with(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        last = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "in use");
        let e = anyhow::Error::new(Outer(io)).context("starting");
        assert_eq!(report(&e), "starting: outer: in use");
        let plain = anyhow::anyhow!("just this");
        assert_eq!(report(&plain), "just this");
    }
}

fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// What a command works on: the resolved configuration, the API address given explicitly (a
/// flag or `TALOS_API_ADDR`), and the output format.
#[derive(Debug)]
pub struct Target {
    /// The configuration.
    pub config: Config,
    /// `--api-addr` or `TALOS_API_ADDR`, when given.
    pub api: Option<SocketAddr>,
    /// `--json` or text.
    pub format: Format,
}

impl Target {
    /// A client of the running node.
    pub fn client(&self) -> anyhow::Result<ApiClient> {
        ApiClient::for_node(&self.config, self.api)
    }
}

/// Runs one parsed command.
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let format = Format::from_json_flag(cli.global.json);
    let target = |run: Option<&args::RunArgs>| -> anyhow::Result<Target> {
        let flags = to_overrides(&cli.global, run);
        let api = match flags.api_addr {
            Some(addr) => Some(addr),
            None => ConfigOverrides::from_env(&env_var)?.api_addr,
        };
        let config = Config::resolve(flags, &env_var).context("configuration")?;
        Ok(Target {
            config,
            api,
            format,
        })
    };
    match &cli.command {
        Command::Run(r) => run::run(target(Some(r))?.config),
        Command::Init(r) => local::init(&target(Some(r))?, &to_overrides(&cli.global, Some(r))),
        Command::Id => local::id(&target(None)?),
        Command::Status => queries::status(&target(None)?),
        Command::Peers => queries::peers(&target(None)?),
        Command::Chain(c) => queries::chain(&target(None)?, c),
        Command::Item(c) => queries::item(&target(None)?, c),
        Command::Proof { id } => queries::proof(&target(None)?, id),
        Command::Light(c) => light::light(&target(None)?, c),
        Command::VerifyProof {
            file,
            min_confirmations,
        } => light::verify_proof(&target(None)?, file, *min_confirmations),
        Command::Send {
            to,
            text,
            file,
            anchor,
            no_wait,
        } => messages::send(
            &target(None)?,
            &messages::Outgoing {
                to,
                text: text.as_deref(),
                file: file.as_ref(),
                anchor: *anchor,
                no_wait: *no_wait,
            },
        ),
        Command::Inbox {
            delete_through: Some(through),
            ..
        } => messages::delete_inbox(&target(None)?, *through),
        Command::Inbox { follow, from, .. } => {
            messages::inbox(&target(None)?, *follow, from.as_deref())
        }
        Command::Sessions => messages::sessions(&target(None)?),
        Command::Did(c) => messages::did(&target(None)?, c),
        Command::Spec { network } => {
            let name = network
                .as_deref()
                .or(cli.global.network.as_deref())
                .unwrap_or("local");
            local::spec(&load_network(name)?, format)
        }
    }
}
