//! The `talos` command line (clap).
//!
//! - `talos run` runs a node ([`run`]);
//! - `talos init`, `talos id`, `talos spec` work on the data dir and network spec alone;
//! - `talos status|peers|chain|item|proof` talk to a running node's local API with the cookie
//!   from the data dir ([`client`]).
//!
//! Configuration precedence: defaults < `talos.toml` < `TALOS_*` < flags; the flag mapping is
//! [`args::to_overrides`].

pub mod args;
pub mod client;
mod commands;
mod progress;
pub mod run;
pub mod submit;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::config::{Config, load_network};
pub use args::{Cli, Command, to_overrides};

/// Entry point of the `talos` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// Runs one parsed command.
pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let json = cli.global.json;
    let resolve = |run: Option<&args::RunArgs>| {
        Config::resolve(to_overrides(&cli.global, run), &env_var).context("configuration")
    };
    match &cli.command {
        Command::Run(r) => run::run(resolve(Some(r))?),
        Command::Init(r) => {
            let config = resolve(Some(r))?;
            commands::init(&config, &to_overrides(&cli.global, Some(r)), json)
        }
        Command::Id => commands::id(&resolve(None)?, json),
        Command::Status => commands::status(&resolve(None)?, json),
        Command::Peers => commands::peers(&resolve(None)?, json),
        Command::Chain(c) => commands::chain(&resolve(None)?, c, json),
        Command::Item(c) => commands::item(&resolve(None)?, c, json),
        Command::Proof { id } => commands::proof(&resolve(None)?, id),
        Command::Spec { network } => {
            let name = network
                .as_deref()
                .or(cli.global.network.as_deref())
                .unwrap_or("local");
            commands::spec(&load_network(name)?, json)
        }
    }
}
