//! Writes the committed seed corpus: valid encodings of every message kind, one file each, in
//! `fuzz/corpus/<target>/seed-<name>` (the repository keeps only `seed-*` files there).
//!
//! Run with `cargo run --manifest-path fuzz/Cargo.toml --example gen-seeds`. The output is
//! deterministic, so re-running it changes nothing unless the encodings change.

use std::path::Path;

use talos_chain::CompactTarget;
use talos_chain::Hash256;
use talos_chain::chain_state::{RevocationRecord, StateAnswer, StateRecord, revocation_key};
use talos_chain::state::{
    EMPTY_ROOT, MemoryNodes, Node, StateProof, Terminal, apply_updates, prove,
};
use talos_light::{BlockAt, SavedProof, StateQuestion};
use talos_chain::wire::{
    encode_block, encode_header, encode_item, encode_item_proof, encode_status,
};
use talos_fuzz::{block, item_proof, items, spec, status};
use talos_sync::{ErrorCode, SyncRequest, SyncResponse, encode_request, encode_response};

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut written = 0usize;
    let mut write = |target: &str, name: &str, bytes: Vec<u8>| -> std::io::Result<()> {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("seed-{name}")), bytes)?;
        written += 1;
        Ok(())
    };

    let genesis = spec().genesis();
    let small = block(1, 4);
    let larger = block(2, 9);
    let mut extreme = block(u64::MAX, 0).header;
    extreme.version = u32::MAX;
    extreme.network_id = u32::MAX;
    extreme.item_count = u32::MAX;
    extreme.timestamp_ms = u64::MAX;
    extreme.target = CompactTarget(u32::MAX);
    extreme.nonce = u64::MAX;
    extreme.state_root = talos_chain::Hash256([0xff; 32]);

    write("header", "genesis", encode_header(&genesis.header))?;
    write("header", "block-1", encode_header(&small.header))?;
    write("header", "extreme", encode_header(&extreme))?;

    for item in &items(4) {
        write("item", item.item().kind.name(), encode_item(item))?;
    }

    write("block", "genesis", encode_block(&genesis))?;
    write("block", "4-items", encode_block(&small))?;
    write("block", "9-items", encode_block(&larger))?;

    let single = block(3, 1);
    let proofs = [
        ("single", item_proof(&single, 0)),
        ("middle", item_proof(&larger, 4)),
        ("last", item_proof(&larger, 8)),
    ];
    for (name, proof) in &proofs {
        if let Some(proof) = proof {
            write("item_proof", name, encode_item_proof(proof))?;
        }
    }

    let tip = status(&larger, 3 * 65_536);
    write("status", "tip", encode_status(&tip))?;
    write("status", "genesis", encode_status(&status(&genesis, 0)))?;

    let requests = [
        ("status", SyncRequest::Status(tip)),
        (
            "headers-by-range",
            SyncRequest::HeadersByRange {
                start_height: 1,
                count: 2_048,
            },
        ),
        (
            "blocks-by-range",
            SyncRequest::BlocksByRange {
                start_height: 1,
                count: 64,
            },
        ),
        (
            "blocks-by-hash",
            SyncRequest::BlocksByHash(vec![small.id(), larger.id()]),
        ),
        ("proof", SyncRequest::Proof(larger.items[4].id())),
        (
            "state-proof",
            SyncRequest::StateProof {
                block: larger.id(),
                key: revocation_key(&Hash256::sha256(b"capability")),
            },
        ),
    ];
    for (name, request) in &requests {
        write("sync_request", name, encode_request(request))?;
    }

    let (present, absent, state_nodes, records) = state_samples();
    for (i, node) in state_nodes.iter().take(4).enumerate() {
        write("state_node", &format!("node-{i}"), node.encode().to_vec())?;
    }
    for (i, record) in records.iter().enumerate() {
        write("state_node", &format!("record-{i}"), record.encode())?;
    }
    if let Some(proof) = item_proof(&larger, 4) {
        let json = serde_json::to_vec_pretty(&SavedProof::inclusion(&proof)).unwrap_or_default();
        write("saved_proof", "inclusion", json)?;
    }
    let question = StateQuestion::Revoked {
        capability_id: Hash256::sha256(b"capability"),
    };
    let json = serde_json::to_vec_pretty(&SavedProof::state(&question, BlockAt::of(&larger.header), &present))
        .unwrap_or_default();
    write("saved_proof", "state", json)?;

    let responses = [
        ("status", SyncResponse::Status(tip)),
        (
            "headers",
            SyncResponse::Headers(vec![genesis.header, small.header, larger.header]),
        ),
        (
            "blocks",
            SyncResponse::Blocks(vec![small.clone(), larger.clone()]),
        ),
        (
            "proof",
            SyncResponse::Proof(item_proof(&larger, 4).map(Box::new)),
        ),
        ("no-proof", SyncResponse::Proof(None)),
        (
            "state-proof-present",
            SyncResponse::StateProof(Some(Box::new(present.clone()))),
        ),
        (
            "state-proof-absent",
            SyncResponse::StateProof(Some(Box::new(absent.clone()))),
        ),
        (
            "state-proof-empty",
            SyncResponse::StateProof(Some(Box::new(StateAnswer {
                proof: StateProof {
                    siblings: Vec::new(),
                    terminal: Terminal::Empty,
                },
                record: None,
            }))),
        ),
        ("no-state-proof", SyncResponse::StateProof(None)),
        (
            "error",
            SyncResponse::Error {
                code: ErrorCode::Busy,
                message: "try again later".into(),
            },
        ),
        (
            "error-other",
            SyncResponse::Error {
                code: ErrorCode::Other("x_new_code".into()),
                message: String::new(),
            },
        ),
    ];
    for (name, response) in &responses {
        write("sync_response", name, encode_response(response))?;
    }

    println!("wrote {written} seeds under {}", root.display());
    Ok(())
}

/// A present and an absent key's state answers over a small state, its nodes and records.
fn state_samples() -> (StateAnswer, StateAnswer, Vec<Node>, Vec<StateRecord>) {
    let mut nodes = MemoryNodes::new();
    let records: Vec<StateRecord> = (0..5u8)
        .map(|i| {
            StateRecord::Revocation(RevocationRecord {
                item_id: Hash256([i; 32]),
                height: u64::from(i) + 1,
            })
        })
        .collect();
    let updates: Vec<(Hash256, Hash256)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let name = if i == 0 { b"capability".to_vec() } else { vec![i as u8] };
            (revocation_key(&Hash256::sha256(&name)), r.value())
        })
        .collect();
    let delta = apply_updates(&nodes, EMPTY_ROOT, &updates).expect("an in-memory tree keeps its nodes");
    for node in &delta.nodes {
        nodes.insert(*node);
    }
    let key = updates[0].0;
    let proof = prove(&nodes, delta.root, &key).expect("an in-memory tree keeps its nodes");
    let present = StateAnswer {
        proof,
        record: Some(records[0]),
    };
    let missing = revocation_key(&Hash256::sha256(b"never revoked"));
    let absent = StateAnswer {
        proof: prove(&nodes, delta.root, &missing).expect("an in-memory tree keeps its nodes"),
        record: None,
    };
    (present, absent, delta.nodes, records)
}
