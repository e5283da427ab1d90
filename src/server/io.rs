//! [`Metered`]: a connection's transport as hyper sees it, counting what it writes.
//!
//! Every write that goes through, and every write that finds the socket full, is recorded
//! in the connection's [`Activity`]: writing a long response to a slow reader is activity
//! (the idle timeout must not cut it), and a socket that stays full is a client that reads
//! nothing (the write-stall timeout closes it).
//!
//! It also holds the connection's slot under `max_connections`, so that the slot is
//! released when the socket is, even when an upgrade (a WebSocket) takes the socket out of
//! hyper's hands.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;

use super::activity::Activity;

/// The transport `IO`, with its writes recorded and its connection slot held.
pub(super) struct Metered<IO> {
    io: IO,
    activity: Arc<Activity>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl<IO> Metered<IO> {
    pub(super) fn new(
        io: IO,
        activity: Arc<Activity>,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Self {
        Self {
            io,
            activity,
            _slot: slot,
        }
    }

    fn record(&self, written: &Poll<io::Result<usize>>) {
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
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
