//! Fuzzes `talos_chain::wire::decode_item`: arbitrary bytes decode or fail with a typed error;
//! a decoded item re-encodes stably, keeps its id, and verifying it never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_chain::wire::{decode_item, encode_item};
use talos_fuzz::{limits, spec};

fuzz_target!(|data: &[u8]| {
    let Ok(item) = decode_item(data, limits()) else {
        return;
    };
    let _ = item.verify(spec().network_id);
    let bytes = encode_item(&item);
    let again = decode_item(&bytes, limits());
    assert_eq!(again.as_ref(), Ok(&item), "re-encoded item");
    if let Ok(again) = again {
        assert_eq!(again.id(), item.id());
        assert_eq!(encode_item(&again), bytes, "encoding is stable");
    }
});
