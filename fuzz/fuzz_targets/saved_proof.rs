//! Fuzzes saved proof files (`talos verify-proof <file>`): arbitrary bytes parse as JSON or not,
//! and a parsed proof is judged against a header chain (genesis only) without panicking:
//! every malformed field is a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_light::{MemoryHeaders, SavedProof, verify_saved};

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = serde_json::from_slice::<SavedProof>(data) else {
        return;
    };
    let spec = talos_fuzz::spec();
    let headers = MemoryHeaders::new(spec);
    let _ = verify_saved(&headers, &proof, spec.network_id, &spec.limits, 1);
});
