//! Fuzzes `talos_chain::wire::decode_header`: arbitrary bytes decode or fail with a typed
//! error, and a decoded header re-encodes to bytes that decode to the same header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_chain::wire::{decode_header, encode_header};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = decode_header(data) else {
        return;
    };
    let _ = (header.id(), header.meets_own_target());
    let bytes = encode_header(&header);
    assert_eq!(decode_header(&bytes), Ok(header), "re-encoded header");
    assert_eq!(encode_header(&header), bytes, "encoding is deterministic");
});
