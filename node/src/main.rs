//! `talos`: the Talos node binary.
//!
//! The networked node (swarm, sync, API) lands with the node issue. Today the binary answers
//! `talos spec [NETWORK|FILE]`: it prints a network's parameters and its genesis hash, which is
//! how two separately built nodes check that they agree on a network.

use std::process::ExitCode;

use talos_chain::NetworkSpec;

fn load_spec(arg: Option<&str>) -> Result<NetworkSpec, String> {
    let name = arg.unwrap_or("local");
    if let Some(spec) = NetworkSpec::embedded(name) {
        return Ok(spec);
    }
    let text =
        std::fs::read_to_string(name).map_err(|e| format!("cannot read spec {name}: {e}"))?;
    NetworkSpec::from_toml(&text).map_err(|e| e.to_string())
}

fn print_spec(spec: &NetworkSpec) {
    println!("network            {}", spec.name);
    println!("network id         {:#010x}", spec.network_id);
    println!("genesis hash       {}", spec.genesis_hash());
    println!("genesis target     {}", spec.genesis_target);
    println!("block interval     {} ms", spec.retarget.block_interval_ms);
    println!("max block          {} bytes", spec.limits.max_block_bytes);
    println!("max item           {} bytes", spec.limits.max_item_bytes);
    println!(
        "mempool            {} items / {} bytes",
        spec.limits.mempool_max_items, spec.limits.mempool_max_bytes
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("spec") => match load_spec(args.get(1).map(String::as_str)) {
            Ok(spec) => {
                print_spec(&spec);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some("--version" | "-V") => {
            println!("talos {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: talos spec [local|testnet|<spec.toml>]\n\n\
                 The networked node (`talos run`) is coming with the node issue."
            );
            ExitCode::from(2)
        }
    }
}
