//! The commands that work on the data dir and the network spec alone: `init`, `id`, `spec`.

use serde::Serialize;
use talos_api::types::NodeStatus;
use talos_chain::NetworkSpec;

use super::Target;
use super::output::{Format, outln, print_json};
use crate::config::{ConfigOverrides, render_config_file};
use crate::files::{WriteMode, write_private_file};
use crate::identity::NodeIdentity;

/// `talos init --json`.
#[derive(Serialize)]
struct InitJson<'a> {
    data_dir: &'a std::path::Path,
    peer_id: String,
    did: &'a str,
    key_created: bool,
    config_created: bool,
}

/// `talos init`: data dir, key and talos.toml (never overwritten).
pub(super) fn init(target: &Target, file_layer: &ConfigOverrides) -> anyhow::Result<()> {
    let config = &target.config;
    let (id, created_key) = NodeIdentity::load_or_create(&config.data_dir)?;
    let path = config.config_file_path();
    let created_config = !path.exists();
    if created_config {
        let mut layer = file_layer.clone();
        layer.data_dir = None;
        write_private_file(
            &path,
            render_config_file(&layer).as_bytes(),
            WriteMode::CreateNew,
        )?;
    }
    if target.format == Format::Json {
        return print_json(&InitJson {
            data_dir: &config.data_dir,
            peer_id: id.peer_id().to_string(),
            did: id.did(),
            key_created: created_key,
            config_created: created_config,
        });
    }
    let note = |created: bool| if created { "created" } else { "kept existing" };
    outln!("data dir   {}", config.data_dir.display());
    outln!(
        "key        {} ({})",
        config.key_path().display(),
        note(created_key)
    );
    outln!("config     {} ({})", path.display(), note(created_config));
    outln!("peer id    {}", id.peer_id());
    outln!("did        {}", id.did());
    Ok(())
}

/// `talos id --json`.
#[derive(Serialize)]
struct IdJson<'a> {
    peer_id: String,
    did: &'a str,
    listen_addrs: &'a [String],
    listen_addrs_source: &'a str,
}

/// `talos id`.
pub(super) fn id(target: &Target) -> anyhow::Result<()> {
    let config = &target.config;
    let id = NodeIdentity::load(&config.data_dir)?;
    // The running node's actual addresses if it is up, else the configured ones.
    let running = target
        .client()
        .ok()
        .and_then(|c| c.get::<NodeStatus>("/v1/status").ok());
    let (addrs, source) = match running {
        Some(status) => (status.listen_addrs, "running node"),
        None => (
            config.listen.iter().map(ToString::to_string).collect(),
            "config; node not running",
        ),
    };
    if target.format == Format::Json {
        return print_json(&IdJson {
            peer_id: id.peer_id().to_string(),
            did: id.did(),
            listen_addrs: &addrs,
            listen_addrs_source: source,
        });
    }
    outln!("peer id    {}", id.peer_id());
    outln!("did        {}", id.did());
    outln!("listen     ({source})");
    for a in addrs {
        outln!("  {a}/p2p/{}", id.peer_id());
    }
    Ok(())
}

/// `talos spec --json`: the spec and its genesis hash.
#[derive(Serialize)]
struct SpecJson<'a> {
    #[serde(flatten)]
    spec: &'a NetworkSpec,
    genesis_hash: String,
}

/// `talos spec`.
pub(super) fn spec(spec: &NetworkSpec, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(&SpecJson {
            spec,
            genesis_hash: spec.genesis_hash().to_hex(),
        });
    }
    outln!("network            {}", spec.name);
    outln!("network id         {:#010x}", spec.network_id);
    outln!("genesis hash       {}", spec.genesis_hash());
    outln!("genesis target     {}", spec.genesis_target);
    outln!("block interval     {} ms", spec.retarget.block_interval_ms);
    outln!("max block          {} bytes", spec.limits.max_block_bytes);
    outln!("max item           {} bytes", spec.limits.max_item_bytes);
    outln!(
        "mempool            {} items / {} bytes",
        spec.limits.mempool_max_items,
        spec.limits.mempool_max_bytes
    );
    outln!("bootnodes          {}", spec.bootnodes.len());
    Ok(())
}
