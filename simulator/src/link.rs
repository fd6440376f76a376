//! One end of a simulated connection: [`LinkStream`] wraps a raw byte stream and applies the
//! link model to what it reads (latency, jitter, bandwidth), counts its node's traffic, and
//! fails once a partition cuts the connection.
//!
//! Each end delays its own reads, so each direction is delayed once, at its receiver, without
//! any per-connection task: a read first pulls whatever the inner stream has ready into a
//! bounded queue of timestamped chunks, then hands out the bytes that are due, or sleeps until
//! the head of the queue is.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep};

use crate::model::ConnHandle;

/// Most bytes read ahead from the inner stream and waiting for their delivery time.
pub const READ_AHEAD: usize = 1 << 20;

/// Most bytes pulled from the inner stream in one go (one chunk at most this large).
const PULL: usize = 16 * 1024;

/// Longest delay one chunk can get (keeps `Instant` arithmetic far from overflow).
const MAX_DELAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Bytes read from the inner stream, to be handed out from `deliver_at`.
#[derive(Debug)]
struct Chunk {
    deliver_at: Instant,
    data: Vec<u8>,
    pos: usize,
}

/// How the inner stream ended, reported once the queue is drained.
#[derive(Clone, Copy, Debug)]
enum End {
    Eof,
    Error(io::ErrorKind),
}

/// A small seeded generator for jitter (splitmix64): eight bytes of state per stream.
#[derive(Clone, Copy, Debug)]
struct JitterRng(u64);

impl JitterRng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, max)` (zero when `max` is zero).
    fn below(&mut self, max: Duration) -> Duration {
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(self.next() % nanos)
        }
    }
}

/// `t + d`, with `d` capped at [`MAX_DELAY`].
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d.min(MAX_DELAY)).unwrap_or(t)
}

/// Time to serialize `bytes` at `bw` bytes per second.
fn transmission(bytes: usize, bw: u64) -> Duration {
    let nanos = (bytes as u128).saturating_mul(1_000_000_000) / u128::from(bw.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

fn reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "simulated link cut by a partition",
    )
}

/// One end of a simulated connection over the raw stream `S`.
#[derive(Debug)]
pub struct LinkStream<S> {
    inner: S,
    conn: ConnHandle,
    rng: JitterRng,
    queue: VecDeque<Chunk>,
    queued: usize,
    /// When the link (this direction) finishes sending what is queued, with a bandwidth cap.
    link_free: Option<Instant>,
    /// Allocated the first time a read has to wait, then reused.
    sleep: Option<Pin<Box<Sleep>>>,
    end: Option<End>,
}

impl<S> LinkStream<S> {
    /// Wraps `inner`, one end of the connection `conn` registered in the model.
    pub fn new(inner: S, conn: ConnHandle) -> Self {
        let rng = JitterRng(conn.seed());
        Self {
            inner,
            conn,
            rng,
            queue: VecDeque::new(),
            queued: 0,
            link_free: None,
            sleep: None,
            end: None,
        }
    }

    /// The node this end belongs to.
    pub fn local(&self) -> usize {
        self.conn.shared().local()
    }

    /// The node at the other end.
    pub fn remote(&self) -> usize {
        self.conn.shared().remote()
    }

    /// Bytes read from the inner stream and not yet handed out.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Stamps a chunk of `data` that arrived at `now` and queues it.
    fn enqueue(&mut self, data: Vec<u8>, now: Instant) {
        let params = self.conn.params();
        let mut start = now;
        if let Some(bw) = params.bandwidth() {
            let free = self.link_free.map_or(now, |f| f.max(now));
            let free = later(free, transmission(data.len(), bw));
            self.link_free = Some(free);
            start = free;
        }
        let delay = params.latency + self.rng.below(params.jitter);
        let mut deliver_at = later(start, delay);
        if let Some(prev) = self.queue.back() {
            deliver_at = deliver_at.max(prev.deliver_at);
        }
        self.queued += data.len();
        self.queue.push_back(Chunk {
            deliver_at,
            data,
            pos: 0,
        });
    }

    /// Copies due bytes (due at `now`) into `buf`.
    fn take_due(&mut self, now: Instant, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let Some(head) = self.queue.front_mut() else {
                break;
            };
            if head.deliver_at > now {
                break;
            }
            let rest = head.data.get(head.pos..).unwrap_or_default();
            let take = rest.len().min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&rest[..take]);
            n += take;
            head.pos += take;
            if head.pos >= head.data.len() {
                self.queue.pop_front();
            }
        }
        self.queued -= n;
        if self.queue.is_empty() && self.queue.capacity() > 16 {
            self.queue.shrink_to(4);
        }
        n
    }
}

impl<S: AsyncRead + Unpin> LinkStream<S> {
    /// Pulls what the inner stream has ready into the queue, up to [`READ_AHEAD`]. Leaves the
    /// task registered on the inner stream when it stops because nothing is ready.
    fn pull(&mut self, cx: &mut Context<'_>, now: Instant) {
        let mut scratch = [0u8; PULL];
        while self.end.is_none() && self.queued < READ_AHEAD {
            let want = PULL.min(READ_AHEAD - self.queued);
            match Pin::new(&mut self.inner).poll_read(cx, &mut scratch[..want]) {
                Poll::Ready(Ok(0)) => self.end = Some(End::Eof),
                Poll::Ready(Ok(n)) => self.enqueue(scratch[..n].to_vec(), now),
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => self.end = Some(End::Error(e.kind())),
                Poll::Pending => break,
            }
        }
    }

    /// `Pending`, unless the connection was cut meanwhile.
    fn read_pending(&self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        self.conn.shared().register_reader(cx.waker());
        if self.conn.shared().is_killed() {
            Poll::Ready(Err(reset()))
        } else {
            Poll::Pending
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LinkStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.conn.shared().is_killed() {
            return Poll::Ready(Err(reset()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // Nothing to delay: read straight through.
        if this.conn.params().is_instant() && this.queue.is_empty() && this.end.is_none() {
            return match Pin::new(&mut this.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(n)) => {
                    this.conn.counters().add_in(n);
                    Poll::Ready(Ok(n))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => this.read_pending(cx),
            };
        }
        let mut now = Instant::now();
        this.pull(cx, now);
        loop {
            let n = this.take_due(now, buf);
            if n > 0 {
                this.conn.counters().add_in(n);
                return Poll::Ready(Ok(n));
            }
            let Some(due) = this.queue.front().map(|c| c.deliver_at) else {
                return match this.end {
                    Some(End::Eof) => Poll::Ready(Ok(0)),
                    Some(End::Error(kind)) => Poll::Ready(Err(io::Error::from(kind))),
                    None => this.read_pending(cx),
                };
            };
            if tokio::runtime::Handle::try_current().is_err() {
                // No timer outside a Tokio runtime: deliver without the delay rather than fail.
                now = due;
                continue;
            }
            let sleep = match &mut this.sleep {
                Some(sleep) => {
                    if sleep.deadline() != due {
                        sleep.as_mut().reset(due);
                    }
                    sleep
                }
                None => this.sleep.insert(Box::pin(tokio::time::sleep_until(due))),
            };
            match sleep.as_mut().poll(cx) {
                // The timer fired: the head is due (the timer may round to its tick).
                Poll::Ready(()) => now = Instant::now().max(due),
                Poll::Pending => return this.read_pending(cx),
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> LinkStream<S> {
    /// `Pending`, unless the connection was cut meanwhile.
    fn write_pending<T>(&self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        self.conn.shared().register_writer(cx.waker());
        if self.conn.shared().is_killed() {
            Poll::Ready(Err(reset()))
        } else {
            Poll::Pending
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LinkStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.conn.shared().is_killed() {
            return Poll::Ready(Err(reset()));
        }
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.conn.counters().add_out(n);
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.write_pending(cx),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.conn.shared().is_killed() {
            return Poll::Ready(Err(reset()));
        }
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.write_pending(cx),
            ready => ready,
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.conn.shared().is_killed() {
            // A cut connection closes quietly: there is nothing left to tell the peer.
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut this.inner).poll_close(cx) {
            Poll::Pending => {
                this.conn.shared().register_writer(cx.waker());
                if this.conn.shared().is_killed() {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                }
            }
            ready => ready,
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
    use libp2p::core::Endpoint;
    use libp2p::core::transport::memory::Channel;
    use libp2p::core::transport::{
        DialOpts, ListenerId, MemoryTransport, PortUse, Transport, TransportEvent,
    };

    use super::*;
    use crate::model::{LinkParams, NetModel};

    /// One end (node 0 towards node 1) over a stream that is never read or written.
    fn idle_end(model: &NetModel) -> LinkStream<futures::io::Cursor<Vec<u8>>> {
        LinkStream::new(
            futures::io::Cursor::new(Vec::new()),
            model.open_conn(0, 1).unwrap(),
        )
    }

    /// Both ends of a raw memory-transport connection.
    async fn memory_pair() -> (Channel<Vec<u8>>, Channel<Vec<u8>>) {
        let mut listener = MemoryTransport::default().boxed();
        let id = ListenerId::next();
        listener
            .listen_on(id, "/memory/0".parse().unwrap())
            .unwrap();
        let addr = loop {
            if let TransportEvent::NewAddress { listen_addr, .. } =
                listener.select_next_some().await
            {
                break listen_addr;
            }
        };
        let opts = DialOpts {
            role: Endpoint::Dialer,
            port_use: PortUse::New,
        };
        let dialed = MemoryTransport::default()
            .dial(addr, opts)
            .unwrap()
            .await
            .unwrap();
        let accepted = loop {
            if let TransportEvent::Incoming { upgrade, .. } = listener.select_next_some().await {
                break upgrade.await.unwrap();
            }
        };
        (dialed, accepted)
    }

    #[test]
    fn jitter_is_below_its_bound_and_seeded() {
        let mut a = JitterRng(7);
        let mut b = JitterRng(7);
        let max = Duration::from_millis(5);
        for _ in 0..1000 {
            let d = a.below(max);
            assert!(d < max);
            assert_eq!(d, b.below(max));
        }
        assert_eq!(a.below(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn transmission_time_follows_bandwidth() {
        assert_eq!(transmission(1000, 1000), Duration::from_secs(1));
        assert_eq!(transmission(500, 1_000_000), Duration::from_micros(500));
        assert_eq!(transmission(0, 10), Duration::ZERO);
    }

    #[test]
    fn chunks_stay_in_order_under_jitter() {
        let model = NetModel::new(
            3,
            LinkParams {
                latency: Duration::from_millis(10),
                jitter: Duration::from_millis(50),
                bandwidth_bytes_per_s: None,
            },
        );
        let mut s = idle_end(&model);
        let now = Instant::now();
        for i in 0..100u8 {
            s.enqueue(vec![i], now);
        }
        let stamps: Vec<Instant> = s.queue.iter().map(|c| c.deliver_at).collect();
        assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
        assert!(stamps.iter().all(|&t| t >= now + Duration::from_millis(10)));
        assert_eq!(s.queued(), 100);
        // Nothing is due before the latency; everything is due after latency + jitter.
        let mut buf = [0u8; 200];
        assert_eq!(s.take_due(now, &mut buf), 0);
        let n = s.take_due(now + Duration::from_millis(60), &mut buf);
        assert_eq!(n, 100);
        assert_eq!(&buf[..100], (0..100u8).collect::<Vec<_>>().as_slice());
        assert_eq!(s.queued(), 0);
    }

    #[test]
    fn bandwidth_spaces_chunks_by_their_size() {
        let model = NetModel::new(
            0,
            LinkParams {
                latency: Duration::from_millis(1),
                jitter: Duration::ZERO,
                bandwidth_bytes_per_s: Some(1000),
            },
        );
        let mut s = idle_end(&model);
        let now = Instant::now();
        s.enqueue(vec![0; 100], now);
        s.enqueue(vec![0; 200], now);
        let stamps: Vec<Instant> = s.queue.iter().map(|c| c.deliver_at).collect();
        assert_eq!(stamps[0], now + Duration::from_millis(101));
        assert_eq!(stamps[1], now + Duration::from_millis(301));
    }

    #[tokio::test]
    async fn reads_wait_for_latency_and_count_traffic() {
        let latency = Duration::from_millis(30);
        let model = NetModel::new(
            0,
            LinkParams {
                latency,
                ..LinkParams::default()
            },
        );
        let (a, b) = memory_pair().await;
        let mut a = LinkStream::new(a, model.open_conn(0, 1).unwrap());
        let mut b = LinkStream::new(b, model.open_conn(1, 0).unwrap());
        let start = std::time::Instant::now();
        a.write_all(b"hello").await.unwrap();
        let mut got = [0u8; 5];
        b.read_exact(&mut got).await.unwrap();
        assert!(start.elapsed() >= latency);
        assert_eq!(&got, b"hello");
        assert_eq!(model.traffic(0).bytes_out, 5);
        assert_eq!(model.traffic(1).bytes_in, 5);
        // EOF passes through once the queue is drained.
        a.close().await.unwrap();
        drop(a);
        assert_eq!(b.read(&mut got).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_cut_wakes_a_pending_reader() {
        let model = NetModel::new(0, LinkParams::default());
        let (a, _b) = memory_pair().await;
        let mut a = LinkStream::new(a, model.open_conn(0, 1).unwrap());
        let m = model.clone();
        let cut = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            m.partition(&[vec![0], vec![1]]);
        });
        let mut buf = [0u8; 4];
        let err = a.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(
            a.write(b"x").await.unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
        a.close().await.unwrap();
        cut.await.unwrap();
    }
}
