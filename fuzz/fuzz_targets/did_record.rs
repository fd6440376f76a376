//! Fuzzes the DID record and prekey bundle decoders, `talos_identity::validate_record`,
//! `talos_identity::DidRecord::decode`, `talos_identity::PrekeyBundle::decode` and
//! `talos_identity::DidDocument::from_json`: arbitrary bytes decode or fail with a typed error,
//! and whatever decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_identity::{DidDocument, DidRecord, PrekeyBundle, validate_record};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = DidRecord::decode(data) {
        assert_eq!(record.encode(), data, "record encoding round trip");
        assert_eq!(
            record.document().to_json(),
            record.document_bytes(),
            "canonical document"
        );
        // Valid at its issue time, under its own key.
        let valid = validate_record(&record.key(), data, record.issued_at_ms())
            .expect("a decoded record is valid when issued");
        assert_eq!(valid.record(), &record);
    }
    // The record key is only checked once everything before it passed, so any key will do.
    if let Err(error) = validate_record(b"/talos/did/", data, 1_700_000_000_000) {
        let _ = error.code();
    }
    if let Ok(bundle) = PrekeyBundle::decode(data) {
        assert_eq!(bundle.encode(), data, "bundle encoding round trip");
    }
    if let Ok(document) = DidDocument::from_json(data) {
        let json = document.to_json();
        assert_eq!(
            DidDocument::from_json(&json),
            Ok(document),
            "document JSON round trip"
        );
    }
});
