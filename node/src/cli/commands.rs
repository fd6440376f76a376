//! The commands other than `run`: local ones (`init`, `id`, `spec`) and API clients.

use anyhow::Context;
use serde_json::Value;
use talos_chain::NetworkSpec;

use super::args::{ChainCommand, ItemCommand};
use super::client::ApiClient;
use super::submit;
use crate::api::json::PeersJson;
use crate::api::{
    BlockJson, HeadJson, ItemJson, ItemStatusJson, KindJson, SubmitRequest, SubmitResponse,
};
use crate::config::{Config, ConfigOverrides, render_config_file};
use crate::identity::{NodeIdentity, write_private_file};

/// `println!` that ignores a closed stdout (`talos ... | head`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn client(config: &Config) -> anyhow::Result<ApiClient> {
    ApiClient::new(config.api_addr, &config.cookie_path())
}

/// `talos init`: data dir, key and talos.toml (never overwritten).
pub(super) fn init(
    config: &Config,
    file_layer: &ConfigOverrides,
    json: bool,
) -> anyhow::Result<()> {
    let (id, created_key) = NodeIdentity::load_or_create(&config.data_dir)?;
    let path = config.config_file_path();
    let created_config = !path.exists();
    if created_config {
        let mut layer = file_layer.clone();
        layer.data_dir = None;
        write_private_file(&path, render_config_file(&layer).as_bytes(), true)?;
    }
    if json {
        return print_json(&serde_json::json!({
            "data_dir": config.data_dir,
            "peer_id": id.peer_id().to_string(),
            "did": id.did(),
            "key_created": created_key,
            "config_created": created_config,
        }));
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

/// `talos id`.
pub(super) fn id(config: &Config, json: bool) -> anyhow::Result<()> {
    let id = NodeIdentity::load(&config.data_dir)?;
    // The running node's actual addresses if it is up, else the configured ones.
    let running = client(config)
        .ok()
        .and_then(|c| c.get::<Value>("/v1/status").ok());
    let (addrs, source) = match running.as_ref().and_then(|s| s.get("listen_addrs")) {
        Some(Value::Array(a)) => (
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect::<Vec<_>>(),
            "running node",
        ),
        _ => (
            config.listen.iter().map(ToString::to_string).collect(),
            "config; node not running",
        ),
    };
    if json {
        return print_json(&serde_json::json!({
            "peer_id": id.peer_id().to_string(),
            "did": id.did(),
            "listen_addrs": addrs,
            "listen_addrs_source": source,
        }));
    }
    outln!("peer id    {}", id.peer_id());
    outln!("did        {}", id.did());
    outln!("listen     ({source})");
    for a in addrs {
        outln!("  {a}/p2p/{}", id.peer_id());
    }
    Ok(())
}

/// `talos spec`.
pub(super) fn spec(spec: &NetworkSpec, json: bool) -> anyhow::Result<()> {
    if json {
        let mut v = serde_json::to_value(spec)?;
        if let Value::Object(m) = &mut v {
            m.insert(
                "genesis_hash".into(),
                Value::String(spec.genesis_hash().to_hex()),
            );
        }
        return print_json(&v);
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

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("?")
}

/// `talos status`.
pub(super) fn status(config: &Config, json: bool) -> anyhow::Result<()> {
    let v: Value = client(config)?.get("/v1/status")?;
    if json {
        return print_json(&v);
    }
    let sync = match v.get("sync") {
        Some(Value::Object(m)) => m
            .get("syncing")
            .and_then(|t| t.get("target_height"))
            .map(|h| format!("syncing to #{h}"))
            .unwrap_or_else(|| "syncing".into()),
        Some(Value::String(st)) => st.clone(),
        _ => "?".into(),
    };
    outln!(
        "network    {} (role {}, mining {})",
        s(&v, "network"),
        s(&v, "role"),
        if v.get("mining").and_then(Value::as_bool).unwrap_or(false) {
            "on"
        } else {
            "off"
        }
    );
    outln!("peer id    {}", s(&v, "peer_id"));
    outln!("did        {}", s(&v, "did"));
    outln!(
        "tip        #{} {}",
        v.get("tip_height").unwrap_or(&Value::Null),
        s(&v, "tip_id")
    );
    outln!("work       {}", s(&v, "cumulative_work"));
    outln!("peers      {}", v.get("peers").unwrap_or(&Value::Null));
    outln!(
        "mempool    {} items",
        v.get("mempool_items").unwrap_or(&Value::Null)
    );
    outln!("sync       {sync}");
    if let Some(Value::Array(a)) = v.get("listen_addrs") {
        for addr in a.iter().filter_map(Value::as_str) {
            outln!("listen     {addr}");
        }
    }
    Ok(())
}

/// `talos peers`.
pub(super) fn peers(config: &Config, json: bool) -> anyhow::Result<()> {
    let c = client(config)?;
    if json {
        return print_json(&c.get::<Value>("/v1/peers")?);
    }
    let p: PeersJson = c.get("/v1/peers")?;
    if p.peers.is_empty() {
        outln!("no peers");
    }
    for peer in p.peers {
        let tip = peer
            .tip_height
            .map(|h| format!("#{h}"))
            .unwrap_or_else(|| "-".into());
        let score = peer
            .gossip_score
            .map(|s| format!("{s:.1}"))
            .unwrap_or_else(|| "-".into());
        outln!(
            "{}  tip {tip}  score {score}  {}",
            peer.peer_id,
            peer.agent.unwrap_or_default()
        );
        for a in peer.addrs {
            outln!("    {a}");
        }
    }
    Ok(())
}

fn kind_line(k: &KindJson) -> String {
    match k {
        KindJson::Anchor {
            content_hash,
            label,
        } => format!("anchor {content_hash} label {label:?}"),
        KindJson::AuditEvent {
            subject,
            action,
            outcome,
            ..
        } => {
            format!("audit_event {subject} {action} -> {outcome}")
        }
        KindJson::DidAnchor { did, document_hash } => format!("did_anchor {did} {document_hash}"),
        KindJson::Revocation {
            capability_id,
            reason,
        } => {
            format!("revocation {capability_id} {reason:?}")
        }
    }
}

fn print_item(i: &ItemJson) {
    outln!("id         {}", i.id);
    outln!("kind       {}", kind_line(&i.kind));
    outln!("author     {}", i.author_did);
    outln!("nonce      {}", i.nonce);
    outln!("time       {} ms", i.timestamp_ms);
}

/// `talos chain ...`.
pub(super) fn chain(config: &Config, cmd: &ChainCommand, json: bool) -> anyhow::Result<()> {
    let c = client(config)?;
    match cmd {
        ChainCommand::Head => {
            if json {
                return print_json(&c.get::<Value>("/v1/chain/head")?);
            }
            let h: HeadJson = c.get("/v1/chain/head")?;
            outln!("#{} {}", h.height, h.id);
            outln!("time       {} ms", h.header.timestamp_ms);
            outln!("items      {}", h.header.item_count);
            outln!("target     {}", h.header.target);
            outln!("work       {}", h.cumulative_work);
        }
        ChainCommand::Block { key } => {
            let path = format!("/v1/chain/block/{key}");
            if json {
                return print_json(&c.get::<Value>(&path)?);
            }
            let b: BlockJson = c.get(&path)?;
            let h = &b.header;
            outln!(
                "#{} {}{}",
                h.height,
                h.id,
                if b.best_chain { "" } else { " (side chain)" }
            );
            outln!("parent     {}", h.prev_hash);
            outln!("time       {} ms", h.timestamp_ms);
            outln!("merkle     {}", h.merkle_root);
            outln!("target     {}  nonce {}", h.target, h.nonce);
            outln!("size       {} bytes, {} items", b.size, h.item_count);
            for i in &b.items {
                outln!("  {}  {}", i.id, kind_line(&i.kind));
            }
        }
    }
    Ok(())
}

/// `talos item ...`.
pub(super) fn item(config: &Config, cmd: &ItemCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        ItemCommand::Submit { data, file, label } => {
            let content_hash = match (data, file) {
                (Some(d), _) => talos_chain::Hash256::sha256(&submit::data_bytes(d)?),
                (None, Some(f)) => submit::hash_file(f)?,
                (None, None) => anyhow::bail!("give --data or --file"),
            };
            let c = client(config)?;
            let id = NodeIdentity::load(&config.data_dir)?;
            let nonce = submit::next_nonce(&config.data_dir)?;
            let item = submit::anchor_item(
                id.signing_key(),
                config.network.network_id,
                content_hash,
                label.clone(),
                nonce,
            );
            let body = SubmitRequest {
                item: hex::encode(talos_chain::wire::encode_item(&item)),
            };
            let r: SubmitResponse = c.post("/v1/items", &body).context("submitting the item")?;
            if json {
                return print_json(&serde_json::json!({
                    "id": r.id, "status": r.status, "content_hash": content_hash.to_hex(), "nonce": nonce,
                }));
            }
            outln!("{}", r.id);
            eprintln!(
                "submitted anchor of {content_hash} ({}); `talos item show {}` to follow it",
                r.status, r.id
            );
        }
        ItemCommand::Show { id } => {
            let c = client(config)?;
            let path = format!("/v1/items/{id}");
            if json {
                return print_json(&c.get::<Value>(&path)?);
            }
            let st: ItemStatusJson = c.get(&path)?;
            outln!("status     {}", st.status);
            print_item(&st.item);
            if let Some(l) = st.location {
                outln!(
                    "block      #{} {} (position {}, {} confirmations)",
                    l.height,
                    l.block,
                    l.position,
                    l.confirmations
                );
            }
        }
    }
    Ok(())
}

/// `talos proof <id>`: always JSON.
pub(super) fn proof(config: &Config, id: &str) -> anyhow::Result<()> {
    let v: Value = client(config)?.get(&format!("/v1/proof/{id}"))?;
    print_json(&v)
}
