//! Fuzzes `talos_chain::wire::decode_status`: arbitrary bytes decode or fail with a typed
//! error, and a decoded status re-encodes to bytes that decode to the same status.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_chain::wire::{decode_status, encode_status};

fuzz_target!(|data: &[u8]| {
    let Ok(status) = decode_status(data) else {
        return;
    };
    let _ = status.same_network(&status);
    let bytes = encode_status(&status);
    assert_eq!(decode_status(&bytes), Ok(status), "re-encoded status");
    assert_eq!(encode_status(&status), bytes, "encoding is deterministic");
});
