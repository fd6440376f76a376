//! `talos-sim`: runs a simulator scenario and writes its report.
//!
//! ```text
//! talos-sim run simulator/scenarios/partition-and-heal.toml [--out DIR] [--seed N] [--nodes N]
//!                [--without-adversaries]
//! talos-sim list [DIR]
//! ```
//!
//! `run` prints the report table, writes `report.json` and two SVG plots to the output
//! directory (default `target/sim/<scenario>`), and exits with status 1 if the scenario's
//! expectations were not met.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use talos_simulator::report::{Report, write_outputs};
use talos_simulator::scenario::Scenario;
use talos_simulator::{SimError, expect, runner};

#[derive(Parser)]
#[command(
    name = "talos-sim",
    version,
    about = "Simulate a Talos network in one process"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a scenario file.
    Run {
        /// The scenario (TOML).
        scenario: PathBuf,
        /// Output directory (default `target/sim/<scenario name>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overrides the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Overrides the number of nodes started at t = 0.
        #[arg(long)]
        nodes: Option<usize>,
        /// Runs the scenario with its adversaries left out (a baseline for the same run
        /// under attack; `attackers_banned` is then not expected).
        #[arg(long)]
        without_adversaries: bool,
        /// Log filter (tracing `EnvFilter` syntax).
        #[arg(long, default_value = "warn")]
        log: String,
    },
    /// Runs the messaging scenario: agents among real nodes, offline recipients, mailbox churn;
    /// prints delivery ratio and latency percentiles and writes `report.json`.
    Messaging {
        /// Seed.
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Nodes in all.
        #[arg(long, default_value_t = 50)]
        nodes: usize,
        /// Messaging agents among them.
        #[arg(long, default_value_t = 10)]
        agents: usize,
        /// Messages each online agent sends.
        #[arg(long, default_value_t = 10)]
        messages: usize,
        /// Agents offline while messages are sent.
        #[arg(long, default_value_t = 3)]
        offline: usize,
        /// Mailbox nodes that leave and come back while messages are in flight.
        #[arg(long, default_value_t = 8)]
        churn: usize,
        /// Output directory.
        #[arg(long, default_value = "target/sim/messaging")]
        out: PathBuf,
        /// Log filter (tracing `EnvFilter` syntax), written to stderr.
        #[arg(long, default_value = "warn")]
        log: String,
    },
    /// Lists the scenarios in a directory.
    List {
        /// Directory (default `simulator/scenarios`).
        #[arg(default_value = "simulator/scenarios")]
        dir: PathBuf,
    },
}

/// Logs to stderr through `filter` (tracing `EnvFilter` syntax).
fn init_log(filter: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            nodes,
            without_adversaries,
            log,
        } => {
            init_log(&log);
            match run(&scenario, out, seed, nodes, without_adversaries) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("talos-sim: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Messaging {
            seed,
            nodes,
            agents,
            messages,
            offline,
            churn,
            out,
            log,
        } => {
            init_log(&log);
            let scenario = talos_simulator::messaging::MessagingScenario {
                seed,
                nodes,
                agents,
                messages_per_agent: messages,
                offline_agents: offline,
                churned_mailboxes: churn,
                ..Default::default()
            };
            match messaging(&scenario, &out) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("talos-sim: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::List { dir } => match list(&dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("talos-sim: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// Runs the messaging scenario; `Ok(false)` when a message was lost or opened twice.
fn messaging(
    scenario: &talos_simulator::messaging::MessagingScenario,
    out: &std::path::Path,
) -> Result<bool, SimError> {
    if scenario.agents < 2 + scenario.offline_agents || scenario.nodes < scenario.agents + 2 {
        return Err(SimError::InvalidScenario(
            "need at least 2 online agents and 2 bootstrap nodes besides the agents".into(),
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("talos-sim")
        .build()?;
    let report = runtime.block_on(talos_simulator::messaging::run(scenario))?;
    println!("{}", report.table());
    std::fs::create_dir_all(out)?;
    let path = out.join("report.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&report)?)?;
    println!("wrote {}", path.display());
    Ok(report.delivery_ratio == 1.0 && report.duplicates == 0)
}

/// Runs one scenario; `Ok(false)` when an expectation was not met.
fn run(
    path: &std::path::Path,
    out: Option<PathBuf>,
    seed: Option<u64>,
    nodes: Option<usize>,
    without_adversaries: bool,
) -> Result<bool, SimError> {
    let mut scenario = Scenario::from_file(path)?;
    if without_adversaries {
        scenario.adversaries.clear();
        scenario.expect.attackers_banned = false;
    }
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    if let Some(nodes) = nodes {
        scenario.nodes = nodes;
        scenario.validate()?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("talos-sim")
        .build()?;
    eprintln!(
        "running {} ({} nodes, seed {}, {} s)...",
        scenario.name,
        scenario.total_nodes(),
        scenario.seed,
        scenario.duration_s
    );
    let record = runtime.block_on(runner::run(&scenario))?;
    let report = Report::from_record(&record);
    println!("{}", report.table());
    let dir = out.unwrap_or_else(|| PathBuf::from("target/sim").join(&scenario.name));
    let outputs = write_outputs(&record, &report, &dir)?;
    println!(
        "wrote {}, {}, {}",
        outputs.json.display(),
        outputs.cdf_svg.display(),
        outputs.timeline_svg.display()
    );
    let failures = expect::unmet(&scenario.expect, &record);
    for failure in &failures {
        println!("UNMET: {failure}");
    }
    if failures.is_empty() {
        println!("expectations met");
    }
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(failures.is_empty())
}

fn list(dir: &std::path::Path) -> Result<(), SimError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let scenario = Scenario::from_file(&path)?;
        println!(
            "{:<28} {:>5} nodes {:>6.0} s  {}",
            path.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            scenario.total_nodes(),
            scenario.duration_s,
            scenario.description
        );
    }
    Ok(())
}
