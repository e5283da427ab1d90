//! Server-sent events: the [`Event`] builder, [`KeepAlive`], and [`EventStream`], which
//! turns any stream of events into a `text/event-stream` response.
//!
//! ```
//! use std::time::Duration;
//! use bareasgi::HttpRequest;
//! use bareasgi::sse::{Event, EventStream, KeepAlive};
//! use futures_util::stream::{self, StreamExt};
//!
//! async fn events(req: HttpRequest) -> EventStream {
//!     // Resume after the last event the browser saw, if it is reconnecting.
//!     let start: u64 = req.last_event_id().and_then(|id| id.parse::<u64>().ok()).map_or(0, |id| id + 1);
//!     let events = stream::iter(start..).then(|n| async move {
//!         tokio::time::sleep(Duration::from_secs(1)).await;
//!         Event::data(format!("tick {n}")).event("tick").id(n)
//!     });
//!     EventStream::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
//! }
//! ```
//!
//! What it gets right:
//! - Every event is one body frame, sent the moment it is yielded; no "nudge" comments.
//! - `data` with several lines becomes one `data:` line per line, where `\n`, `\r` and
//!   `\r\n` each count as one line break, so the browser sees exactly the text given.
//! - A line break or NUL in an event name, id or comment would inject fields into the
//!   stream, so it can never reach the wire: [`Event::event`], [`Event::id`] and
//!   [`Event::comment`] (for values written in code) panic on one, and their `try_`
//!   variants (for values from outside) return an error.
//! - The response carries `cache-control: no-cache` and `x-accel-buffering: no`, so nginx
//!   passes events through instead of buffering them. Behind HAProxy, set
//!   `option http-no-delay` (in the backend or the frontend): without it HAProxy forwards
//!   with `MSG_MORE`, and the kernel holds each small event back for about 200 ms waiting
//!   for more; HAProxy does not read `x-accel-buffering`. Compression must never be applied to
//!   `text/event-stream` (it batches events); this crate has no compression, and a
//!   compression middleware must skip this content type.
//! - A keep-alive comment is sent once no event was sent for an interval (15 s by
//!   default; within an eighth of it, never later: the streams share one timer, see
//!   [`KeepAlive`]); besides keeping proxies from timing out, the write finds clients that
//!   went away without closing, and the stream is dropped.
//! - On graceful shutdown an event stream ends cleanly once it has nothing ready, so the
//!   server does not wait for it; browsers reconnect (to another instance) by themselves.

mod event;
mod keep_alive;

pub use event::{Event, InvalidField};
pub use keep_alive::KeepAlive;

use keep_alive::Beat;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};

use crate::body::Body;
use crate::error::BoxError;
use crate::response::{HttpResponse, IntoResponse};

/// An item of an event stream: an [`Event`], a [`hub::Event`](crate::hub::Event), or a
/// `Result` of one (an `Err` ends the response abruptly, and is logged).
pub trait IntoEvent {
    /// The event, or why the stream failed.
    ///
    /// # Errors
    /// The stream's own error.
    fn into_event(self) -> Result<Event, BoxError>;

    /// The event's bytes on the wire. An item sent to many streams at once overrides this
    /// to hand every stream one shared encoding instead of encoding it for each.
    ///
    /// # Errors
    /// The stream's own error.
    fn into_frame(self) -> Result<Bytes, BoxError>
    where
        Self: Sized,
    {
        self.into_event().map(|event| event.encode())
    }
}

impl IntoEvent for Event {
    fn into_event(self) -> Result<Event, BoxError> {
        Ok(self)
    }
}

impl<T: IntoEvent, E: Into<BoxError>> IntoEvent for Result<T, E> {
    fn into_event(self) -> Result<Event, BoxError> {
        self.map_err(Into::into)?.into_event()
    }

    fn into_frame(self) -> Result<Bytes, BoxError> {
        self.map_err(Into::into)?.into_frame()
    }
}

type EventItems = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// A `text/event-stream` response made from a stream of events; return it from a handler.
///
/// Keep-alive is on (after 15 s of silence) unless turned off with
/// [`without_keep_alive`](Self::without_keep_alive).
pub struct EventStream {
    events: EventItems,
    keep_alive: Option<KeepAlive>,
}

impl EventStream {
    /// An event stream from any `Stream` of [`Event`]s or `Result<Event, E>`s.
    pub fn new<S>(events: S) -> Self
    where
        S: Stream + Send + 'static,
        S::Item: IntoEvent,
    {
        use futures_util::StreamExt;
        Self {
            events: Box::pin(events.map(IntoEvent::into_frame)),
            keep_alive: Some(KeepAlive::new()),
        }
    }

    /// Sets the keep-alive policy.
    #[must_use]
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.keep_alive = Some(keep_alive);
        self
    }

    /// Sends no keep-alive comments.
    #[must_use]
    pub fn without_keep_alive(mut self) -> Self {
        self.keep_alive = None;
        self
    }

    /// The response headers every event stream carries.
    #[must_use]
    pub fn headers() -> HeaderMap {
        let mut headers = crate::response::header_map(3);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        headers
    }
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("keep_alive", &self.keep_alive)
            .finish_non_exhaustive()
    }
}

impl IntoResponse for EventStream {
    fn into_response(self) -> HttpResponse {
        let frames = Frames {
            events: self.events,
            beat: self.keep_alive.map(Beat::new),
            _open: open_stream(),
        };
        HttpResponse {
            status: StatusCode::OK,
            headers: EventStream::headers(),
            body: Body::try_from_stream(frames).end_on_shutdown().long_lived(),
        }
    }
}

pin_project_lite::pin_project! {
    /// Encoded events, with keep-alive comments in the silences.
    struct Frames {
        events: EventItems,
        #[pin]
        beat: Option<Beat>,
        // Counts the stream as open for as long as the body lives.
        _open: OpenStream,
    }
}

// pin-project-lite takes no `cfg` on a field: the field is there, empty without metrics.
#[cfg(feature = "metrics")]
type OpenStream = Option<crate::telemetry::Open>;
#[cfg(not(feature = "metrics"))]
type OpenStream = ();

#[cfg(feature = "metrics")]
fn open_stream() -> OpenStream {
    crate::telemetry::Open::event_stream()
}
#[cfg(not(feature = "metrics"))]
fn open_stream() -> OpenStream {}

impl Stream for Frames {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.poll_frame(cx);
        #[cfg(feature = "metrics")]
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            crate::telemetry::event_stream_sent(frame.len());
        }
        polled
    }
}

impl Frames {
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, BoxError>>> {
        let this = self.project();
        match this.events.as_mut().poll_next(cx) {
            Poll::Ready(Some(event)) => {
                if let Some(beat) = this.beat.as_pin_mut() {
                    beat.sent();
                }
                return Poll::Ready(Some(event));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        match this.beat.as_pin_mut().map(|beat| beat.poll_due(cx)) {
            Some(Poll::Ready(comment)) => Poll::Ready(Some(Ok(comment))),
            _ => Poll::Pending,
        }
    }
}
