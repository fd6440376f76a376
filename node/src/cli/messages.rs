//! `talos send`, `talos inbox`, `talos sessions` and `talos did ...`: agent messaging through
//! the running node's API.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use talos_api::agent::{
    DeletedJson, DidPublishJson, DidRecordJson, InboxJson, InboxMessageJson, SendRequest,
    SendResponse, SessionsJson,
};
use talos_api::types::{SubmitRequest, SubmitResponse};
use talos_chain::Hash256;

use super::Target;
use super::args::DidCommand;
use super::output::{Format, outln, print_json};
use super::submit;
use crate::identity::NodeIdentity;

/// How often `talos inbox --follow` asks for new messages.
const FOLLOW_POLL: Duration = Duration::from_millis(300);

/// What `talos send` sends.
pub(super) struct Outgoing<'a> {
    pub(super) to: &'a str,
    pub(super) text: Option<&'a str>,
    pub(super) file: Option<&'a PathBuf>,
    pub(super) anchor: bool,
    pub(super) no_wait: bool,
}

fn body(out: &Outgoing<'_>) -> anyhow::Result<Vec<u8>> {
    match (out.text, out.file) {
        (Some("-"), None) | (None, None) => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading the message from stdin")?;
            Ok(buf)
        }
        (Some(text), None) => Ok(text.as_bytes().to_vec()),
        (_, Some(path)) => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        }
    }
}

/// `talos send <did|peer-id> <text|--file F>` (stdin without either).
pub(super) fn send(target: &Target, out: &Outgoing<'_>) -> anyhow::Result<()> {
    let bytes = body(out)?;
    let (messages, hex) = match String::from_utf8(bytes) {
        Ok(text) => (vec![text], false),
        Err(e) => (vec![hex::encode(e.into_bytes())], true),
    };
    let request = SendRequest {
        to: out.to.to_owned(),
        messages,
        hex,
        wait: !out.no_wait,
    };
    let client = target.client()?;
    let sent: SendResponse = client.post("/v1/messages", &request).context("sending")?;
    let mut anchors = Vec::new();
    if out.anchor {
        let config = &target.config;
        let id = NodeIdentity::load(&config.data_dir)?;
        for m in &sent.messages {
            let hash: Hash256 = m
                .envelope_hash
                .parse()
                .context("the node's envelope hash")?;
            let nonce = submit::next_nonce(&config.data_dir)?;
            let label = format!("msg:{}", m.message_id);
            let item = submit::anchor_item(
                id.signing_key(),
                config.network.network_id,
                hash,
                label,
                nonce,
            );
            let body = SubmitRequest {
                item: hex::encode(talos_chain::wire::encode_item(&item)),
            };
            let r: SubmitResponse = client
                .post("/v1/items", &body)
                .context("anchoring the envelope hash")?;
            anchors.push(r.id);
        }
    }
    if target.format == Format::Json {
        return print_json(
            &serde_json::json!({ "to": sent.to, "messages": sent.messages, "anchors": anchors }),
        );
    }
    for (i, m) in sent.messages.iter().enumerate() {
        outln!("sent {} to {} ({})", m.message_id, sent.to, m.delivery);
        outln!("envelope {}", m.envelope_hash);
        if let Some(item) = anchors.get(i) {
            outln!("anchor item {item} (pending; `talos proof {item}` once mined)");
        }
    }
    Ok(())
}

fn print_message(m: &InboxMessageJson, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        // One JSON object per line, so `--follow --json` is a stream of lines.
        outln!("{}", serde_json::to_string(m)?);
        return Ok(());
    }
    let body = m
        .text
        .clone()
        .unwrap_or_else(|| format!("hex:{}", m.hex.as_deref().unwrap_or("")));
    outln!(
        "#{} from {} ({}, seq {}): {body}",
        m.number,
        m.from,
        m.via,
        m.seq
    );
    Ok(())
}

/// `talos inbox [--follow] [--json] [--from DID]`.
pub(super) fn inbox(target: &Target, follow: bool, from: Option<&str>) -> anyhow::Result<()> {
    let client = target.client()?;
    let mut after: Option<u64> = None;
    loop {
        let mut path = String::from("/v1/messages?limit=1000");
        if let Some(n) = after {
            path.push_str(&format!("&after={n}"));
        }
        if let Some(from) = from {
            path.push_str(&format!("&from={from}"));
        }
        let page: InboxJson = client.get(&path)?;
        for m in &page.messages {
            print_message(m, target.format)?;
        }
        if let Some(last) = page.messages.iter().map(|m| m.number).max() {
            after = Some(last);
        }
        if page.messages.len() == 1000 {
            continue;
        }
        if !follow {
            return Ok(());
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

/// `talos inbox --delete-through N`.
pub(super) fn delete_inbox(target: &Target, through: u64) -> anyhow::Result<()> {
    let deleted: DeletedJson = target
        .client()?
        .delete(&format!("/v1/messages?through={through}"))?;
    match target.format {
        Format::Json => print_json(&deleted),
        Format::Text => {
            outln!("deleted {} messages", deleted.deleted);
            Ok(())
        }
    }
}

/// `talos sessions`.
pub(super) fn sessions(target: &Target) -> anyhow::Result<()> {
    let s: SessionsJson = target.client()?.get("/v1/sessions")?;
    if target.format == Format::Json {
        return print_json(&s);
    }
    if s.sessions.is_empty() {
        outln!("no sessions");
    }
    for x in &s.sessions {
        let role = if x.initiator {
            "initiator"
        } else {
            "responder"
        };
        let state = if x.confirmed {
            "confirmed"
        } else {
            "awaiting answer"
        };
        outln!(
            "{} {role}, {state}, {} older, {} skipped keys, {} unsent",
            x.peer,
            x.previous_sessions,
            x.skipped_keys,
            x.outbox
        );
    }
    Ok(())
}

/// `talos did publish|resolve`.
pub(super) fn did(target: &Target, command: &DidCommand) -> anyhow::Result<()> {
    let client = target.client()?;
    match command {
        DidCommand::Publish => {
            let p: DidPublishJson = client.post("/v1/did/publish", &serde_json::json!({}))?;
            if target.format == Format::Json {
                return print_json(&p);
            }
            outln!("published {} ({} peers stored it)", p.did, p.peers);
        }
        DidCommand::Resolve { did } => {
            let r: DidRecordJson = client.get(&format!("/v1/did/{did}"))?;
            if target.format == Format::Json {
                return print_json(&r);
            }
            outln!("did        {}", r.did);
            outln!("sequence   {}", r.sequence);
            outln!("expires    {} ms", r.expires_at_ms);
            outln!("{}", serde_json::to_string_pretty(&r.document)?);
        }
    }
    Ok(())
}
