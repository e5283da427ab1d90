//! One connection: tell HTTP/1.1 from HTTP/2 by its first bytes (or take the protocol TLS
//! negotiated), then let hyper serve it until it closes or the server shuts down.
//!
//! Telling the protocols apart here, rather than with hyper-util's auto builder, does two
//! things. The wait for the first bytes is bounded by the header-read timeout (the auto
//! builder waits forever for a client that connects and sends nothing, so such clients
//! could hold connections open indefinitely). And an HTTP/1.1 connection's task holds only
//! hyper's HTTP/1.1 state, not room for HTTP/2's as well: a few KiB less per idle
//! connection.

use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::activity::{Activity, InFlight};
use super::signal::LazySignal;
use crate::app::Limits;
use crate::service::AppService;

/// How a client using HTTP/2 without TLS must start (RFC 9113, section 3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol settings every connection is served with.
pub(super) struct Protocols {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    pub(super) header_read_timeout: Option<Duration>,
}

impl Protocols {
    pub(super) fn new(limits: &Limits) -> Self {
        let mut http1 = http1::Builder::new();
        // The header-read timeout is kept by `drive` (see `activity`), not by hyper.
        http1
            .header_read_timeout(None)
            .max_header_size(limits.max_header_size)
            .keep_alive(true);
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(limits.max_header_size).unwrap_or(u32::MAX));
        Self {
            http1,
            http2,
            header_read_timeout: limits.header_read_timeout,
        }
    }
}

/// Which protocol a connection speaks, when something before hyper already knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "tls"), allow(dead_code))] // only ALPN knows the protocol first
pub(super) enum Protocol {
    Http1,
    Http2,
    /// Not negotiated (cleartext, or TLS without ALPN): told by the first bytes.
    Sniff,
}

/// Serves one accepted cleartext connection to the end.
pub(super) async fn serve(
    protocols: Arc<Protocols>,
    stream: TcpStream,
    service: AppService,
    graceful: CancellationToken,
    hard_stop: CancellationToken,
    _slot: Option<OwnedSemaphorePermit>,
) {
    set_nodelay(&stream);
    serve_io(
        &protocols,
        stream,
        Protocol::Sniff,
        service,
        &graceful,
        &hard_stop,
    )
    .await;
}

/// So that a small chunk (an event) is not held back waiting for the previous one's ACK.
pub(super) fn set_nodelay(stream: &TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
}

/// Serves a connection over any transport (a TCP socket, a TLS stream) to the end, with
/// `protocol` if it is already known, otherwise the one its first bytes show.
pub(super) async fn serve_io<I>(
    protocols: &Protocols,
    mut stream: I,
    protocol: Protocol,
    service: AppService,
    graceful: &CancellationToken,
    hard_stop: &CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (is_http2, prefix) = match protocol {
        Protocol::Http1 => (false, Prefix::EMPTY),
        Protocol::Http2 => (true, Prefix::EMPTY),
        Protocol::Sniff => {
            let sniffed = tokio::select! {
                biased;
                () = graceful.cancelled() => return,
                sniffed = within(protocols.header_read_timeout, sniff(&mut stream)) => sniffed,
            };
            match sniffed {
                Some(Ok(Some(sniffed))) => sniffed,
                Some(Ok(None)) => return, // closed before sending anything
                Some(Err(error)) => {
                    tracing::debug!(%error, "connection failed before its first request");
                    return;
                }
                None => {
                    tracing::debug!(
                        "no request within the header-read timeout; closing the connection"
                    );
                    return;
                }
            }
        }
    };
    let io = TokioIo::new(Sniffed { prefix, stream });
    let result = if is_http2 {
        // Boxed: the rarer protocol does not make every connection's task bigger.
        let mut connection = Box::pin(protocols.http2.serve_connection(io, service));
        drive(connection.as_mut(), graceful, hard_stop, None).await
    } else {
        let activity = Arc::new(Activity::default());
        let service = Http1Service {
            app: service,
            activity: activity.clone(),
        };
        let connection = pin!(
            protocols
                .http1
                .serve_connection(io, service)
                .with_upgrades()
        );
        let head_timeout = protocols.header_read_timeout.map(|limit| (limit, activity));
        drive(connection, graceful, hard_stop, head_timeout).await
    };
    if let Err(error) = result {
        tracing::debug!(%error, "connection closed with an error");
    }
}

pub(super) async fn within<F: Future>(limit: Option<Duration>, future: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

/// Reads until the first bytes are, or cannot be, the HTTP/2 preface: `(is_http2, bytes
/// read)`, or `None` when the client closed first.
async fn sniff<I: AsyncRead + Unpin>(stream: &mut I) -> io::Result<Option<(bool, Prefix)>> {
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

/// Drives a connection, starting its graceful shutdown when `graceful` fires, dropping it
/// when `hard_stop` does, and closing it when `head_timeout` finds it quiet (see
/// `activity`).
async fn drive<C: GracefulShutdown>(
    mut connection: Pin<&mut C>,
    graceful: &CancellationToken,
    hard_stop: &CancellationToken,
    head_timeout: Option<(Duration, Arc<Activity>)>,
) -> Result<(), hyper::Error> {
    let graceful = pin!(graceful.cancelled());
    let mut graceful = LazySignal::new(graceful);
    let hard_stop = pin!(hard_stop.cancelled());
    let mut hard_stop = LazySignal::new(hard_stop);
    let mut draining = false;
    // Only HTTP/1.1 connections have a head timeout; the timer exists only for them.
    let timer = pin!(
        head_timeout
            .as_ref()
            .map(|(limit, _)| tokio::time::sleep(*limit))
    );
    let mut quiet = timer
        .as_pin_mut()
        .zip(head_timeout)
        .map(|(timer, (limit, activity))| {
            let snapshot = activity.quiet_since();
            (LazySignal::new(timer), limit, activity, snapshot)
        });
    std::future::poll_fn(|cx| {
        if !draining && graceful.fired(cx) {
            draining = true;
            connection.as_mut().start_graceful_shutdown();
        }
        if draining && hard_stop.fired(cx) {
            return Poll::Ready(Ok(()));
        }
        if let Poll::Ready(result) = connection.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        if let Some((timer, limit, activity, snapshot)) = &mut quiet
            && timer.fired(cx)
        {
            let now = activity.quiet_since();
            if now.is_some() && now == *snapshot {
                tracing::debug!(timeout = ?limit, "no request head within the header-read timeout; closing");
                return Poll::Ready(Ok(()));
            }
            *snapshot = now;
            timer.signal_mut().reset(tokio::time::Instant::now() + *limit);
            timer.poll_now(cx);
        }
        Poll::Pending
    })
    .await
}

/// The application as an HTTP/1.1 connection's service: each request is counted in the
/// connection's [`Activity`].
#[derive(Clone)]
struct Http1Service {
    app: AppService,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for Http1Service {
    type Response = hyper::Response<crate::Body>;
    type Error = std::convert::Infallible;
    type Future = crate::ResponseFuture;

    fn call(&self, request: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        self.app
            .respond(request, Some(InFlight::start(&self.activity)))
    }
}

/// A hyper connection that can be asked to finish gracefully: HTTP/1.1 closes after the
/// response in flight, HTTP/2 sends GOAWAY and finishes its open streams.
trait GracefulShutdown: Future<Output = Result<(), hyper::Error>> {
    fn start_graceful_shutdown(self: Pin<&mut Self>);
}

impl<I> GracefulShutdown for http1::UpgradeableConnection<TokioIo<Sniffed<I>>, Http1Service>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn start_graceful_shutdown(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I> GracefulShutdown for http2::Connection<TokioIo<Sniffed<I>>, AppService, TokioExecutor>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn start_graceful_shutdown(self: Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// The bytes read while sniffing, handed to hyper before the rest of the stream.
struct Prefix {
    bytes: [u8; PREFACE.len()],
    start: usize,
    end: usize,
}

impl Prefix {
    const EMPTY: Self = Self {
        bytes: [0; PREFACE.len()],
        start: 0,
        end: 0,
    };
}

/// The transport, with the sniffed bytes (if any) put back in front.
struct Sniffed<I> {
    prefix: Prefix,
    stream: I,
}

impl<I: AsyncRead + Unpin> AsyncRead for Sniffed<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let prefix = &mut self.prefix;
        if prefix.start < prefix.end {
            let count = (prefix.end - prefix.start).min(buf.remaining());
            buf.put_slice(&prefix.bytes[prefix.start..prefix.start + count]);
            prefix.start += count;
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
