//! Fuzzes `talos_sync::decode_request`: arbitrary bytes decode or fail with a typed error, and
//! a decoded request re-encodes to bytes that decode to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_sync::{decode_request, encode_request};

fuzz_target!(|data: &[u8]| {
    let request = match decode_request(data) {
        Ok(request) => request,
        Err(e) => {
            assert!(!e.code().is_empty());
            return;
        }
    };
    let bytes = encode_request(&request);
    let again = decode_request(&bytes);
    assert_eq!(again.as_ref(), Ok(&request), "re-encoded request");
    assert_eq!(encode_request(&request), bytes, "encoding is deterministic");
});
