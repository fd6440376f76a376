//! Fuzzes the state tree's disk decoders, `talos_chain::state::Node::decode` and
//! `talos_chain::chain_state::StateRecord::decode`: arbitrary bytes decode or fail with a typed
//! error, and whatever decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talos_chain::chain_state::StateRecord;
use talos_chain::state::Node;

fuzz_target!(|data: &[u8]| {
    if let Ok(node) = Node::decode(data) {
        assert_eq!(&node.encode()[..], data, "node encoding round trip");
        let _ = node.hash();
    }
    if let Ok(record) = StateRecord::decode(data) {
        assert_eq!(record.encode(), data, "record encoding round trip");
        let _ = record.value();
    }
});
