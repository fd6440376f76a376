//! Fuzzes `talos_chain::wire::decode_item_proof`: arbitrary bytes decode or fail with a typed
//! error; a decoded proof re-encodes stably, and verifying it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_chain::wire::{decode_item_proof, encode_item_proof};
use talos_fuzz::limits;

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = decode_item_proof(data, limits()) else {
        return;
    };
    let _ = proof.verify();
    let bytes = encode_item_proof(&proof);
    let again = decode_item_proof(&bytes, limits());
    assert_eq!(again.as_ref(), Ok(&proof), "re-encoded proof");
    if let Ok(again) = again {
        assert_eq!(again.item.id(), proof.item.id());
        assert_eq!(encode_item_proof(&again), bytes, "encoding is stable");
    }
});
