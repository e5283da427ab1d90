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
//!
//! And it closes an HTTP/1.1 connection in stages (RFC 9112, 9.6): its shutdown half-closes the
//! socket, then reads and discards what the client still sends until the client closes
//! too, for at most [`LINGER_TIME`] and [`LINGER_BYTES`]. Closing a socket that still has
//! unread bytes makes the kernel answer with a reset, which discards whatever the client
//! had not read yet: the end of an event stream, the last chunk, a `Connection: close`
//! answer. hyper (once the client sent more than its read buffer holds) and a detached
//! stream (which reads the client only once) both left such bytes.

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;

use crate::body::in_flight::Activity;

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

/// The longest a closing connection waits for its client to close too (see the module's
/// docs). A graceful shutdown's own timeout still bounds it.
pub(super) const LINGER_TIME: Duration = Duration::from_secs(2);

/// The most a closing connection reads (and discards) of what its client still sends.
pub(super) const LINGER_BYTES: usize = 1024 * 1024;

/// The transport `IO`, with its writes recorded and its connection slot held.
pub(super) struct Metered<IO> {
    io: IO,
    activity: Arc<Activity>,
    _slot: Option<OwnedSemaphorePermit>,
    /// Set once the write side is shut: the close's second stage (boxed: only closing
    /// connections need it).
    linger: Option<Pin<Box<Linger>>>,
    /// Whether a close lingers: HTTP/1.1's does. HTTP/2 ends with GOAWAY, after which the
    /// client closes by itself or holds an idle connection that waiting would only prolong.
    lingers: bool,
}

pin_project_lite::pin_project! {
    /// A half-closed connection waiting for its client's end of stream.
    struct Linger {
        #[pin]
        deadline: Sleep,
        discarded: usize,
    }
}

impl<IO> Metered<IO> {
    pub(super) fn new(
        io: IO,
        activity: Arc<Activity>,
        slot: Option<OwnedSemaphorePermit>,
        lingers: bool,
    ) -> Self {
        Self {
            io,
            activity,
            _slot: slot,
            linger: None,
            lingers,
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

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Metered<IO> {
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

    /// Half-closes, then lingers (see the module's docs); ready once the client has closed
    /// too, or sent more than [`LINGER_BYTES`], or [`LINGER_TIME`] has passed.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.lingers {
            return Pin::new(&mut this.io).poll_shutdown(cx);
        }
        if this.linger.is_none() {
            ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
            this.linger = Some(Box::pin(Linger {
                deadline: tokio::time::sleep(LINGER_TIME),
                discarded: 0,
            }));
        }
        let Some(linger) = &mut this.linger else {
            unreachable!("set above")
        };
        let linger = linger.as_mut().project();
        let (mut deadline, discarded) = (linger.deadline, linger.discarded);
        let mut buffer = [MaybeUninit::<u8>::uninit(); 4096];
        loop {
            let mut read = ReadBuf::uninit(&mut buffer);
            match Pin::new(&mut this.io).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {
                    *discarded += read.filled().len();
                    if *discarded > LINGER_BYTES {
                        tracing::debug!("closing client kept sending; closing anyway");
                        return Poll::Ready(Ok(()));
                    }
                }
                // A reset: nothing left to wait for.
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    if deadline.as_mut().poll(cx).is_ready() {
                        tracing::debug!("closing client did not close within the linger time");
                        return Poll::Ready(Ok(()));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}
