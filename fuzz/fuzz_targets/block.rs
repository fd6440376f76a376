//! Fuzzes `talos_chain::wire::decode_block`: arbitrary bytes decode or fail with a typed error;
//! a decoded block re-encodes stably, keeps its block and item ids, and its Merkle root, proofs
//! and sizes compute without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_chain::SignedItem;
use talos_chain::wire::{decode_block, encode_block};
use talos_fuzz::limits;

fuzz_target!(|data: &[u8]| {
    let Ok(block) = decode_block(data, limits()) else {
        return;
    };
    let _ = (block.compute_merkle_root(), block.encoded_len());
    let _ = (block.item_proof(0), block.item_proof(block.items.len()));
    let bytes = encode_block(&block);
    let again = decode_block(&bytes, limits());
    assert_eq!(again.as_ref(), Ok(&block), "re-encoded block");
    if let Ok(again) = again {
        assert_eq!(again.id(), block.id());
        let ids = |b: &talos_chain::Block| b.items.iter().map(SignedItem::id).collect::<Vec<_>>();
        assert_eq!(ids(&again), ids(&block));
        assert_eq!(again.compute_merkle_root(), block.compute_merkle_root());
        assert_eq!(encode_block(&again), bytes, "encoding is stable");
    }
});
