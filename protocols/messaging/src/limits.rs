//! Size caps of the messaging wire formats. Every decoder checks them before it allocates.

/// Largest plaintext one message may carry: 64 KiB (files go in several messages).
pub const MAX_PLAINTEXT_BYTES: usize = 64 * 1024;

/// Largest ciphertext: the plaintext cap plus room for the AEAD tag and padding.
pub const MAX_CIPHERTEXT_BYTES: usize = MAX_PLAINTEXT_BYTES + 256;

/// Largest encrypted ratchet header (a ratchet key, two counters, nonce and tag fit in ≈ 100).
pub const MAX_HEADER_BYTES: usize = 256;

/// Smallest encrypted header: an AEAD nonce and tag around anything at all.
pub const MIN_HEADER_BYTES: usize = 28;

/// Smallest ciphertext: an AEAD tag.
pub const MIN_CIPHERTEXT_BYTES: usize = 16;

/// What a mailbox charges per stored envelope on top of its payload (keys, ids, signature,
/// index entries), so that even the smallest envelope has a price.
pub const ENVELOPE_OVERHEAD_BYTES: usize = 512;

/// Largest X3DH handshake (identity and ephemeral keys, prekey ids, a signature).
pub const MAX_HANDSHAKE_BYTES: usize = 512;

/// Longest `did:key` string accepted in an envelope.
pub const MAX_DID_BYTES: usize = 128;

/// Largest encoded envelope: every field at its cap, with room for the framing.
pub const MAX_ENVELOPE_BYTES: usize =
    MAX_CIPHERTEXT_BYTES + MAX_HEADER_BYTES + MAX_HANDSHAKE_BYTES + 2 * MAX_DID_BYTES + 256;

/// Most envelopes one mailbox page carries.
pub const MAX_PAGE_ENVELOPES: usize = 64;

/// Most message ids one acknowledgement carries.
pub const MAX_ACK_IDS: usize = 256;

/// Largest prekey bundle carried in a prekey response.
pub const MAX_BUNDLE_BYTES: usize = 4096;

/// Most envelopes one delivery carries.
pub const MAX_DELIVER_BATCH: usize = 64;

/// Most envelope bytes a sender puts in one delivery (always room for one envelope at its cap).
pub const MAX_DELIVER_BYTES: usize = 256 * 1024;

/// Largest msg request or response frame: a full delivery with its framing.
pub const MAX_MSG_FRAME_BYTES: usize = MAX_DELIVER_BYTES + MAX_DELIVER_BATCH * 8 + 64;

const _: () = assert!(MAX_DELIVER_BYTES >= MAX_ENVELOPE_BYTES);

/// Largest mailbox request or response frame (a full page).
pub const MAX_MAILBOX_FRAME_BYTES: usize = MAX_PAGE_ENVELOPES * (MAX_ENVELOPE_BYTES + 8) + 64;
