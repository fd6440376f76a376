//! Protobuf schemas and prost-generated types for the Talos wire formats.
//!
//! This crate holds the generated types and nothing else. Other crates convert these wire types
//! to and from their domain types privately; their public APIs speak bytes and domain types
//! only (`talos_chain::wire` for chain messages, `talos_sync::codec` for sync messages,
//! `talos_messaging::codec` for messaging). The schemas live in `schemas/*.proto`, compiled at build time with `protox` (no
//! `protoc` needed).

#![allow(missing_docs, unreachable_pub, clippy::all)]

/// Generated modules, nested as the protobuf packages are (`talos.chain.v1`, `talos.sync.v1`).
pub mod talos {
    /// Chain messages.
    pub mod chain {
        /// Version 1.
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/talos.chain.v1.rs"));
        }
    }
    /// Sync protocol messages.
    pub mod sync {
        /// Version 1.
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/talos.sync.v1.rs"));
        }
    }
    /// Agent messaging and mailbox messages.
    pub mod msg {
        /// Version 1.
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/talos.msg.v1.rs"));
        }
    }
}

/// Chain wire types: headers, blocks, signed items, Merkle proofs, network status.
pub use talos::chain::v1 as chain;
/// Agent messaging: envelopes, direct delivery, mailboxes.
pub use talos::msg::v1 as msg;
/// Chain-sync protocol requests and responses.
pub use talos::sync::v1 as sync;

pub use prost::Message;
