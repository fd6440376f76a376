//! A raw request-response codec for the sync protocol: frames are a big-endian `u32` length
//! and that many bytes, exactly the node's framing, but the bytes are whatever the adversary
//! chooses (valid messages, lies, or junk). Frame lengths are checked against caps before
//! anything is read, and a frame's buffer grows with the bytes that arrive, never to its
//! claimed length first.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response;

/// Largest request frame read (the node's own request cap).
pub(crate) const MAX_REQUEST_FRAME: usize = talos_sync::limits::MAX_REQUEST_BYTES;

/// Largest response frame an adversary reads for itself: it only ever asks for statuses and
/// a few headers, which are tiny (a flooder's big answers fail at once, unread).
pub(crate) const MAX_RESPONSE_FRAME: usize = 64 * 1024;

/// Largest response frame a relaying adversary reads: a node's response cap on a network of
/// ordinary block sizes ([`talos_sync::limits::MIN_RESPONSE_BYTES`]), so any answer it
/// passes on fits.
pub(crate) const MAX_RELAYED_FRAME: usize = talos_sync::limits::MIN_RESPONSE_BYTES;

/// Largest frame written: a relayed answer as large as any read (a junk answer is far
/// smaller).
const MAX_WRITE_FRAME: usize = MAX_RELAYED_FRAME;

/// Sends and receives raw frames; the adversary decodes and encodes them itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawSyncCodec {
    /// Largest response frame read ([`MAX_RESPONSE_FRAME`] or [`MAX_RELAYED_FRAME`]).
    max_response: usize,
}

impl RawSyncCodec {
    /// A codec for an adversary that reads only its own answers.
    pub(crate) fn own() -> Self {
        Self {
            max_response: MAX_RESPONSE_FRAME,
        }
    }

    /// A codec for an adversary that relays answers of any size a node sends.
    pub(crate) fn relaying() -> Self {
        Self {
            max_response: MAX_RELAYED_FRAME,
        }
    }
}

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut prefix = [0u8; 4];
    io.read_exact(&mut prefix).await?;
    let len = usize::try_from(u32::from_be_bytes(prefix)).unwrap_or(usize::MAX);
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes over the cap of {max}"),
        ));
    }
    let mut buf = Vec::new();
    io.take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("frame of {len} bytes ended after {}", buf.len()),
        ));
    }
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, data: &[u8]) -> io::Result<()> {
    let len = u32::try_from(data.len())
        .ok()
        .filter(|_| data.len() <= MAX_WRITE_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(data).await?;
    io.flush().await
}

impl request_response::Codec for RawSyncCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, MAX_REQUEST_FRAME).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &request).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_oversized_ones_are_refused() {
        let mut buf = Vec::new();
        write_frame(&mut futures::io::Cursor::new(&mut buf), b"hello")
            .await
            .unwrap();
        assert_eq!(&buf[..4], &5u32.to_be_bytes());
        let read = read_frame(&mut futures::io::Cursor::new(&buf), 16)
            .await
            .unwrap();
        assert_eq!(read, b"hello");
        let err = read_frame(&mut futures::io::Cursor::new(&buf), 4)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let huge = u32::MAX.to_be_bytes();
        assert!(
            read_frame(&mut futures::io::Cursor::new(&huge[..]), MAX_REQUEST_FRAME)
                .await
                .is_err()
        );
        // A frame that ends early is an error, whatever room it claimed.
        let mut short = 1000u32.to_be_bytes().to_vec();
        short.extend_from_slice(b"only a few");
        let err = read_frame(&mut futures::io::Cursor::new(&short), MAX_REQUEST_FRAME)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
