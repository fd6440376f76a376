//! Protocol caps of the sync protocol.
//!
//! Every cap is checked by the decoders in [`crate::codec`] before the work it guards: the byte
//! length first, then the number of repeated elements (a pre-scan that allocates nothing), and
//! only then does prost build the message. The responder must respect the same caps, or the
//! requester rejects its answer.
//!
//! Response size: a response must be able to carry at least one block of the largest size the
//! network allows ([`talos_chain::wire::max_block_wire_bytes`] plus the response's own
//! framing), or a node could never sync a full block. Beyond that, a fixed floor of
//! [`MIN_RESPONSE_BYTES`] (16 MiB) lets a response carry many ordinary blocks at once, bounding
//! the memory one response can cost. [`max_response_bytes`] is the larger of the two. A
//! responder answering `BlocksByRange`/`BlocksByHash` adds blocks in order while the encoded
//! response stays within that cap, and always sends at least the first block it has; the
//! requester asks again for the rest ("at most `count`" in `sync.proto`).

use talos_chain::Limits;
use talos_chain::chain_state::DID_RECORD_BYTES;
use talos_chain::state::MAX_PROOF_DEPTH;
use talos_chain::wire::{MAX_HEADER_WIRE_BYTES, max_block_wire_bytes, max_proof_wire_bytes};

/// Largest encoded request. The largest valid request, `BlocksByHash` with
/// [`MAX_HASHES_PER_REQUEST`] hashes, is about 2.2 KiB.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// Most headers asked for in one `HeadersByRange` and sent in one response. At most
/// 2,048 × 259 bytes ≈ 518 KiB on the wire.
pub const MAX_HEADERS_PER_RESPONSE: u32 = 2_048;

/// Most blocks asked for in one `BlocksByRange` and sent in one response.
pub const MAX_BLOCKS_PER_RESPONSE: u32 = 64;

/// Most block ids in one `BlocksByHash`: no more than one response can answer.
pub const MAX_HASHES_PER_REQUEST: usize = MAX_BLOCKS_PER_RESPONSE as usize;

/// Floor of the response byte cap, whatever the network's block size.
pub const MIN_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Protobuf framing a response adds around its largest element: the `oneof` key and length,
/// the list message's element key and length (each key ≤ 1 byte, each length ≤ 10 bytes),
/// rounded up.
pub const RESPONSE_FRAMING_BYTES: usize = 64;

/// Smallest wire encoding of a valid signed item: a 32-byte author (34 bytes with its key and
/// length), a kind holding only its 32-byte hash (36 bytes with both keys and lengths), the
/// unsigned item's own key and length (2 bytes) and a 64-byte signature (66 bytes). Used to
/// cap the total number of items in a response: more than `bytes / 138` cannot all be valid.
pub const MIN_ITEM_WIRE_BYTES: usize = 138;

/// Longest error code in a `SyncError` response.
pub const MAX_ERROR_CODE_BYTES: usize = 64;

/// Longest human-readable message in a `SyncError` response.
pub const MAX_ERROR_MESSAGE_BYTES: usize = 1_024;

/// Largest encoded `StateAnswer` (`sync.proto`): [`MAX_PROOF_DEPTH`] siblings of 32 bytes with
/// their key and length (34 bytes each), a leaf of two 32-byte hashes (70 bytes with its keys
/// and lengths), the longest record ([`DID_RECORD_BYTES`], 75 bytes with its key and length),
/// rounded up.
pub const MAX_STATE_ANSWER_WIRE_BYTES: usize = MAX_PROOF_DEPTH * 34 + 256;

/// Wire size of one header inside a `Headers` list: the header, its key and a length varint
/// of at most 2 bytes.
const HEADER_IN_LIST_BYTES: usize = MAX_HEADER_WIRE_BYTES + 3;

// A full `Headers` response always fits in the smallest response cap.
const _: () = assert!(
    MAX_HEADERS_PER_RESPONSE as usize * HEADER_IN_LIST_BYTES + RESPONSE_FRAMING_BYTES
        <= MIN_RESPONSE_BYTES
);
// A maximal state answer always fits in the smallest response cap.
const _: () = assert!(
    MAX_STATE_ANSWER_WIRE_BYTES >= MAX_PROOF_DEPTH * 34 + 70 + DID_RECORD_BYTES + 2
        && MAX_STATE_ANSWER_WIRE_BYTES + RESPONSE_FRAMING_BYTES <= MIN_RESPONSE_BYTES
);
// A full `BlocksByHash` request always fits in the request cap.
const _: () = assert!(MAX_HASHES_PER_REQUEST * 34 + RESPONSE_FRAMING_BYTES <= MAX_REQUEST_BYTES);

/// Largest encoded response on a network with these limits: the larger of
/// [`MIN_RESPONSE_BYTES`] and one maximum-size block (or SPV proof) plus framing.
pub fn max_response_bytes(limits: &Limits) -> usize {
    let one_block = max_block_wire_bytes(limits).saturating_add(RESPONSE_FRAMING_BYTES);
    let one_proof = max_proof_wire_bytes(limits).saturating_add(RESPONSE_FRAMING_BYTES);
    MIN_RESPONSE_BYTES.max(one_block).max(one_proof)
}

/// Most items, over all blocks, in one response on a network with these limits: what
/// [`max_response_bytes`] can hold at [`MIN_ITEM_WIRE_BYTES`] each.
pub fn max_items_per_response(limits: &Limits) -> usize {
    max_response_bytes(limits) / MIN_ITEM_WIRE_BYTES
}
