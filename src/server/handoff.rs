//! Event streams over HTTP/1.1 leave hyper once their response head is on the wire.
//!
//! hyper keeps an HTTP/1.1 connection's read buffer (8 KiB), write buffer (8 KiB) and
//! dispatcher for as long as the connection lives. For a request answered in microseconds
//! that is nothing; for an event stream open for hours, it is most of what the stream
//! costs: four of the five pages a stream used to hold, for an event every few seconds.
//!
//! So a long-lived body (an [`EventStream`](crate::sse::EventStream)'s) is handed from
//! hyper to the connection: on hyper's first poll the body gives itself to the connection's
//! `Handoff` (in `body::in_flight`, where the body can reach it) and stays pending; once hyper has flushed the head, the connection takes
//! the socket back from hyper (`into_parts`), drops hyper's state, and [`Detached`] writes
//! the rest of the body in the same chunked framing hyper would have used, one chunk per
//! event, with the same backpressure (the next chunk is produced once the last is
//! written) and the same watch on the client (a read that finds the end of the stream
//! means it left; bytes it sends meanwhile are kept for later). When the body ends, the
//! last chunk goes out and hyper serves the connection again from what the client sent.
//!
//! Only bodies that hyper would send chunked are handed off: an HTTP/1.1 request that is
//! not `HEAD` or `CONNECT`, a status that has a body, and no `content-length` or
//! `transfer-encoding` set by the handler (see `service::into_hyper`).

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::body::Body;
use crate::error::BoxError;
use crate::lazy_poll::LazyPoll;

/// How a detached response ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// The body ended and its last chunk was written: the connection may serve more
    /// requests, starting with `received` (bytes the client sent meanwhile).
    Complete { received: Bytes },
    /// The client closed the connection.
    ClientLeft,
}

/// The rest of a chunked response body, written by the connection itself.
pub(super) struct Detached {
    body: Body,
    chunk: Option<Chunk>,
    /// Chunks were written since the transport was last flushed.
    unflushed: bool,
    ending: bool,
    /// What the client sent while the response was being written (a pipelined request),
    /// kept for hyper: read while there is room ([`KEEP_AT_MOST`]), so that a reset is
    /// noticed at once; the socket is not read again once it is full.
    received: BytesMut,
    /// hyper had already read a request beyond this one (`read_ahead`): like one that
    /// arrives meanwhile, it makes the client's end of stream a half-close after a
    /// pipeline rather than leaving (hyper's rule: it does not take an end of stream
    /// for leaving while it holds unread request bytes).
    pipelined: bool,
    /// The client will not be read again: it half-closed after a request, or sent as much
    /// as is kept.
    client_done: bool,
    /// The watch on the client: its socket is polled for reading only once it has woken
    /// the task (readiness is checked under a lock), not after every event.
    client: LazyPoll,
}

impl Detached {
    /// `pipelined`: hyper holds request bytes it read beyond this response's request.
    pub(super) fn new(body: Body, pipelined: bool) -> Self {
        Self {
            body,
            chunk: None,
            unflushed: false,
            ending: false,
            received: BytesMut::new(),
            pipelined,
            client_done: false,
            client: LazyPoll::default(),
        }
    }

    /// Writes the body to `io` until it ends, fails (`Err`: the connection must be closed
    /// without the last chunk, so that the client sees a truncated body) or the client
    /// leaves.
    pub(super) fn poll_send<IO>(
        &mut self,
        io: &mut IO,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Ended, BoxError>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        loop {
            if let Some(chunk) = &mut self.chunk {
                match chunk.poll_write(io, cx) {
                    Poll::Ready(Ok(())) => {
                        self.chunk = None;
                        self.unflushed = true;
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                    Poll::Pending => return self.poll_client(io, cx),
                }
            }
            if self.ending {
                return match Pin::new(&mut *io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => {
                        let received = self.received.split().freeze();
                        Poll::Ready(Ok(Ended::Complete { received }))
                    }
                    Poll::Ready(Err(error)) => Poll::Ready(Err(error.into())),
                    Poll::Pending => self.poll_client(io, cx),
                };
            }
            match Pin::new(&mut self.body).poll_next(cx) {
                Poll::Ready(Some(Ok(data))) => self.chunk = Some(Chunk::data(data)),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(error)),
                Poll::Ready(None) => {
                    self.chunk = Some(Chunk::last());
                    self.ending = true;
                }
                Poll::Pending => {
                    // Nothing more to write for now: a TLS stream may keep the last records
                    // until flushed (TCP's flush does nothing). Not after every chunk: a
                    // flush that waits on a full socket would stop the writes, and with
                    // them the watch on a client that reads nothing (only a write finds
                    // the socket full; TLS takes a chunk whole into its bounded buffer).
                    if self.unflushed {
                        match Pin::new(&mut *io).poll_flush(cx) {
                            Poll::Ready(Ok(())) => self.unflushed = false,
                            Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                            Poll::Pending => {}
                        }
                    }
                    return self.poll_client(io, cx);
                }
            }
        }
    }

    /// Watches the client while the body has nothing to write: a reset, or the end of its
    /// stream before it sent anything more, means it left.
    fn poll_client<IO>(
        &mut self,
        io: &mut IO,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Ended, BoxError>>
    where
        IO: AsyncRead + Unpin,
    {
        while !self.client_done {
            let mut buffer = [MaybeUninit::<u8>::uninit(); 512];
            let mut read = ReadBuf::uninit(&mut buffer);
            match self
                .client
                .poll(cx, |cx| Pin::new(&mut *io).poll_read(cx, &mut read))
            {
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    if self.received.is_empty() && !self.pipelined {
                        return Poll::Ready(Ok(Ended::ClientLeft));
                    }
                    // A half-close after a pipelined request: the stream goes on to its end,
                    // then hyper reads the end of stream again and closes as it would have.
                    self.client_done = true;
                }
                Poll::Ready(Ok(())) => {
                    self.received.extend_from_slice(read.filled());
                    self.client_done = self.received.len() >= KEEP_AT_MOST;
                }
                Poll::Ready(Err(error)) => {
                    tracing::debug!(%error, "reading from the client of a detached stream failed");
                    return Poll::Ready(Ok(Ended::ClientLeft));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Pending
    }
}

/// The most a detached stream keeps of what its client sends meanwhile, as much as hyper's
/// read buffer holds; past it the client is not read (nor watched) until hyper is back.
const KEEP_AT_MOST: usize = 8 * 1024;

/// One chunk in the chunked transfer coding: `<size in hex>\r\n<data>\r\n`, or the last
/// chunk `0\r\n\r\n`.
struct Chunk {
    head: [u8; 18],
    head_len: u8,
    data: Bytes,
    tail: &'static [u8],
    /// Bytes of head, data and tail already written.
    written: usize,
}

impl Chunk {
    fn data(data: Bytes) -> Self {
        let len = data.len();
        // Hex digits of the size (one for 0, which no data chunk has anyway).
        let digits = (usize::BITS - (len | 1).leading_zeros()).div_ceil(4) as usize;
        let mut head = [0u8; 18];
        for (at, digit) in head[..digits].iter_mut().enumerate() {
            *digit = b"0123456789ABCDEF"[(len >> (4 * (digits - 1 - at))) & 0xF];
        }
        head[digits..digits + 2].copy_from_slice(b"\r\n");
        Self {
            head,
            head_len: (digits + 2) as u8,
            data,
            tail: b"\r\n",
            written: 0,
        }
    }

    fn last() -> Self {
        Self {
            head: [0; 18],
            head_len: 0,
            data: Bytes::new(),
            tail: b"0\r\n\r\n",
            written: 0,
        }
    }

    fn parts(&self) -> [&[u8]; 3] {
        [
            &self.head[..usize::from(self.head_len)],
            &self.data,
            self.tail,
        ]
    }

    fn poll_write<IO: AsyncWrite + Unpin>(
        &mut self,
        io: &mut IO,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut skip = self.written;
            let mut slices = [io::IoSlice::new(&[]); 3];
            let mut count = 0;
            let mut remaining = 0;
            for part in self.parts() {
                if skip >= part.len() {
                    skip -= part.len();
                    continue;
                }
                slices[count] = io::IoSlice::new(&part[skip..]);
                remaining += part.len() - skip;
                skip = 0;
                count += 1;
            }
            if count == 0 {
                return Poll::Ready(Ok(()));
            }
            let written = if remaining <= GATHER_UP_TO {
                // Not zeroed first: `ReadBuf` tracks what has been written (a memset of the
                // whole buffer per event was a tenth of the instructions of a delivery).
                let mut storage = [MaybeUninit::<u8>::uninit(); GATHER_UP_TO];
                let mut gathered = ReadBuf::uninit(&mut storage);
                for slice in &slices[..count] {
                    gathered.put_slice(slice);
                }
                ready!(Pin::new(&mut *io).poll_write(cx, gathered.filled()))?
            } else {
                ready!(Pin::new(&mut *io).poll_write_vectored(cx, &slices[..count]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += written;
        }
    }
}

/// A chunk this small (most events) is copied into one buffer and written with one plain
/// write, which on a TCP socket is a `send`: a `writev` of its three parts goes through the
/// file layer first (`vfs_writev`, the file's position lock), about 5% of what a broadcast
/// costs the server per stream, where copying a few hundred bytes costs almost nothing.
const GATHER_UP_TO: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn chunk_text(data: &'static str) -> String {
        let chunk = Chunk::data(Bytes::from_static(data.as_bytes()));
        chunk.parts().concat().iter().map(|&b| b as char).collect()
    }

    #[test]
    fn chunks_are_framed_as_hyper_frames_them() {
        assert_eq!(chunk_text("hello"), "5\r\nhello\r\n");
        let long = "x".repeat(0x1A2B);
        let text: String = Chunk::data(Bytes::from(long.clone()))
            .parts()
            .concat()
            .iter()
            .map(|&b| b as char)
            .collect();
        assert_eq!(text, format!("1A2B\r\n{long}\r\n"));
        assert_eq!(Chunk::last().parts().concat(), b"0\r\n\r\n");
        for (size, head) in [(1, "1"), (15, "F"), (16, "10"), (255, "FF"), (4096, "1000")] {
            let chunk = Chunk::data(Bytes::from(vec![b'z'; size]));
            assert_eq!(chunk.parts()[0], format!("{head}\r\n").as_bytes());
        }
    }

    #[tokio::test]
    async fn a_detached_body_is_written_chunk_by_chunk_then_ended() {
        let (mut server, mut client) = tokio::io::duplex(7); // forces partial writes
        let body = Body::from_stream(stream::iter(["data: one\n\n", "data: two\n\n"]));
        let mut detached = Detached::new(body, false);
        let sending = tokio::spawn(async move {
            std::future::poll_fn(|cx| detached.poll_send(&mut server, cx)).await
        });
        let mut received = Vec::new();
        while !received.ends_with(b"0\r\n\r\n") {
            let mut buffer = [0u8; 64];
            let n = client.read(&mut buffer).await.unwrap();
            received.extend_from_slice(&buffer[..n]);
        }
        assert_eq!(
            String::from_utf8(received).unwrap(),
            "B\r\ndata: one\n\n\r\nB\r\ndata: two\n\n\r\n0\r\n\r\n"
        );
        assert_eq!(
            sending.await.unwrap().unwrap(),
            Ended::Complete {
                received: Bytes::new()
            }
        );
    }

    /// Small chunks go out gathered in one write, large ones as three slices; both survive
    /// a transport that takes a few bytes at a time.
    #[tokio::test]
    async fn small_and_large_chunks_survive_partial_writes() {
        let large = "y".repeat(3 * GATHER_UP_TO);
        let pieces = vec!["data: small\n\n".to_owned(), large.clone()];
        let (mut server, mut client) = tokio::io::duplex(5);
        let mut detached = Detached::new(Body::from_stream(stream::iter(pieces)), false);
        let sending = tokio::spawn(async move {
            std::future::poll_fn(|cx| detached.poll_send(&mut server, cx)).await
        });
        let mut received = Vec::new();
        client.read_to_end(&mut received).await.unwrap();
        let expected = format!("D\r\ndata: small\n\n\r\nC00\r\n{large}\r\n0\r\n\r\n");
        assert_eq!(String::from_utf8(received).unwrap(), expected);
        assert!(matches!(sending.await.unwrap(), Ok(Ended::Complete { .. })));
    }

    /// An empty chunk written as such would be `0\r\n\r\n`, the last chunk: the client
    /// would take the response for complete and the rest for a garbled next response.
    #[tokio::test]
    async fn an_empty_piece_of_the_stream_is_not_taken_for_the_last_chunk() {
        let (mut server, mut client) = tokio::io::duplex(1024);
        let body = Body::from_stream(stream::iter(["", "data: one\n\n", ""]));
        let mut detached = Detached::new(body, false);
        let ended = std::future::poll_fn(|cx| detached.poll_send(&mut server, cx)).await;
        assert!(matches!(ended, Ok(Ended::Complete { .. })));
        drop(server);
        let mut received = String::new();
        client.read_to_string(&mut received).await.unwrap();
        assert_eq!(received, "B\r\ndata: one\n\n\r\n0\r\n\r\n");
    }

    #[tokio::test]
    async fn what_the_client_sends_meanwhile_is_kept_and_its_leaving_is_noticed() {
        let (mut server, mut client) = tokio::io::duplex(1024);
        let (ticks, events) = tokio::sync::mpsc::unbounded_channel::<&'static str>();
        let body = Body::from_stream(tokio_stream_from(events));
        let mut detached = Detached::new(body, false);
        let sending = tokio::spawn(async move {
            std::future::poll_fn(|cx| detached.poll_send(&mut server, cx)).await
        });
        client
            .write_all(b"GET /next HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        ticks.send("tick").unwrap();
        let mut buffer = [0u8; 64];
        let n = client.read(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"4\r\ntick\r\n");
        drop(ticks);
        let n = client.read(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"0\r\n\r\n");
        assert_eq!(
            sending.await.unwrap().unwrap(),
            Ended::Complete {
                received: Bytes::from_static(b"GET /next HTTP/1.1\r\n\r\n")
            }
        );

        let (mut server, client) = tokio::io::duplex(1024);
        let mut detached = Detached::new(Body::from_stream(stream::pending::<Bytes>()), false);
        drop(client);
        let ended = std::future::poll_fn(|cx| detached.poll_send(&mut server, cx)).await;
        assert_eq!(ended.unwrap(), Ended::ClientLeft);
    }

    fn tokio_stream_from(
        mut receiver: tokio::sync::mpsc::UnboundedReceiver<&'static str>,
    ) -> impl Stream<Item = &'static str> {
        stream::poll_fn(move |cx| receiver.poll_recv(cx))
    }
}
