//! A raw request-response codec for the sync protocol: frames are a big-endian `u32` length
//! and that many bytes, exactly the node's framing, but the bytes are whatever the adversary
//! chooses (valid messages, lies, or junk). Frame lengths are checked against caps before
//! anything is allocated.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response;

/// Largest request frame read (the node's own request cap).
pub(crate) const MAX_REQUEST_FRAME: usize = talos_sync::limits::MAX_REQUEST_BYTES;

/// Largest response frame read: the adversary only ever asks for statuses, which are tiny.
pub(crate) const MAX_RESPONSE_FRAME: usize = 64 * 1024;

/// Largest frame written (a junk answer is far smaller).
const MAX_WRITE_FRAME: usize = 1024 * 1024;

/// Sends and receives raw frames; the adversary decodes and encodes them itself.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawSyncCodec;

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
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
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
        read_frame(io, MAX_RESPONSE_FRAME).await
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
    }
}
