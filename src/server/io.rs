//! [`Metered`]: a connection's transport as hyper sees it, counting what it writes.
//!
//! Every write that goes through, and every write that finds the socket full, is recorded
//! in the connection's [`Activity`] (and whether the writer has flushed since, for
//! `handoff`): writing a long response to a slow reader is activity
//! (the idle timeout must not cut it), and a socket that stays full is a client that reads
//! nothing (the write-stall timeout closes it).
//!
//! It also holds the connection's slot under `max_connections`, so that the slot is
//! released when the socket is, even when an upgrade (a WebSocket) takes the socket out of
//! hyper's hands.
//!
//! A write only finds the socket full when the kernel's send buffer is, and the kernel
//! wakes the writer again only once a good part of that buffer has drained: with a buffer
//! autotuned to 4 MiB, a client reading 50 KB/s would show no progress for 40 s. So the
//! socket's unsent bytes are capped at [`UNSENT_LOW_WATER`] (`TCP_NOTSENT_LOWAT`, Linux):
//! the kernel then wakes the writer each time the client has read about half of that,
//! and a client that reads 64 KiB per write-stall timeout (2 KiB/s at the default 30 s)
//! is never taken for stalled. Data sent but not yet acknowledged is not capped, so
//! throughput is unchanged; events also wait less behind a backlog.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;

use super::activity::Activity;

/// The most bytes a connection's socket holds that have not been sent yet.
pub(super) const UNSENT_LOW_WATER: u32 = 128 * 1024;

/// Caps the unsent bytes `stream`'s kernel buffer holds (see the module's docs); a no-op
/// where the system has no such option.
pub(super) fn cap_unsent_bytes(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(error) = socket2::SockRef::from(stream).set_tcp_notsent_lowat(UNSENT_LOW_WATER) {
        tracing::debug!(%error, "could not set TCP_NOTSENT_LOWAT");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

/// The transport `IO`, with its writes recorded and its connection slot held.
pub(super) struct Metered<IO> {
    io: IO,
    activity: Arc<Activity>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl<IO> Metered<IO> {
    pub(super) fn new(io: IO, activity: Arc<Activity>, slot: Option<OwnedSemaphorePermit>) -> Self {
        Self {
            io,
            activity,
            _slot: slot,
        }
    }

    /// The transport itself.
    pub(super) fn get_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    fn record(&self, written: &Poll<io::Result<usize>>) {
        // Whatever the outcome, the writer had something to write: not flushed.
        self.activity.handoff.set_flushed(false);
        match written {
            Poll::Ready(Ok(bytes)) => self.activity.wrote(*bytes),
            Poll::Pending => self.activity.write_blocked(),
            Poll::Ready(Err(_)) => {}
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Metered<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Metered<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.record(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.record(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        if let Poll::Ready(Ok(())) = flushed {
            // hyper flushes the transport only once its own buffer is written out.
            self.activity.handoff.set_flushed(true);
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
