//! [`Sniffed`]: a connection's transport with the bytes read before hyper put back in
//! front: those read to tell HTTP/2 from HTTP/1.1, and those a client sent while a
//! detached response was being written (see `handoff`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// How a client using HTTP/2 without TLS must start (RFC 9113, section 3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The bytes read while sniffing, handed to hyper before the rest of the stream.
pub(super) struct Prefix {
    bytes: [u8; PREFACE.len()],
    start: usize,
    end: usize,
}

impl Prefix {
    pub(super) const EMPTY: Self = Self {
        bytes: [0; PREFACE.len()],
        start: 0,
        end: 0,
    };
}

/// Reads until the first bytes are, or cannot be, the HTTP/2 preface: `(is_http2, bytes
/// read)`, or `None` when the client closed first.
pub(super) async fn sniff<I: AsyncRead + Unpin>(
    stream: &mut I,
) -> io::Result<Option<(bool, Prefix)>> {
    let mut prefix = Prefix::EMPTY;
    loop {
        let read = stream.read(&mut prefix.bytes[prefix.end..]).await?;
        if read == 0 {
            return Ok(None);
        }
        prefix.end += read;
        if prefix.bytes[..prefix.end] != PREFACE[..prefix.end] {
            return Ok(Some((false, prefix)));
        }
        if prefix.end == PREFACE.len() {
            return Ok(Some((true, prefix)));
        }
    }
}

/// The transport, with the bytes read before hyper put back in front.
pub(super) struct Sniffed<I> {
    rewound: Bytes,
    prefix: Prefix,
    stream: I,
}

impl<I> Sniffed<I> {
    pub(super) fn new(prefix: Prefix, stream: I) -> Self {
        Self {
            rewound: Bytes::new(),
            prefix,
            stream,
        }
    }

    /// Puts `read` and then `received` in front of what is read next, which may still
    /// begin with bytes put back earlier: hyper reads at most its buffer's room at once,
    /// so a long pipeline put back after one detached response may be read in part when
    /// the next one detaches. Those bytes come after `read` and `received` (both were
    /// read from the front of them).
    pub(super) fn rewind(&mut self, read: Bytes, received: Bytes) {
        let rest = std::mem::take(&mut self.rewound);
        self.rewound = match (read.is_empty(), received.is_empty(), rest.is_empty()) {
            (_, true, true) => read,
            (true, false, true) => received,
            (true, true, false) => rest,
            _ => [read, received, rest].concat().into(),
        };
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Sniffed<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.rewound.is_empty() {
            let count = self.rewound.len().min(buf.remaining());
            buf.put_slice(&self.rewound.split_to(count));
            return Poll::Ready(Ok(()));
        }
        let prefix = &mut self.prefix;
        if prefix.start < prefix.end {
            let count = (prefix.end - prefix.start).min(buf.remaining());
            buf.put_slice(&prefix.bytes[prefix.start..prefix.start + count]);
            prefix.start += count;
            // The rest of the request in the same read, if it is there: otherwise hyper
            // finds the head incomplete and grows its 8 KiB read buffer to 16 KiB (a
            // reserve of 8 KiB more) to read on. What the read cannot give now (nothing
            // yet, an error, the end) the next read gives.
            if buf.remaining() > 0 {
                let _ = Pin::new(&mut self.stream).poll_read(cx, buf);
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Sniffed<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn the_sniffed_bytes_come_with_the_rest_of_the_request_in_one_read() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client
            .write_all(b"GET /events HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let (is_http2, prefix) = sniff(&mut server).await.unwrap().unwrap();
        assert!(!is_http2);
        let mut sniffed = Sniffed::new(prefix, server);
        let mut buffer = [0u8; 256];
        let n = sniffed.read(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..n], b"GET /events HTTP/1.1\r\nhost: x\r\n\r\n");
    }

    #[tokio::test]
    async fn rewound_bytes_are_read_first_in_order() {
        let (mut client, server) = tokio::io::duplex(1024);
        client.write_all(b" and the socket").await.unwrap();
        let mut sniffed = Sniffed::new(Prefix::EMPTY, server);
        sniffed.rewind(
            Bytes::from_static(b"read ahead"),
            Bytes::from_static(b", received"),
        );
        let mut text = Vec::new();
        let mut buffer = [0u8; 8];
        while text.len() < b"read ahead, received and the socket".len() {
            let n = sniffed.read(&mut buffer).await.unwrap();
            text.extend_from_slice(&buffer[..n]);
        }
        assert_eq!(text, b"read ahead, received and the socket");
    }

    /// A second detached response may begin while bytes put back after the first are
    /// still unread: they must follow what the second put back, not be lost.
    #[tokio::test]
    async fn bytes_put_back_twice_keep_their_order() {
        let (mut client, server) = tokio::io::duplex(1024);
        client.write_all(b" socket").await.unwrap();
        let mut sniffed = Sniffed::new(Prefix::EMPTY, server);
        sniffed.rewind(Bytes::from_static(b"abcdef"), Bytes::from_static(b"ghij"));
        let mut buffer = [0u8; 3];
        sniffed.read_exact(&mut buffer).await.unwrap(); // hyper read "abc"
        sniffed.read_exact(&mut buffer[..2]).await.unwrap(); // the stream received "de"
        sniffed.rewind(Bytes::from_static(b"c"), Bytes::from_static(b"de"));
        let mut text = vec![0u8; b"cdefghij socket".len()];
        sniffed.read_exact(&mut text).await.unwrap();
        assert_eq!(text, b"cdefghij socket");
    }
}
