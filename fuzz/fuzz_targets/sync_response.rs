//! Fuzzes `talos_sync::decode_response`: arbitrary bytes decode or fail with a typed error; a
//! decoded response re-encodes stably, decoded blocks keep their ids and Merkle roots, and
//! decoded state proofs verify (or fail with a typed error) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_chain::state::Terminal;
use talos_chain::{Hash256, SignedItem};
use talos_fuzz::limits;
use talos_sync::{SyncResponse, decode_response, encode_response};

fuzz_target!(|data: &[u8]| {
    let response = match decode_response(data, limits()) {
        Ok(response) => response,
        Err(e) => {
            assert!(!e.code().is_empty());
            return;
        }
    };
    match &response {
        SyncResponse::Blocks(blocks) => {
            for block in blocks {
                let _ = (block.id(), block.compute_merkle_root(), block.encoded_len());
            }
        }
        SyncResponse::Proof(Some(proof)) => {
            let _ = proof.verify();
        }
        SyncResponse::StateProof(Some(answer)) => {
            // Against an arbitrary root, for the terminal leaf's own key (membership) and for
            // another key (non-membership): typed errors only.
            let leaf_key = match answer.proof.terminal {
                Terminal::Leaf { key, .. } => key,
                Terminal::Empty => Hash256::ZERO,
            };
            let root = Hash256::sha256(data);
            let _ = answer.verify(&root, &leaf_key);
            let _ = answer.verify(&root, &Hash256([0xff; 32]));
            if let Some(record) = &answer.record {
                let _ = (record.value(), record.item_id(), record.height());
            }
        }
        _ => {}
    }
    let bytes = encode_response(&response);
    let again = decode_response(&bytes, limits());
    assert_eq!(again.as_ref(), Ok(&response), "re-encoded response");
    if let (Ok(SyncResponse::Blocks(again)), SyncResponse::Blocks(blocks)) = (&again, &response) {
        for (a, b) in again.iter().zip(blocks) {
            assert_eq!(a.id(), b.id());
            let ids =
                |b: &talos_chain::Block| b.items.iter().map(SignedItem::id).collect::<Vec<_>>();
            assert_eq!(ids(a), ids(b));
        }
    }
    assert_eq!(
        encode_response(&response),
        bytes,
        "encoding is deterministic"
    );
});
