//! The protobuf wire formats of the msg and mailbox protocols (`talos.msg.v1`), to and from
//! domain types. Every decoder checks the length cap before it parses and every envelope's
//! fields and signature before it returns; bytes a peer sent never panic and never allocate
//! beyond the cap.

use ed25519_dalek::Signature;
use prost::Message;
use talos_proto::msg as pb;

use crate::envelope::{ENVELOPE_VERSION, Envelope, MessageId, SealedParts};
use crate::error::{DecodeError, EnvelopeError};
use crate::limits::{
    MAX_ACK_IDS, MAX_BUNDLE_BYTES, MAX_DELIVER_BATCH, MAX_DID_BYTES, MAX_ENVELOPE_BYTES,
    MAX_MAILBOX_FRAME_BYTES, MAX_MSG_FRAME_BYTES, MAX_PAGE_ENVELOPES,
};
use crate::mailbox::{Acked, DepositStatus, Page};

/// What the recipient says about a delivered envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckStatus {
    /// Accepted: decrypted, or kept to be read.
    Accepted,
    /// The envelope is for another agent.
    NotForMe,
    /// It did not decrypt (no session, a replay, a tampered message).
    Undecryptable,
    /// The recipient is over its inbound quota: try its mailboxes.
    Busy,
}

impl AckStatus {
    fn to_wire(self) -> u32 {
        match self {
            Self::Accepted => 0,
            Self::NotForMe => 1,
            Self::Undecryptable => 2,
            Self::Busy => 3,
        }
    }

    fn from_wire(code: u32) -> Result<Self, DecodeError> {
        Ok(match code {
            0 => Self::Accepted,
            1 => Self::NotForMe,
            2 => Self::Undecryptable,
            3 => Self::Busy,
            code => return Err(DecodeError::UnknownStatus { what: "ack", code }),
        })
    }

    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::NotForMe => "not_for_me",
            Self::Undecryptable => "undecryptable",
            Self::Busy => "busy",
        }
    }
}

/// The recipient's word on one delivered envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The delivered message.
    pub message_id: MessageId,
    /// What became of it.
    pub status: AckStatus,
}

/// A request of `/talos/<network>/msg/1.0.0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MsgRequest {
    /// Envelopes for the peer's agent, in the sender's order: 1 to [`MAX_DELIVER_BATCH`].
    Deliver(Vec<Envelope>),
    /// The peer's prekey bundle, please.
    Prekeys,
}

/// A response of `/talos/<network>/msg/1.0.0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MsgResponse {
    /// The answer to a delivery: one per envelope, in its order.
    Acks(Vec<Ack>),
    /// A prekey bundle in `talos-identity`'s encoding (checked by the asker).
    Prekeys(Vec<u8>),
}

/// A request of `/talos/<network>/mailbox/1.0.0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailboxRequest {
    /// Keep this envelope for its recipient.
    Deposit(Box<Envelope>),
    /// My mailbox from `cursor` on, at most `limit` envelopes.
    Fetch {
        /// Where to start.
        cursor: u64,
        /// How many at most (the server caps it at [`MAX_PAGE_ENVELOPES`]).
        limit: u32,
    },
    /// I have these: delete them from my mailbox.
    Acknowledge(Vec<Acked>),
}

/// A response of `/talos/<network>/mailbox/1.0.0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailboxResponse {
    /// The answer to a deposit.
    Deposit {
        /// The deposited message.
        message_id: MessageId,
        /// What became of it.
        status: DepositStatus,
    },
    /// A page of the asker's mailbox.
    Page(Page),
    /// How many acknowledged envelopes were deleted.
    Acknowledged(u32),
}

// ---------------------------------------------------------------------------------------------
// Envelopes.

/// Encodes an envelope.
pub fn encode_envelope(envelope: &Envelope) -> Vec<u8> {
    to_wire(envelope).encode_to_vec()
}

fn to_wire(envelope: &Envelope) -> pb::Envelope {
    let parts = envelope.parts();
    pb::Envelope {
        version: ENVELOPE_VERSION,
        sender: crate::did_memo::did_of(envelope.sender()),
        recipient: crate::did_memo::did_of(envelope.recipient()),
        message_id: envelope.message_id().0.to_vec(),
        header: parts.header.clone(),
        ciphertext: parts.ciphertext.clone(),
        timestamp_ms: envelope.timestamp_ms(),
        handshake: parts.handshake.clone().unwrap_or_default(),
        signature: envelope.signature().to_bytes().to_vec(),
    }
}

/// Decodes an envelope and checks it: version, both `did:key`s, field caps, the sender's
/// signature.
pub fn decode_envelope(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    check_len("envelope", bytes.len(), MAX_ENVELOPE_BYTES)?;
    let wire = pb::Envelope::decode(bytes).map_err(malformed("envelope"))?;
    Ok(from_wire(wire)?)
}

fn from_wire(wire: pb::Envelope) -> Result<Envelope, EnvelopeError> {
    if wire.version != ENVELOPE_VERSION {
        return Err(EnvelopeError::UnsupportedVersion(wire.version));
    }
    let sender = parse_did("sender", &wire.sender)?;
    let recipient = parse_did("recipient", &wire.recipient)?;
    let message_id = <[u8; 16]>::try_from(wire.message_id.as_slice())
        .map(MessageId)
        .map_err(|_| EnvelopeError::BadMessageId(wire.message_id.len()))?;
    let signature = <[u8; 64]>::try_from(wire.signature.as_slice())
        .map(|b| Signature::from_bytes(&b))
        .map_err(|_| EnvelopeError::BadSignature)?;
    let parts = SealedParts {
        header: wire.header,
        ciphertext: wire.ciphertext,
        handshake: (!wire.handshake.is_empty()).then_some(wire.handshake),
    };
    Envelope::verified(
        sender,
        recipient,
        message_id,
        wire.timestamp_ms,
        parts,
        signature,
    )
}

fn parse_did(side: &'static str, did: &str) -> Result<ed25519_dalek::VerifyingKey, EnvelopeError> {
    if did.len() > MAX_DID_BYTES {
        return Err(EnvelopeError::FieldTooLarge {
            field: side,
            len: did.len(),
            max: MAX_DID_BYTES,
        });
    }
    crate::did_memo::key_of(did).map_err(|error| EnvelopeError::BadDid { side, error })
}

fn message_id(bytes: &[u8]) -> Result<MessageId, DecodeError> {
    <[u8; 16]>::try_from(bytes)
        .map(MessageId)
        .map_err(|_| EnvelopeError::BadMessageId(bytes.len()).into())
}

// ---------------------------------------------------------------------------------------------
// The msg protocol.

/// Encodes a msg request.
pub fn encode_msg_request(request: &MsgRequest) -> Vec<u8> {
    use pb::msg_request::Request;
    let request = match request {
        MsgRequest::Deliver(envelopes) => Request::Deliver(pb::Deliver {
            envelopes: envelopes.iter().map(encode_envelope).collect(),
        }),
        MsgRequest::Prekeys => Request::Prekeys(pb::PrekeyRequest {}),
    };
    pb::MsgRequest {
        request: Some(request),
    }
    .encode_to_vec()
}

/// Decodes a msg request.
pub fn decode_msg_request(bytes: &[u8]) -> Result<MsgRequest, DecodeError> {
    use pb::msg_request::Request;
    check_len("msg request", bytes.len(), MAX_MSG_FRAME_BYTES)?;
    let wire = pb::MsgRequest::decode(bytes).map_err(malformed("msg request"))?;
    match wire.request.ok_or(DecodeError::Empty("msg request"))? {
        Request::Deliver(d) => {
            // Counted before any envelope is decoded (each costs a signature check).
            check_count("delivered envelopes", d.envelopes.len(), MAX_DELIVER_BATCH)?;
            if d.envelopes.is_empty() {
                return Err(DecodeError::Empty("delivery"));
            }
            let envelopes = d
                .envelopes
                .iter()
                .map(|e| decode_envelope(e))
                .collect::<Result<_, _>>()?;
            Ok(MsgRequest::Deliver(envelopes))
        }
        Request::Prekeys(_) => Ok(MsgRequest::Prekeys),
    }
}

/// Encodes a msg response.
pub fn encode_msg_response(response: &MsgResponse) -> Vec<u8> {
    use pb::msg_response::Response;
    let response = match response {
        MsgResponse::Acks(acks) => Response::Acks(pb::DeliverAcks {
            acks: acks
                .iter()
                .map(|a| pb::DeliverAck {
                    message_id: a.message_id.0.to_vec(),
                    status: a.status.to_wire(),
                })
                .collect(),
        }),
        MsgResponse::Prekeys(bundle) => Response::Prekeys(pb::PrekeyBundleResponse {
            bundle: bundle.clone(),
        }),
    };
    pb::MsgResponse {
        response: Some(response),
    }
    .encode_to_vec()
}

/// Decodes a msg response.
pub fn decode_msg_response(bytes: &[u8]) -> Result<MsgResponse, DecodeError> {
    use pb::msg_response::Response;
    check_len("msg response", bytes.len(), MAX_MSG_FRAME_BYTES)?;
    let wire = pb::MsgResponse::decode(bytes).map_err(malformed("msg response"))?;
    match wire.response.ok_or(DecodeError::Empty("msg response"))? {
        Response::Acks(acks) => {
            check_count("acknowledgements", acks.acks.len(), MAX_DELIVER_BATCH)?;
            let acks = acks
                .acks
                .iter()
                .map(|a| {
                    Ok(Ack {
                        message_id: message_id(&a.message_id)?,
                        status: AckStatus::from_wire(a.status)?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?;
            Ok(MsgResponse::Acks(acks))
        }
        Response::Prekeys(p) => {
            check_len("prekey bundle", p.bundle.len(), MAX_BUNDLE_BYTES)?;
            Ok(MsgResponse::Prekeys(p.bundle))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The mailbox protocol.

/// Encodes a mailbox request.
pub fn encode_mailbox_request(request: &MailboxRequest) -> Vec<u8> {
    use pb::mailbox_request::Request;
    let request = match request {
        MailboxRequest::Deposit(envelope) => Request::Deposit(pb::Deposit {
            envelope: encode_envelope(envelope),
        }),
        MailboxRequest::Fetch { cursor, limit } => Request::Fetch(pb::Fetch {
            cursor: *cursor,
            limit: *limit,
        }),
        MailboxRequest::Acknowledge(acked) => Request::Acknowledge(pb::Acknowledge {
            messages: acked
                .iter()
                .map(|a| pb::AckedMessage {
                    sender: a.sender.to_vec(),
                    message_id: a.message_id.0.to_vec(),
                })
                .collect(),
        }),
    };
    pb::MailboxRequest {
        request: Some(request),
    }
    .encode_to_vec()
}

/// Decodes a mailbox request.
pub fn decode_mailbox_request(bytes: &[u8]) -> Result<MailboxRequest, DecodeError> {
    use pb::mailbox_request::Request;
    check_len("mailbox request", bytes.len(), MAX_MSG_FRAME_BYTES)?;
    let wire = pb::MailboxRequest::decode(bytes).map_err(malformed("mailbox request"))?;
    match wire.request.ok_or(DecodeError::Empty("mailbox request"))? {
        Request::Deposit(d) => Ok(MailboxRequest::Deposit(Box::new(decode_envelope(
            &d.envelope,
        )?))),
        Request::Fetch(f) => Ok(MailboxRequest::Fetch {
            cursor: f.cursor,
            limit: f.limit,
        }),
        Request::Acknowledge(a) => {
            check_count("acknowledged messages", a.messages.len(), MAX_ACK_IDS)?;
            let acked = a.messages.iter().map(|m| {
                let sender = <[u8; 32]>::try_from(m.sender.as_slice()).map_err(|_| {
                    DecodeError::Malformed {
                        what: "acknowledged sender",
                        reason: format!("{} bytes, not 32", m.sender.len()),
                    }
                })?;
                Ok::<_, DecodeError>(Acked {
                    sender,
                    message_id: message_id(&m.message_id)?,
                })
            });
            Ok(MailboxRequest::Acknowledge(
                acked.collect::<Result<_, _>>()?,
            ))
        }
    }
}

/// Encodes a mailbox response.
pub fn encode_mailbox_response(response: &MailboxResponse) -> Vec<u8> {
    use pb::mailbox_response::Response;
    let response = match response {
        MailboxResponse::Deposit { message_id, status } => Response::Deposit(pb::DepositAck {
            message_id: message_id.0.to_vec(),
            status: status.to_wire(),
        }),
        MailboxResponse::Page(page) => Response::Page(pb::Page {
            envelopes: page.envelopes.iter().map(encode_envelope).collect(),
            next_cursor: page.next_cursor,
            more: page.more,
        }),
        MailboxResponse::Acknowledged(n) => {
            Response::Acknowledged(pb::Acknowledged { removed: *n })
        }
    };
    pb::MailboxResponse {
        response: Some(response),
    }
    .encode_to_vec()
}

/// Decodes a mailbox response (every envelope of a page checked).
pub fn decode_mailbox_response(bytes: &[u8]) -> Result<MailboxResponse, DecodeError> {
    use pb::mailbox_response::Response;
    check_len("mailbox response", bytes.len(), MAX_MAILBOX_FRAME_BYTES)?;
    // Count a page's envelopes before prost builds them: a frame under the cap could hold
    // millions of empty entries.
    let envelopes = count_page_envelopes(bytes)?;
    check_count("page envelopes", envelopes, MAX_PAGE_ENVELOPES)?;
    let wire = pb::MailboxResponse::decode(bytes).map_err(malformed("mailbox response"))?;
    match wire
        .response
        .ok_or(DecodeError::Empty("mailbox response"))?
    {
        Response::Deposit(ack) => Ok(MailboxResponse::Deposit {
            message_id: message_id(&ack.message_id)?,
            status: DepositStatus::from_wire(ack.status)?,
        }),
        Response::Page(page) => {
            check_count("page envelopes", page.envelopes.len(), MAX_PAGE_ENVELOPES)?;
            let envelopes = page.envelopes.iter().map(|e| decode_envelope(e));
            Ok(MailboxResponse::Page(Page {
                envelopes: envelopes.collect::<Result<_, _>>()?,
                next_cursor: page.next_cursor,
                more: page.more,
            }))
        }
        Response::Acknowledged(a) => Ok(MailboxResponse::Acknowledged(a.removed)),
    }
}

// ---------------------------------------------------------------------------------------------

/// Field 2 of `MailboxResponse` (the page) and field 1 of `Page` (its envelopes).
const PAGE_FIELD: u64 = 2;
const PAGE_ENVELOPES_FIELD: u64 = 1;

/// How many envelope entries the pages in `bytes` (a `MailboxResponse`) hold, read off the
/// protobuf field keys without decoding anything.
fn count_page_envelopes(bytes: &[u8]) -> Result<usize, DecodeError> {
    let mut count = 0usize;
    for_each_field(bytes, |field, value| {
        if field == PAGE_FIELD
            && let Some(page) = value
        {
            for_each_field(page, |inner, _| {
                count += usize::from(inner == PAGE_ENVELOPES_FIELD);
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(count)
}

/// Calls `f(field number, Some(payload) for a length-delimited field)` for each field of the
/// protobuf message `bytes`; malformed framing is an error.
fn for_each_field(
    mut bytes: &[u8],
    mut f: impl FnMut(u64, Option<&[u8]>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let bad = || DecodeError::Malformed {
        what: "mailbox response",
        reason: "bad field framing".into(),
    };
    while !bytes.is_empty() {
        let key = read_varint(&mut bytes).ok_or_else(bad)?;
        let (field, wire_type) = (key >> 3, key & 7);
        let skip = match wire_type {
            0 => {
                read_varint(&mut bytes).ok_or_else(bad)?;
                0
            }
            1 => 8,
            5 => 4,
            2 => {
                let len = read_varint(&mut bytes).ok_or_else(bad)?;
                let len = usize::try_from(len).map_err(|_| bad())?;
                let payload = bytes.get(..len).ok_or_else(bad)?;
                f(field, Some(payload))?;
                len
            }
            _ => return Err(bad()),
        };
        if wire_type != 2 {
            f(field, None)?;
        }
        bytes = bytes.get(skip..).ok_or_else(bad)?;
    }
    Ok(())
}

/// A base-128 varint off the front of `bytes` (at most 10 bytes).
fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return Some(value);
        }
    }
    None
}

fn check_len(what: &'static str, len: usize, max: usize) -> Result<(), DecodeError> {
    if len > max {
        return Err(DecodeError::TooLarge { what, len, max });
    }
    Ok(())
}

fn check_count(what: &'static str, len: usize, max: usize) -> Result<(), DecodeError> {
    if len > max {
        return Err(DecodeError::TooMany { what, len, max });
    }
    Ok(())
}

fn malformed(what: &'static str) -> impl FnOnce(prost::DecodeError) -> DecodeError {
    move |e| DecodeError::Malformed {
        what,
        reason: e.to_string(),
    }
}
