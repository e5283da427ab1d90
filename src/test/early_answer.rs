//! [`EarlyAnswer`]: the test client's socket, which lets a response the server sent before
//! reading the whole request body reach the test.
//!
//! A server that refuses a request early (a `413` for a `content-length` over the limit, a
//! `401` before an upload) answers and closes the connection without reading the rest of
//! the body. The client, still writing, then gets `EPIPE` or `ECONNRESET`, and hyper's
//! client gives up on the whole exchange ("error writing a body to connection") although
//! the answer is already in its receive buffer: it did so in 7 of 9 tries of a 10 MiB upload.
//! curl reads the answer instead, and so does this socket: once the server stopped reading,
//! what the client still writes is dropped (reported as written), and reading goes on, so
//! hyper parses the response the server sent. If there is none, the read fails or ends and
//! the request fails as before: nothing waits forever.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A socket whose writes succeed (and are dropped) once the peer has stopped reading.
#[derive(Debug)]
pub(crate) struct EarlyAnswer<S> {
    inner: S,
    peer_stopped_reading: bool,
}

impl<S> EarlyAnswer<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            peer_stopped_reading: false,
        }
    }

    /// Whether `error` says the peer will read nothing more (but may have answered).
    fn stops_writing(&mut self, error: &io::Error) -> bool {
        let stopped = matches!(
            error.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        );
        if stopped {
            tracing::debug!(%error, "the server stopped reading the request; reading its answer");
            self.peer_stopped_reading = true;
        }
        stopped
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for EarlyAnswer<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for EarlyAnswer<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.peer_stopped_reading {
            return Poll::Ready(Ok(buf.len()));
        }
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(Err(error)) if self.stops_writing(&error) => Poll::Ready(Ok(buf.len())),
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.peer_stopped_reading {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(Err(error)) if self.stops_writing(&error) => Poll::Ready(Ok(())),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.peer_stopped_reading {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.inner).poll_shutdown(cx) {
            Poll::Ready(Err(error)) if self.stops_writing(&error) => Poll::Ready(Ok(())),
            other => other,
        }
    }
}
