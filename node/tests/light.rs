//! The light client end to end: real `talos run --role light` and full-node processes over
//! loopback TCP, observed through their APIs and the CLI.
//!
//! - it follows the most-work header chain from two full nodes and verifies an item with
//!   proofs from both, reports a too-shallow item as pending and an unknown one as not found;
//! - a revocation mined after a capability was issued flips `light revoked` from not-revoked to
//!   revoked, with a valid proof both times; a DID anchor makes `light did` current;
//! - a saved proof checks offline (`verify-proof`), a tampered one is invalid with its reason,
//!   and after a reorg that drops its block it is reported off the best chain;
//! - `talos status` reports the light client's RSS, disk and stored headers.

mod cluster_support;

use std::time::Duration;

use cluster_support::{Cluster, Id, NodeOptions, TRIVIAL_TARGET, spec_toml};
use talos_api::light::LightAnswerJson;
use talos_api::types::{ItemStatusJson, SubmitRequest, SubmitResponse};
use talos_chain::item::{Anchor, DidAnchor, ItemKind, Revocation, UnsignedItem};
use talos_chain::{Hash256, SignedItem, SigningKey};
use talos_light::saved::SavedProof;

/// Network id of the test network ("TLGT").
const NETWORK_ID: u32 = 0x544c_4754;

const WAIT: Duration = Duration::from_secs(60);

fn spec() -> String {
    spec_toml("light-e2e", NETWORK_ID, TRIVIAL_TARGET, 1)
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn sign(kind: ItemKind, nonce: u64) -> SignedItem {
    let key = key();
    UnsignedItem {
        author: key.verifying_key(),
        nonce,
        timestamp_ms: 1_767_225_600_000,
        kind,
    }
    .sign(&key, NETWORK_ID)
}

fn submit(c: &Cluster, to: Id, item: &SignedItem) -> Hash256 {
    let body = SubmitRequest {
        item: hex::encode(talos_chain::wire::encode_item(item)),
    };
    let answer: SubmitResponse = c
        .node(to)
        .post_json("/v1/items", &body)
        .unwrap_or_else(|e| panic!("submit: {e}"));
    assert_eq!(answer.id, item.id().to_hex());
    item.id()
}

/// Waits until `item` is confirmed on `full` and `light` has synced past its block.
fn wait_confirmed(c: &mut Cluster, full: Id, light: Id, item: Hash256) -> u64 {
    let path = format!("/v1/items/{}", item.to_hex());
    let mut height = 0;
    c.wait_until(
        "the item is mined and the light client past it",
        WAIT,
        |c| {
            let Ok(status) = c.node(full).get_json::<ItemStatusJson>(&path) else {
                return false;
            };
            let Some(location) = status.location else {
                return false;
            };
            height = location.height;
            c.node(light).height().is_some_and(|h| h > location.height)
        },
    );
    height
}

fn ask(c: &Cluster, light: Id, path: &str) -> LightAnswerJson {
    c.node(light)
        .get_json(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_light_client_verifies_items_revocations_and_dids_with_proofs_from_two_full_nodes() {
    let mut c = Cluster::new(&spec());
    let miner = c.start("miner", NodeOptions::full().mining(true));
    let full = c.start("full", NodeOptions::full().bootnode(c.node(miner).addr()));
    let light = c.start(
        "light",
        NodeOptions::light()
            .bootnode(c.node(miner).addr())
            .bootnode(c.node(full).addr()),
    );
    c.wait_until("the light client follows both full nodes", WAIT, |c| {
        let peers = c.node(light).try_peers().unwrap_or_default();
        peers.iter().filter(|p| p.tip_height.is_some()).count() >= 2
            && c.node(light).height().unwrap_or(0) >= 5
    });

    // An item: verified by both, pending when asked deeper, unknown ones not found.
    let anchor = sign(
        ItemKind::Anchor(Anchor {
            content_hash: Hash256::sha256(b"what the agent did"),
            label: "e2e".into(),
        }),
        0,
    );
    let id = submit(&c, miner, &anchor);
    let height = wait_confirmed(&mut c, miner, light, id);
    c.wait_until("the second full node has the item's block", WAIT, |c| {
        c.node(full).height().is_some_and(|h| h > height)
    });
    let verified = ask(&c, light, &format!("/v1/light/verify/{}", id.to_hex()));
    assert_eq!(verified.outcome, "verified", "{verified:?}");
    assert_eq!(verified.height, Some(height));
    assert_eq!(verified.asked.len(), 2, "{verified:?}");
    assert!(verified.liars.is_empty(), "{verified:?}");
    let deep = ask(
        &c,
        light,
        &format!("/v1/light/verify/{}?min_confirmations=1000000", id.to_hex()),
    );
    assert_eq!(deep.outcome, "pending", "{deep:?}");
    let unknown = ask(
        &c,
        light,
        &format!("/v1/light/verify/{}", Hash256::sha256(b"never").to_hex()),
    );
    assert_eq!(unknown.outcome, "not_found", "{unknown:?}");
    assert_eq!(unknown.not_found, 2);

    // The saved proof checks offline; tampered, it is invalid with the reason.
    let saved = verified
        .proof
        .clone()
        .expect("a verified answer carries its proof");
    let offline: LightAnswerJson = c
        .node(light)
        .post_json("/v1/light/verify-proof", &saved)
        .expect("verify-proof");
    assert_eq!(offline.outcome, "verified", "{offline:?}");
    let mut tampered = saved.clone();
    if let SavedProof::Inclusion { leaf_index, .. } = &mut tampered {
        *leaf_index += 1;
    }
    let refused: LightAnswerJson = c
        .node(light)
        .post_json("/v1/light/verify-proof", &tampered)
        .expect("verify-proof");
    assert_eq!(refused.outcome, "invalid", "{refused:?}");
    assert!(refused.reason.is_some(), "{refused:?}");

    check_state(&mut c, miner, light);
    check_cli(&c, light, id);

    // New headers are announced over server-sent events.
    let lines = c
        .node(light)
        .sse_lines("/v1/events", 12)
        .expect("event stream");
    assert!(
        lines.iter().any(|l| l == "event: new_header"),
        "no new_header event in {lines:?}"
    );

    // The light client's resources.
    let status = c.node(light).status();
    assert_eq!(status.role, "light");
    assert!(status.rss_bytes.is_some_and(|b| b > 0), "{status:?}");
    assert!(status.disk_bytes.is_some_and(|b| b > 0), "{status:?}");
    assert!(
        status.headers_stored.is_some_and(|h| h > height),
        "{status:?}"
    );
}

/// A revocation mined after the capability was issued flips `light revoked`; a DID anchored
/// by its own key becomes `light did`'s current document.
fn check_state(c: &mut Cluster, miner: Id, light: Id) {
    // A revocation mined after the capability was issued flips the answer.
    let capability = Hash256::sha256(b"a capability issued to an agent");
    let path = format!("/v1/light/revoked/{}", capability.to_hex());
    let before = ask(c, light, &path);
    assert_eq!(before.outcome, "not_revoked", "{before:?}");
    assert!(
        before.proof.is_some() && before.liars.is_empty(),
        "{before:?}"
    );
    let revocation = sign(
        ItemKind::Revocation(Revocation {
            capability_id: capability,
            reason: "key leaked".into(),
        }),
        1,
    );
    let revocation_id = submit(c, miner, &revocation);
    wait_confirmed(c, miner, light, revocation_id);
    let after = ask(c, light, &path);
    assert_eq!(after.outcome, "revoked", "{after:?}");
    assert_eq!(after.record_item, Some(revocation_id.to_hex()));
    assert!(after.proof.is_some() && after.liars.is_empty(), "{after:?}");

    // A DID anchored by its own key is the current document.
    let did = talos_identity::did_key(&key().verifying_key());
    let document = Hash256::sha256(b"{\"id\": \"the agent's DID document\"}");
    let did_path = format!("/v1/light/did/{did}");
    assert_eq!(ask(c, light, &did_path).outcome, "unknown");
    let anchor_id = submit(
        c,
        miner,
        &sign(
            ItemKind::DidAnchor(DidAnchor {
                did: did.clone(),
                document_hash: document,
            }),
            2,
        ),
    );
    wait_confirmed(c, miner, light, anchor_id);
    let current = ask(c, light, &did_path);
    assert_eq!(current.outcome, "current", "{current:?}");
    assert_eq!(current.document_hash, Some(document.to_hex()));
}

/// The same questions through the command line, and a saved proof checked by `verify-proof`.
fn check_cli(c: &Cluster, light: Id, id: Hash256) {
    let capability = Hash256::sha256(b"a capability issued to an agent");
    // The same questions through the command line.
    let proof_file = c.root().join("revoked.json");
    let out = c.cli(
        light,
        &[
            "light",
            "revoked",
            &capability.to_hex(),
            "--save",
            proof_file.to_str().expect("utf-8"),
        ],
    );
    assert!(out.starts_with("revoked"), "{out}");
    assert!(out.contains("asked      2 full nodes"), "{out}");
    let out = c.cli(
        light,
        &["verify-proof", proof_file.to_str().expect("utf-8")],
    );
    assert!(out.starts_with("revoked"), "{out}");
    let json = c.cli(light, &["light", "verify", &id.to_hex(), "--json"]);
    let parsed: LightAnswerJson = serde_json::from_str(&json).expect("--json prints the answer");
    assert_eq!(parsed.outcome, "verified");
}

#[test]
fn a_saved_proof_whose_block_a_reorg_dropped_is_reported_off_the_best_chain() {
    let mut c = Cluster::new(&spec());
    let first = c.start("first", NodeOptions::full().mining(true));
    let light = c.start("light", NodeOptions::light().bootnode(c.node(first).addr()));
    let id = submit(
        &c,
        first,
        &sign(
            ItemKind::Anchor(Anchor {
                content_hash: Hash256::sha256(b"on a branch about to lose"),
                label: String::new(),
            }),
            0,
        ),
    );
    wait_confirmed(&mut c, first, light, id);
    let verified = ask(&c, light, &format!("/v1/light/verify/{}", id.to_hex()));
    assert_eq!(verified.outcome, "verified", "{verified:?}");
    let saved = verified.proof.expect("proof");
    // The first miner stops; a second, isolated one mines a longer chain without the item.
    c.stop(first);
    c.restart(first, |o| o.mine = false);
    let lost_height = c.node(first).height().unwrap_or(0);
    let second = c.start("second", NodeOptions::full().mining(true));
    c.wait_until("the second chain is longer", WAIT, |c| {
        c.node(second).height().unwrap_or(0) > lost_height + 3
    });
    let second_addr = c.node(second).addr();
    c.stop(light);
    c.restart(light, move |o| o.bootnodes = vec![second_addr]);
    c.wait_until("the light client reorgs to the longer chain", WAIT, |c| {
        c.node(light).height().unwrap_or(0) > lost_height + 3
    });
    let offline: LightAnswerJson = c
        .node(light)
        .post_json("/v1/light/verify-proof", &saved)
        .expect("verify-proof");
    assert_eq!(offline.outcome, "off_best_chain", "{offline:?}");
    // With the light client stopped, the CLI opens its header store itself.
    c.stop(light);
    let file = c.root().join("lost.json");
    std::fs::write(&file, serde_json::to_string(&saved).expect("json")).expect("write");
    let out = c.cli(light, &["verify-proof", file.to_str().expect("utf-8")]);
    assert!(out.starts_with("off best chain"), "{out}");
}
