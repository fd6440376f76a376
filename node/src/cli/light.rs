//! `talos light verify|revoked|did` and `talos verify-proof`: the light client's questions,
//! asked through the running node's API, answers printed with their proof status.

use std::path::Path;

use anyhow::Context;
use talos_api::light::LightAnswerJson;
use talos_light::saved::SavedProof;

use talos_network::light::{FullHeaders, LightHeaders};
use talos_storage::{SledConfig, SledHeaderStore, SledStore};

use super::Target;
use super::args::LightCommand;
use super::output::{Format, outln, print_json};
use crate::config::Config;
use crate::files::read_api_addr;
use crate::light::{HEADERS_DIR, LIGHT_CACHE_BYTES, judge_saved};
use crate::node::CHAIN_DIR;

/// `talos light ...`.
pub(super) fn light(target: &Target, command: &LightCommand) -> anyhow::Result<()> {
    let client = target.client()?;
    let (answer, save): (LightAnswerJson, _) = match command {
        LightCommand::Verify {
            id,
            min_confirmations,
            save,
        } => (
            client.get(&format!(
                "/v1/light/verify/{id}?min_confirmations={min_confirmations}"
            ))?,
            save,
        ),
        LightCommand::Revoked { id, save } => {
            (client.get(&format!("/v1/light/revoked/{id}"))?, save)
        }
        LightCommand::Did { did, save } => (client.get(&format!("/v1/light/did/{did}"))?, save),
    };
    if let Some(path) = save {
        save_proof(&answer, path)?;
    }
    print_answer(target.format, &answer)
}

/// `talos verify-proof FILE`.
pub(super) fn verify_proof(
    target: &Target,
    file: &Path,
    min_confirmations: u64,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let proof: SavedProof = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a saved proof", file.display()))?;
    let running = target.api.is_some() || read_api_addr(&target.config.data_dir)?.is_some();
    let answer: LightAnswerJson = if running {
        target.client()?.post(
            &format!("/v1/light/verify-proof?min_confirmations={min_confirmations}"),
            &proof,
        )?
    } else {
        offline(&target.config, &proof, min_confirmations)?
    };
    print_answer(target.format, &answer)
}

/// Checks a saved proof against the data dir's own store, the node being stopped: a light
/// client's header store, else a full node's chain store.
fn offline(
    config: &Config,
    proof: &SavedProof,
    min_confirmations: u64,
) -> anyhow::Result<LightAnswerJson> {
    let spec = &config.network;
    let headers_dir = config.data_dir.join(HEADERS_DIR);
    let chain_dir = config.data_dir.join(CHAIN_DIR);
    let answer = if headers_dir.is_dir() {
        let store = SledHeaderStore::open(&headers_dir, &spec.genesis().header, LIGHT_CACHE_BYTES)
            .with_context(|| format!("opening {}", headers_dir.display()))?;
        judge_saved(&LightHeaders(&store), proof, spec, min_confirmations)
    } else if chain_dir.is_dir() {
        let store = SledStore::open(&chain_dir, &spec.genesis(), SledConfig::for_spec(spec))
            .with_context(|| format!("opening {}", chain_dir.display()))?;
        judge_saved(&FullHeaders(&store), proof, spec, min_confirmations)
    } else {
        anyhow::bail!(
            "no node runs with --data-dir {} and it holds no store to check against",
            config.data_dir.display()
        );
    };
    answer.map_err(|e| anyhow::anyhow!("{e}"))
}

fn save_proof(answer: &LightAnswerJson, path: &Path) -> anyhow::Result<()> {
    let proof = answer
        .proof
        .as_ref()
        .context("no node proved anything: there is no proof to save")?;
    let json = serde_json::to_string_pretty(proof)?;
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
}

fn print_answer(format: Format, a: &LightAnswerJson) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(a);
    }
    let reason = a
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    outln!("{}{reason}", a.outcome.replace('_', " "));
    if let (Some(block), Some(height)) = (&a.block, a.height) {
        outln!("block      #{height} {block}");
    }
    if let Some(c) = a.confirmations {
        let needed = a
            .min_confirmations
            .map(|n| format!(" (asked {n})"))
            .unwrap_or_default();
        outln!("depth      {c} confirmations{needed}");
    }
    if let Some(item) = &a.record_item {
        outln!("set by     item {item}");
    }
    if let Some(doc) = &a.document_hash {
        outln!("document   {doc}");
    }
    if let Some(peer) = &a.proven_by {
        outln!("proven by  {peer}");
    }
    outln!(
        "asked      {} full nodes ({} not found, {} no answer)",
        a.asked.len(),
        a.not_found,
        a.unavailable
    );
    for liar in &a.liars {
        let why = liar
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        outln!("LIED       {} ({}{why})", liar.peer_id, liar.lie);
    }
    Ok(())
}
