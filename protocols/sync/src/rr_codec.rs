//! The libp2p request-response codec of `/talos/<network>/sync/1.0.0` ([`crate::protocol_id`]),
//! built with the `libp2p` feature.
//!
//! A frame is a big-endian `u32` length followed by that many bytes of protobuf
//! ([`crate::codec`]). The length is checked against the cap ([`MAX_REQUEST_BYTES`] for
//! requests, [`max_response_bytes`] for responses) before anything is allocated, and the
//! buffer then grows with the bytes that really arrive (a claimed length reserves nothing); a
//! frame over
//! the cap is an I/O error carrying a [`FrameTooLarge`] (downcast it from the
//! `std::io::Error` of an `OutboundFailure::Io` to penalize the peer).
//!
//! Bytes that fit the cap but are not a valid message are **not** an error: reading yields
//! [`InboundRequest::Invalid`] / [`InboundResponse::Invalid`] with the typed decode error. A
//! codec error on `read_request` would give the responder no event at all, so the node could
//! not penalize the sender.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response;
use talos_chain::Limits;

use crate::codec::{decode_request, decode_response, encode_request, encode_response};
use crate::error::SyncDecodeError;
use crate::limits::{MAX_REQUEST_BYTES, max_response_bytes};
use crate::messages::{SyncRequest, SyncResponse};

/// Bytes of the length prefix.
const LEN_PREFIX_BYTES: usize = 4;

/// What a frame's buffer starts at; it grows as bytes arrive.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// A frame whose announced length is over the cap; the payload was never read. Carried inside
/// the `std::io::Error` (kind `InvalidData`) the codec returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sync frame of {len} bytes is over the cap of {max}")]
pub struct FrameTooLarge {
    /// Announced length.
    pub len: u64,
    /// The cap.
    pub max: usize,
}

impl FrameTooLarge {
    /// The [`FrameTooLarge`] inside an I/O error from this codec, if that is what it is.
    pub fn from_io(error: &io::Error) -> Option<Self> {
        error.get_ref()?.downcast_ref::<Self>().copied()
    }
}

/// A request as read from a peer: the message, or why its bytes are not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundRequest {
    /// A valid request.
    Valid(SyncRequest),
    /// Bytes that do not decode, or a length over the cap (the payload is then not read):
    /// penalize the sender.
    Invalid(SyncDecodeError),
}

impl From<SyncRequest> for InboundRequest {
    fn from(request: SyncRequest) -> Self {
        Self::Valid(request)
    }
}

/// A response as read from a peer: the message, or why its bytes are not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundResponse {
    /// A valid response.
    Valid(SyncResponse),
    /// Bytes within the cap that do not decode: penalize the responder.
    Invalid(SyncDecodeError),
}

impl From<SyncResponse> for InboundResponse {
    fn from(response: SyncResponse) -> Self {
        Self::Valid(response)
    }
}

/// The request-response codec of the sync protocol, holding the network's limits (they set
/// the response cap and the per-block checks).
#[derive(Debug, Clone)]
pub struct SyncCodec {
    limits: Limits,
    max_response: usize,
}

impl SyncCodec {
    /// A codec for a network with these limits.
    pub fn new(limits: Limits) -> Self {
        let max_response = max_response_bytes(&limits);
        Self {
            limits,
            max_response,
        }
    }

    /// The network limits the codec checks against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Largest response frame payload accepted.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response
    }
}

/// Reads one length-prefixed frame, refusing a length over `max` before allocating.
pub async fn read_frame<T>(io: &mut T, max: usize) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut prefix = [0u8; LEN_PREFIX_BYTES];
    io.read_exact(&mut prefix).await?;
    let len = u32::from_be_bytes(prefix);
    let too_large = FrameTooLarge {
        len: len.into(),
        max,
    };
    let len =
        usize::try_from(len).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, too_large))?;
    if len > max {
        return Err(io::Error::new(io::ErrorKind::InvalidData, too_large));
    }
    // Grow with the data, not with the claim: a peer announcing a large frame and sending
    // nothing costs us one small buffer.
    let mut buf = Vec::with_capacity(len.min(READ_CHUNK_BYTES));
    let read = (&mut *io).take(len as u64).read_to_end(&mut buf).await?;
    if read < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "frame shorter than its length prefix",
        ));
    }
    Ok(buf)
}

/// Writes one length-prefixed frame (refusing a payload over `max`) and flushes.
pub async fn write_frame<T>(io: &mut T, payload: &[u8], max: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let too_large = FrameTooLarge {
        len: payload.len() as u64,
        max,
    };
    if payload.len() > max {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, too_large));
    }
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, too_large))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(payload).await?;
    io.flush().await
}

fn invalid_input(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

impl request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = InboundRequest;
    type Response = InboundResponse;

    async fn read_request<T>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<InboundRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = match read_frame(io, MAX_REQUEST_BYTES).await {
            Ok(bytes) => bytes,
            // An over-cap length becomes a value, not an error, so the responder sees the
            // request (and penalizes its sender); the payload is never read or allocated.
            Err(e) => match FrameTooLarge::from_io(&e) {
                Some(too_large) => {
                    return Ok(InboundRequest::Invalid(SyncDecodeError::Wire(
                        talos_chain::wire::DecodeError::TooLarge {
                            what: "sync request",
                            limit: too_large.max,
                            actual: usize::try_from(too_large.len).unwrap_or(usize::MAX),
                        },
                    )));
                }
                None => return Err(e),
            },
        };
        Ok(match decode_request(&bytes) {
            Ok(request) => InboundRequest::Valid(request),
            Err(e) => InboundRequest::Invalid(e),
        })
    }

    async fn read_response<T>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<InboundResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_frame(io, self.max_response).await?;
        Ok(match decode_response(&bytes, &self.limits) {
            Ok(response) => InboundResponse::Valid(response),
            Err(e) => InboundResponse::Invalid(e),
        })
    }

    async fn write_request<T>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        request: InboundRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let InboundRequest::Valid(request) = request else {
            return Err(invalid_input("cannot send an invalid sync request"));
        };
        write_frame(io, &encode_request(&request), MAX_REQUEST_BYTES).await
    }

    async fn write_response<T>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        response: InboundResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let InboundResponse::Valid(response) = response else {
            return Err(invalid_input("cannot send an invalid sync response"));
        };
        write_frame(io, &encode_response(&response), self.max_response).await
    }
}

#[cfg(test)]
mod tests;
