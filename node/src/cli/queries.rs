//! The commands that ask the running node through its local API; answers are parsed into the
//! API's own types ([`talos_api::types`]).

use anyhow::Context;
use talos_api::types::{
    BlockJson, HeadJson, ItemJson, ItemStatusJson, KindJson, NodeStatus, PeersJson, ProofJson,
    SubmitRequest, SubmitResponse, SyncState,
};

use super::Target;
use super::args::{ChainCommand, ItemCommand};
use super::output::{Format, outln, print_json};
use super::submit;
use crate::identity::NodeIdentity;

/// `talos status`.
pub(super) fn status(target: &Target) -> anyhow::Result<()> {
    let s: NodeStatus = target.client()?.get("/v1/status")?;
    if target.format == Format::Json {
        return print_json(&s);
    }
    let sync = match s.sync {
        SyncState::Idle => "idle".to_owned(),
        SyncState::Syncing { target_height } => format!("syncing to #{target_height}"),
    };
    let mining = if s.mining { "on" } else { "off" };
    outln!(
        "network    {} (role {}, mining {mining})",
        s.network,
        s.role
    );
    outln!("peer id    {}", s.peer_id);
    outln!("did        {}", s.did);
    outln!("tip        #{} {}", s.tip_height, s.tip_id);
    outln!("work       {}", s.cumulative_work);
    outln!("peers      {}", s.peers);
    if s.role != "light" {
        outln!("mempool    {} items", s.mempool_items);
    }
    if let Some(headers) = s.headers_stored {
        outln!("headers    {headers} stored");
    }
    outln!("sync       {sync}");
    if let Some(rss) = s.rss_bytes {
        outln!(
            "memory     {:.1} MiB resident",
            rss as f64 / (1024.0 * 1024.0)
        );
    }
    if let Some(disk) = s.disk_bytes {
        outln!("disk       {:.1} MiB", disk as f64 / (1024.0 * 1024.0));
    }
    for addr in &s.listen_addrs {
        outln!("listen     {addr}");
    }
    Ok(())
}

/// `talos peers`.
pub(super) fn peers(target: &Target) -> anyhow::Result<()> {
    let p: PeersJson = target.client()?.get("/v1/peers")?;
    if target.format == Format::Json {
        return print_json(&p);
    }
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
        } => format!("audit_event {subject} {action} -> {outcome}"),
        KindJson::DidAnchor { did, document_hash } => format!("did_anchor {did} {document_hash}"),
        KindJson::Revocation {
            capability_id,
            reason,
        } => format!("revocation {capability_id} {reason:?}"),
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
pub(super) fn chain(target: &Target, cmd: &ChainCommand) -> anyhow::Result<()> {
    let c = target.client()?;
    match cmd {
        ChainCommand::Head => {
            let h: HeadJson = c.get("/v1/chain/head")?;
            if target.format == Format::Json {
                return print_json(&h);
            }
            outln!("#{} {}", h.height, h.id);
            outln!("time       {} ms", h.header.timestamp_ms);
            outln!("items      {}", h.header.item_count);
            outln!("target     {}", h.header.target);
            outln!("work       {}", h.cumulative_work);
        }
        ChainCommand::Block { key } => {
            let b: BlockJson = c.get(&format!("/v1/chain/block/{key}"))?;
            if target.format == Format::Json {
                return print_json(&b);
            }
            let h = &b.header;
            let side = if b.best_chain { "" } else { " (side chain)" };
            outln!("#{} {}{side}", h.height, h.id);
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

/// `talos item submit --json`.
#[derive(serde::Serialize)]
struct SubmittedJson {
    id: String,
    status: String,
    content_hash: String,
    nonce: u64,
}

/// `talos item ...`.
pub(super) fn item(target: &Target, cmd: &ItemCommand) -> anyhow::Result<()> {
    let config = &target.config;
    match cmd {
        ItemCommand::Submit { data, file, label } => {
            let content_hash = match (data, file) {
                (Some(d), _) => talos_chain::Hash256::sha256(&submit::data_bytes(d)?),
                (None, Some(f)) => submit::hash_file(f)?,
                (None, None) => anyhow::bail!("give --data or --file"),
            };
            let c = target.client()?;
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
            if target.format == Format::Json {
                return print_json(&SubmittedJson {
                    id: r.id,
                    status: r.status,
                    content_hash: content_hash.to_hex(),
                    nonce,
                });
            }
            outln!("{}", r.id);
            eprintln!(
                "submitted anchor of {content_hash} ({}); `talos item show {}` to follow it",
                r.status, r.id
            );
        }
        ItemCommand::Show { id } => {
            let st: ItemStatusJson = target.client()?.get(&format!("/v1/items/{id}"))?;
            if target.format == Format::Json {
                return print_json(&st);
            }
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
pub(super) fn proof(target: &Target, id: &str) -> anyhow::Result<()> {
    let p: ProofJson = target.client()?.get(&format!("/v1/proof/{id}"))?;
    print_json(&p)
}
