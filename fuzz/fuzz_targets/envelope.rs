//! Fuzzes the messaging decoders (envelopes, msg and mailbox requests and responses): arbitrary
//! bytes from a peer are a typed error or a checked message, never a panic or an allocation
//! beyond the caps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_messaging::{
    decode_envelope, decode_mailbox_request, decode_mailbox_response, decode_msg_request,
    decode_msg_response, encode_envelope,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = decode_envelope(data) {
        // A checked envelope re-encodes to bytes that decode to the same envelope.
        let again = decode_envelope(&encode_envelope(&envelope)).expect("re-decodes");
        assert_eq!(again, envelope);
    }
    let _ = decode_msg_request(data);
    let _ = decode_msg_response(data);
    let _ = decode_mailbox_request(data);
    let _ = decode_mailbox_response(data);
});
