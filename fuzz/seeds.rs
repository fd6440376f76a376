//! Writes the committed seed corpus: valid encodings of every message kind, one file each, in
//! `fuzz/corpus/<target>/seed-<name>` (the repository keeps only `seed-*` files there).
//!
//! Run with `cargo run --manifest-path fuzz/Cargo.toml --example gen-seeds`. The output is
//! deterministic, so re-running it changes nothing unless the encodings change.

use std::path::Path;

use talos_chain::CompactTarget;
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
    ];
    for (name, request) in &requests {
        write("sync_request", name, encode_request(request))?;
    }

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
