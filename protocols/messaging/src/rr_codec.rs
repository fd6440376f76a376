//! The libp2p request-response codecs of `/talos/<network>/msg/1.0.0` ([`MsgCodec`]) and
//! `/talos/<network>/mailbox/1.0.0` ([`MailboxCodec`]), built with the `libp2p` feature.
//!
//! A frame is talos-sync's: a big-endian `u32` length, then that many bytes of protobuf
//! ([`crate::codec`]), read with [`talos_sync::rr_codec::read_frame`] (the length is checked
//! against the cap before anything is allocated, and the buffer grows with the bytes that
//! really arrive). The caps are [`MAX_MSG_FRAME_BYTES`] and [`MAX_MAILBOX_FRAME_BYTES`], for
//! requests and responses alike.
//!
//! Bytes that are not a valid message, and a length over the cap (whose payload is then never
//! read), are **not** I/O errors: reading yields an `Invalid` value with the typed
//! [`DecodeError`] (envelope signatures included, checked by the decoders). A codec error on
//! `read_request` would give the responder no event at all, so the node could not penalize the
//! sender; on `read_response` the value lets the asker penalize the responder and tell its
//! caller why. Only a stream that breaks (or ends inside a frame) is an I/O error.

use std::io;

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::request_response;
use talos_sync::rr_codec::{FrameTooLarge, read_frame, write_frame};

use crate::codec::{
    MailboxRequest, MailboxResponse, MsgRequest, MsgResponse, decode_mailbox_request,
    decode_mailbox_response, decode_msg_request, decode_msg_response, encode_mailbox_request,
    encode_mailbox_response, encode_msg_request, encode_msg_response,
};
use crate::error::DecodeError;
use crate::limits::{MAX_MAILBOX_FRAME_BYTES, MAX_MSG_FRAME_BYTES};

/// Declares a wrapper of a message as read from a peer: the message, or why its bytes are not
/// one.
macro_rules! inbound {
    ($(#[$doc:meta])* $name:ident, $message:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            /// A valid message.
            Valid($message),
            /// Bytes that do not decode, or a length over the cap (the payload is then not
            /// read): penalize the peer that sent them.
            Invalid(DecodeError),
        }

        impl From<$message> for $name {
            fn from(message: $message) -> Self {
                Self::Valid(message)
            }
        }

        impl From<Result<$message, DecodeError>> for $name {
            fn from(read: Result<$message, DecodeError>) -> Self {
                match read {
                    Ok(message) => Self::Valid(message),
                    Err(e) => Self::Invalid(e),
                }
            }
        }
    };
}

inbound!(
    /// A `/msg` request as read from a peer.
    InboundMsgRequest,
    MsgRequest
);
inbound!(
    /// A `/msg` response as read from a peer.
    InboundMsgResponse,
    MsgResponse
);
inbound!(
    /// A `/mailbox` request as read from a peer.
    InboundMailboxRequest,
    MailboxRequest
);
inbound!(
    /// A `/mailbox` response as read from a peer.
    InboundMailboxResponse,
    MailboxResponse
);

/// Reads one frame of at most `max` bytes and decodes it: the message, or (as a value) why it
/// is not one. Only a broken stream is an error.
async fn read_message<T, M>(
    io: &mut T,
    max: usize,
    what: &'static str,
    decode: fn(&[u8]) -> Result<M, DecodeError>,
) -> io::Result<Result<M, DecodeError>>
where
    T: AsyncRead + Unpin + Send,
{
    match read_frame(io, max).await {
        Ok(bytes) => Ok(decode(&bytes)),
        // An over-cap length becomes a value, so the reader sees the message (and penalizes
        // its sender); the payload is never read or allocated.
        Err(e) => match FrameTooLarge::from_io(&e) {
            Some(too_large) => Ok(Err(DecodeError::TooLarge {
                what,
                len: usize::try_from(too_large.len).unwrap_or(usize::MAX),
                max: too_large.max,
            })),
            None => Err(e),
        },
    }
}

/// Writes a valid message as one frame, refusing an invalid one (nothing to send).
async fn write_message<T>(io: &mut T, payload: Option<Vec<u8>>, max: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let Some(payload) = payload else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot send an invalid messaging message",
        ));
    };
    write_frame(io, &payload, max).await
}

/// Declares a request-response codec: frames of at most `$max` bytes, each side decoded by
/// its decoder into its `Inbound…` wrapper.
macro_rules! codec {
    (
        $(#[$doc:meta])* $name:ident, $max:expr,
        request: $request:ident = $decode_request:ident / $encode_request:ident, $request_what:literal,
        response: $response:ident = $decode_response:ident / $encode_response:ident, $response_what:literal $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl request_response::Codec for $name {
            type Protocol = StreamProtocol;
            type Request = $request;
            type Response = $response;

            async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<$request>
            where
                T: AsyncRead + Unpin + Send,
            {
                read_message(io, $max, $request_what, $decode_request).await.map(Into::into)
            }

            async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<$response>
            where
                T: AsyncRead + Unpin + Send,
            {
                read_message(io, $max, $response_what, $decode_response).await.map(Into::into)
            }

            async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, request: $request) -> io::Result<()>
            where
                T: AsyncWrite + Unpin + Send,
            {
                let payload = match request {
                    $request::Valid(request) => Some($encode_request(&request)),
                    $request::Invalid(_) => None,
                };
                write_message(io, payload, $max).await
            }

            async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, response: $response) -> io::Result<()>
            where
                T: AsyncWrite + Unpin + Send,
            {
                let payload = match response {
                    $response::Valid(response) => Some($encode_response(&response)),
                    $response::Invalid(_) => None,
                };
                write_message(io, payload, $max).await
            }
        }
    };
}

codec!(
    /// The request-response codec of `/talos/<network>/msg/1.0.0`: direct delivery and prekey
    /// requests, frames of at most [`MAX_MSG_FRAME_BYTES`].
    MsgCodec, MAX_MSG_FRAME_BYTES,
    request: InboundMsgRequest = decode_msg_request / encode_msg_request, "msg request",
    response: InboundMsgResponse = decode_msg_response / encode_msg_response, "msg response",
);

codec!(
    /// The request-response codec of `/talos/<network>/mailbox/1.0.0`: deposit, paged fetch and
    /// acknowledgement, frames of at most [`MAX_MAILBOX_FRAME_BYTES`] (a full page).
    MailboxCodec, MAX_MAILBOX_FRAME_BYTES,
    request: InboundMailboxRequest = decode_mailbox_request / encode_mailbox_request, "mailbox request",
    response: InboundMailboxResponse = decode_mailbox_response / encode_mailbox_response, "mailbox response",
);

#[cfg(test)]
mod tests;
