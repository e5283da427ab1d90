//! [`Body`]: what a response sends — nothing, a buffer, any stream of chunks, or any
//! [`http_body::Body`] (what a tower service answers with).
//!
//! Every chunk a stream yields is handed to the connection at once and flushed: there is no
//! buffering between the handler and the socket, so a server-sent event or a long-poll
//! answer reaches the client the moment it is produced.
//!
//! ```
//! use std::time::Duration;
//! use bareasgi::{Body, HttpRequest, IntoResponse};
//! use futures_util::stream;
//!
//! async fn countdown(_req: HttpRequest) -> impl IntoResponse {
//!     let ticks = stream::unfold(3, |n| async move {
//!         if n == 0 {
//!             return None;
//!         }
//!         tokio::time::sleep(Duration::from_millis(10)).await;
//!         Some((format!("{n}\n"), n - 1))
//!     });
//!     (200, [("content-type", "text/plain")], Body::from_stream(ticks))
//! }
//! ```

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use http_body::{Frame, SizeHint};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::error::BoxError;
use crate::lazy_poll::LazyPoll;
use in_flight::InFlight;

pub(crate) mod in_flight;
mod source;
use source::{Chunks, Frames, Source};

/// A streamed body's source behind one thin-enough pointer, whichever kind it is, so that
/// a `Body` stays 40 bytes (hyper moves responses around).
type BoxSource = Pin<Box<dyn Source>>;

/// A response body: empty, a single buffer (sent with `content-length`), or a stream of
/// chunks (sent chunked over HTTP/1.1 and as DATA frames over HTTP/2; with a
/// `content-length` when an [`http_body::Body`] knows its exact size).
pub struct Body {
    kind: Kind,
}

enum Kind {
    Empty,
    Full(Bytes),
    Stream(StreamBody),
    /// Handed to the connection, which sends it itself (see `server::handoff`); hyper
    /// only waits.
    Detached,
}

struct StreamBody {
    source: BoxSource,
    /// Whether the source is an `http_body::Body` (frames, trailers, a size hint) rather
    /// than a stream of chunks; kept here so that choosing the path costs no virtual call.
    frames: bool,
    ends_on_shutdown: bool,
    /// Open for long (an event stream): over HTTP/1.1 it may leave hyper.
    long_lived: bool,
    /// Set by the server when this body is to leave hyper on its first poll.
    detach: bool,
    /// Set by the server when the body is sent, for streams that end on shutdown.
    shutdown: Option<Pin<Box<Shutdown>>>,
    /// Keeps the connection's request open (no header-read timeout) while it streams.
    _in_flight: Option<InFlight>,
}

pin_project_lite::pin_project! {
    /// The server's shutdown, as a stream that ends on it watches it: polled again only once
    /// it has woken the task, not each time the stream has nothing ready (once per event).
    struct Shutdown {
        #[pin]
        signal: WaitForCancellationFutureOwned,
        lazy: LazyPoll,
    }
}

impl Shutdown {
    fn poll_fired(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let mut signal = this.signal;
        this.lazy.poll(cx, |cx| signal.as_mut().poll(cx))
    }
}

impl Body {
    /// A body with no bytes.
    #[must_use]
    pub fn empty() -> Self {
        Self { kind: Kind::Empty }
    }

    /// A body sent as one buffer, with a `content-length` header.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Self::empty()
        } else {
            Self {
                kind: Kind::Full(bytes),
            }
        }
    }

    /// A body streamed from `stream`: each item is sent as soon as it is yielded.
    ///
    /// Items may be anything that converts into [`Bytes`]: `Bytes`, `String`, `Vec<u8>`,
    /// `&'static str`. Empty items are skipped (they would otherwise end a chunked body).
    /// When the client goes away the stream is dropped, which releases whatever it holds.
    pub fn from_stream<S>(stream: S) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: Into<Bytes>,
    {
        Self::from_source(
            Box::pin(Chunks {
                stream: stream.map(|chunk| Ok(chunk.into())),
            }),
            false,
        )
    }

    /// A body streamed from a stream of results. An `Err` item ends the response abruptly:
    /// the connection is closed, so the client sees a truncated body rather than a
    /// complete one.
    pub fn try_from_stream<S, T, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Into<Bytes>,
        E: Into<BoxError>,
    {
        Self::from_source(
            Box::pin(Chunks {
                stream: stream.map(|item| item.map(Into::into).map_err(Into::into)),
            }),
            false,
        )
    }

    /// A body that sends what any [`http_body::Body`] produces, frame by frame, as soon as
    /// it is produced: a tower service's response body (tower-http's `ServeDir`,
    /// `CompressionLayer`), an `http_body_util::Full`, another framework's body. Its exact
    /// size, when it knows it, is kept (and sent as `content-length`), and so are trailers.
    /// A `Body` given here is returned as it is.
    pub fn from_http_body<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let mut slot = Some(body);
        if let Some(body) = (&mut slot as &mut dyn Any).downcast_mut::<Option<Self>>() {
            return body.take().unwrap_or_default();
        }
        match slot {
            Some(body) if !body.is_end_stream() => {
                Self::from_source(Box::pin(Frames { body }), true)
            }
            _ => Self::empty(),
        }
    }

    fn from_source(source: BoxSource, frames: bool) -> Self {
        Self {
            kind: Kind::Stream(StreamBody {
                source,
                frames,
                ends_on_shutdown: false,
                long_lived: false,
                detach: false,
                shutdown: None,
                _in_flight: None,
            }),
        }
    }

    /// Marks a streamed body as one that may end early, cleanly, when the server shuts down
    /// (an event stream or a long poll, whose clients reconnect). Without it a stream keeps
    /// the server draining until the shutdown timeout and is then cut off.
    #[must_use]
    pub fn end_on_shutdown(mut self) -> Self {
        if let Kind::Stream(stream) = &mut self.kind {
            stream.ends_on_shutdown = true;
        }
        self
    }

    /// Marks a streamed body as one that stays open for long with little to send (an event
    /// stream), so that an HTTP/1.1 connection sends it without hyper's buffers.
    #[must_use]
    pub(crate) fn long_lived(mut self) -> Self {
        if let Kind::Stream(stream) = &mut self.kind {
            stream.long_lived = true;
        }
        self
    }

    pub(crate) fn is_long_lived(&self) -> bool {
        matches!(&self.kind, Kind::Stream(stream) if stream.long_lived)
    }

    /// Whether this body is a stream (as opposed to empty or a single buffer).
    #[must_use]
    pub fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Stream(_))
    }

    /// The length of the body when it is known up front.
    #[must_use]
    pub fn exact_len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Empty => Some(0),
            Kind::Full(bytes) => Some(bytes.len() as u64),
            Kind::Stream(stream) if stream.frames => stream.source.size_hint().exact(),
            Kind::Stream(_) | Kind::Detached => None,
        }
    }

    /// Readies a body for sending: a stream that ends on shutdown watches `token`, and a
    /// stream keeps its request open until it is done (or dropped).
    /// With `detach`, it leaves hyper on its first poll (see `server::handoff`).
    pub(crate) fn prepare_to_send(
        &mut self,
        token: &CancellationToken,
        in_flight: Option<InFlight>,
        detach: bool,
    ) {
        if let Kind::Stream(stream) = &mut self.kind {
            if stream.ends_on_shutdown {
                stream.shutdown = Some(Box::pin(Shutdown {
                    signal: token.clone().cancelled_owned(),
                    lazy: LazyPoll::default(),
                }));
            }
            // The connection writes chunks only: an `http_body::Body`'s trailers stay with hyper.
            stream.detach = detach && !stream.frames && in_flight.is_some();
            stream._in_flight = in_flight;
        }
    }

    /// Keeps the connection's request open while a streamed body is sent: for a body that
    /// came out of tower layers, which [`prepare_to_send`](Self::prepare_to_send) readied
    /// before the layers wrapped it. With `detach`, as in `prepare_to_send`.
    pub(crate) fn hold_open(&mut self, in_flight: Option<InFlight>, detach: bool) {
        if let Kind::Stream(stream) = &mut self.kind {
            stream.detach = detach && !stream.frames && in_flight.is_some();
            stream._in_flight = in_flight;
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Empty => f.write_str("Body::Empty"),
            Kind::Full(bytes) => f.debug_tuple("Body::Full").field(&bytes.len()).finish(),
            Kind::Stream(stream) => f
                .debug_struct("Body::Stream")
                .field("ends_on_shutdown", &stream.ends_on_shutdown)
                .finish_non_exhaustive(),
            Kind::Detached => f.write_str("Body::Detached"),
        }
    }
}

impl From<()> for Body {
    fn from((): ()) -> Self {
        Self::empty()
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self::full(Bytes::from_static(text.as_bytes()))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::full(text)
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Self {
        Self::full(Bytes::from_static(bytes))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Self::full(bytes)
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self::full(bytes)
    }
}

/// bareASGI's `text_writer`: a body holding `text`.
pub fn text_writer(text: impl Into<String>) -> Body {
    Body::full(text.into())
}

/// bareASGI's `bytes_writer`: a body holding `bytes`.
pub fn bytes_writer(bytes: impl Into<Bytes>) -> Body {
    Body::full(bytes)
}

/// What a streamed body is polled for: a chunk of data (the `Stream` view, and the path a
/// `from_stream` body takes to the connection), or a frame (the `http_body` view of a
/// `from_http_body` body, trailers included). Two paths, so that the common one moves
/// 32-byte `Bytes` around rather than 100-byte `Frame`s.
trait Piece: Sized {
    fn poll_from(
        source: Pin<&mut dyn Source>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Self, BoxError>>>;
    fn from_data(data: Bytes) -> Self;
    fn is_empty_data(&self) -> bool;
}

impl Piece for Bytes {
    fn poll_from(
        source: Pin<&mut dyn Source>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Self, BoxError>>> {
        source.poll_data(cx)
    }

    fn from_data(data: Bytes) -> Self {
        data
    }

    fn is_empty_data(&self) -> bool {
        self.is_empty()
    }
}

impl Piece for Frame<Bytes> {
    fn poll_from(
        source: Pin<&mut dyn Source>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Self, BoxError>>> {
        source.poll_frame(cx)
    }

    fn from_data(data: Bytes) -> Self {
        Frame::data(data)
    }

    fn is_empty_data(&self) -> bool {
        self.data_ref().is_some_and(Bytes::is_empty)
    }
}

impl StreamBody {
    fn poll_piece<P: Piece>(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<P, BoxError>>> {
        loop {
            // A panicking stream must not take the connection task (and its other requests)
            // down with it: the panic ends this body as an error, which closes the connection.
            let polled = catch_unwind(AssertUnwindSafe(|| P::poll_from(self.source.as_mut(), cx)));
            match polled {
                Ok(Poll::Ready(Some(Ok(piece)))) if piece.is_empty_data() => {}
                Ok(Poll::Ready(Some(Ok(piece)))) => return Poll::Ready(Some(Ok(piece))),
                Ok(Poll::Ready(Some(Err(error)))) => {
                    tracing::error!(%error, "response body stream failed; closing the connection");
                    return Poll::Ready(Some(Err(error)));
                }
                Ok(Poll::Ready(None)) => return Poll::Ready(None),
                Ok(Poll::Pending) => {
                    // Only a stream with nothing ready is ended by shutdown, so everything it
                    // had already produced is still delivered.
                    if let Some(shutdown) = &mut self.shutdown {
                        ready!(shutdown.as_mut().poll_fired(cx));
                        tracing::debug!("ending a streamed response for shutdown");
                        return Poll::Ready(None);
                    }
                    return Poll::Pending;
                }
                Err(panic) => {
                    let message = crate::panic_message(&*panic);
                    tracing::error!(panic = %message, "response body stream panicked; closing the connection");
                    #[cfg(feature = "metrics")]
                    crate::telemetry::panicked("body");
                    return Poll::Ready(Some(Err(
                        format!("body stream panicked: {message}").into()
                    )));
                }
            }
        }
    }
}

impl Body {
    fn poll_piece<P: Piece>(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<P, BoxError>>> {
        let polled = match &mut self.kind {
            Kind::Stream(stream) if stream.detach => {
                // The connection takes it from here, in this same poll of its task.
                let Kind::Stream(mut stream) = std::mem::replace(&mut self.kind, Kind::Detached)
                else {
                    unreachable!("matched Kind::Stream above")
                };
                stream.detach = false;
                let activity = stream
                    ._in_flight
                    .as_ref()
                    .map(|in_flight| in_flight.activity().clone())
                    .expect("only a body with a connection is detached");
                activity.handoff.offer(Body {
                    kind: Kind::Stream(stream),
                });
                return Poll::Pending;
            }
            Kind::Detached => return Poll::Pending,
            Kind::Empty => return Poll::Ready(None),
            Kind::Full(_) => match std::mem::replace(&mut self.kind, Kind::Empty) {
                Kind::Full(bytes) => return Poll::Ready(Some(Ok(P::from_data(bytes)))),
                _ => unreachable!("matched Kind::Full above"),
            },
            Kind::Stream(stream) => ready!(stream.poll_piece(cx)),
        };
        if !matches!(polled, Some(Ok(_))) {
            // Ended or failed: drop the stream now, so what it holds is released at once.
            self.kind = Kind::Empty;
        }
        Poll::Ready(polled)
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match &this.kind {
            Kind::Stream(StreamBody { frames: true, .. }) => return this.poll_piece(cx),
            // The buffered bodies, most responses, answered here rather than through the
            // stream path and a conversion of what it returns.
            Kind::Empty => return Poll::Ready(None),
            Kind::Full(_) => {
                let Kind::Full(bytes) = std::mem::replace(&mut this.kind, Kind::Empty) else {
                    unreachable!("matched Kind::Full above")
                };
                return Poll::Ready(Some(Ok(Frame::data(bytes))));
            }
            Kind::Stream(_) | Kind::Detached => {}
        }
        this.poll_piece::<Bytes>(cx)
            .map(|chunk| chunk.map(|result| result.map(Frame::data)))
    }

    // hyper asks after every frame: a chunk stream answers without a virtual call.
    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Stream(stream) => stream.frames && stream.source.is_end_stream(),
            Kind::Full(_) | Kind::Detached => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact_len() {
            Some(len) => SizeHint::with_exact(len),
            None => match &self.kind {
                Kind::Stream(stream) if stream.frames => stream.source.size_hint(),
                _ => SizeHint::default(),
            },
        }
    }
}

/// A body is also a stream of its chunks, so a middleware can wrap it:
/// `Body::try_from_stream(body.map_ok(...))`.
impl Stream for Body {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_piece(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.kind {
            Kind::Empty => (0, Some(0)),
            Kind::Full(_) => (1, Some(1)),
            Kind::Stream(stream) => stream.source.chunk_hint(),
            Kind::Detached => (0, None),
        }
    }
}
