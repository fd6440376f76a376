//! Decoders never panic, whatever the bytes.

use proptest::prelude::*;

use super::{NOW, document, key};
use crate::{DidDocument, DidRecord, PrekeyBundle, record_key, validate_record};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoders_never_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let key = record_key(document(1).did());
        prop_assert!(validate_record(&key, &bytes, NOW).is_err());
        prop_assert!(DidRecord::decode(&bytes).is_err());
        prop_assert!(PrekeyBundle::decode(&bytes).is_err());
        prop_assert!(DidDocument::from_json(&bytes).is_err());
    }

    #[test]
    fn mutated_records_never_panic(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let record = DidRecord::sign(&document(1), 1, NOW, 1_000, &key(1)).unwrap();
        let mut bytes = record.encode();
        let i = index.index(bytes.len());
        let changed = bytes[i] != byte;
        bytes[i] = byte;
        let result = validate_record(&record.key(), &bytes, NOW);
        // A changed byte never leaves a valid record behind.
        prop_assert_eq!(result.is_err(), changed);
    }

    #[test]
    fn mutated_documents_never_panic(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut json = document(1).to_json();
        let i = index.index(json.len());
        json[i] = byte;
        let _ = DidDocument::from_json(&json);
    }
}
