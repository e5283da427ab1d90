//! [`WsIo`]: the connection under tungstenite, with permessage-deflate between the two
//! when it was negotiated, and nothing between them when it was not.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::compress::Compressor;
use super::inflate::{Inflater, READY_LIMIT};
use super::negotiate::Params;

/// Which end of the conversation this is: it decides which side's negotiated parameters
/// apply to compressing and which to inflating, and how frames are masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Server,
    Client,
}

/// The byte stream tungstenite reads and writes frames on.
pub(crate) enum WsIo<T> {
    Plain(T),
    Deflate(Box<Deflating<T>>),
}

pub(crate) struct Deflating<T> {
    io: T,
    inflater: Inflater,
    compressor: Compressor,
    eof: bool,
}

impl<T> WsIo<T> {
    /// `io` as is without `params`; with them, compressing and inflating per `side`.
    /// `max_frame` is tungstenite's frame size limit, applied to compressed frames too.
    pub(crate) fn new(io: T, params: Option<Params>, side: Side, max_frame: usize) -> Self {
        let Some(params) = params else {
            return Self::Plain(io);
        };
        let (ours, theirs) = match side {
            Side::Server => (
                (
                    params.server_max_window_bits,
                    params.server_no_context_takeover,
                ),
                (
                    params.client_max_window_bits,
                    params.client_no_context_takeover,
                ),
            ),
            Side::Client => (
                (
                    params.client_max_window_bits,
                    params.client_no_context_takeover,
                ),
                (
                    params.server_max_window_bits,
                    params.server_no_context_takeover,
                ),
            ),
        };
        let emit_mask = (side == Side::Server).then_some([0; 4]);
        Self::Deflate(Box::new(Deflating {
            io,
            inflater: Inflater::new(theirs.0, theirs.1, emit_mask, max_frame as u64),
            compressor: Compressor::new(params.level, ours.0, ours.1, params.min_size),
            eof: false,
        }))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WsIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = match self.get_mut() {
            Self::Plain(io) => return Pin::new(io).poll_read(cx, buf),
            Self::Deflate(this) => this,
        };
        loop {
            let ready = &mut this.inflater.ready;
            if !ready.is_empty() {
                let n = ready.len().min(buf.remaining());
                buf.put_slice(&ready.split_to(n));
                return Poll::Ready(Ok(()));
            }
            this.inflater.process();
            if !this.inflater.ready.is_empty() {
                continue;
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let mut scratch = [0u8; 8 * 1024];
            let mut read = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                this.eof = true;
            }
            this.inflater.raw.extend_from_slice(read.filled());
        }
    }
}

impl<T: AsyncWrite + Unpin> Deflating<T> {
    /// Writes `out` to the socket until it is empty (`Ready`) or the socket is full.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let out = &mut self.compressor.out;
        while !out.is_empty() {
            let written = ready!(Pin::new(&mut self.io).poll_write(cx, out))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            let _ = out.split_to(written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WsIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = match self.get_mut() {
            Self::Plain(io) => return Pin::new(io).poll_write(cx, buf),
            Self::Deflate(this) => this,
        };
        // Backpressure: a peer that reads nothing stops the writer once this much waits.
        if let Poll::Pending = this.poll_drain(cx)?
            && this.compressor.out.len() >= READY_LIMIT
        {
            return Poll::Pending;
        }
        this.compressor.pending.extend_from_slice(buf);
        this.compressor.process()?;
        // Out at once, as on a bare socket: tungstenite does not always flush what it wrote
        // (its server's reply to a close is written, then the connection dropped).
        if let Poll::Ready(Err(error)) = this.poll_drain(cx) {
            return Poll::Ready(Err(error));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = match self.get_mut() {
            Self::Plain(io) => return Pin::new(io).poll_flush(cx),
            Self::Deflate(this) => this,
        };
        this.compressor.process()?;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = match self.get_mut() {
            Self::Plain(io) => return Pin::new(io).poll_shutdown(cx),
            Self::Deflate(this) => this,
        };
        this.compressor.process()?;
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}
