//! Talos agent messaging, without I/O: what travels between agents and what a mailbox node
//! keeps for them.
//!
//! - [`envelope`]: the signed envelope around a ratchet message (sender and recipient
//!   `did:key`, a message id the recipient de-duplicates by, the encrypted header, the
//!   ciphertext, the sender's clock, the X3DH handshake on a session's first messages), its
//!   canonical signing bytes and its hash (what `--anchor` puts on chain);
//! - [`codec`]: the protobuf wire formats of `/talos/<network>/msg/1.0.0` (direct delivery,
//!   prekey requests) and `/talos/<network>/mailbox/1.0.0` (deposit, paged fetch,
//!   acknowledgement), every decoder bounded and typed;
//! - [`conversation`]: the session manager for one peer (current and previous ratchet
//!   sessions, the handshake attached until the peer answers, a new handshake never replacing
//!   a session it made) and [`payload`], the sequence-numbered plaintext;
//! - [`mailbox`]: the store-and-forward book a full node keeps: ciphertext only, bounded per
//!   recipient and in total, a TTL, paged fetch with a cursor, deletion on acknowledgement.
//!
//! Who may do what is decided here on types; the node's network crate only translates
//! (a fetch or an acknowledgement names no recipient: it is the Noise-authenticated peer's own
//! mailbox).

pub mod codec;
pub mod conversation;
mod did_memo;
pub mod envelope;
pub mod error;
pub mod limits;
pub mod mailbox;
pub mod payload;
#[cfg(feature = "libp2p")]
pub mod rr_codec;

pub use codec::{
    Ack, AckStatus, MailboxRequest, MailboxResponse, MsgRequest, MsgResponse, decode_envelope,
    decode_mailbox_request, decode_mailbox_response, decode_msg_request, decode_msg_response,
    encode_envelope, encode_mailbox_request, encode_mailbox_response, encode_msg_request,
    encode_msg_response,
};
pub use conversation::{Conversation, OpenError, Opened, SealError};
pub use envelope::{Envelope, EnvelopeHash, MessageId, SealedParts};
pub use error::{DecodeError, EnvelopeError};
pub use mailbox::{
    Acked, DepositRejection, DepositStatus, MailboxBook, MailboxConfig, Page, StoredEnvelope,
    mailbox_key,
};
pub use payload::Payload;
