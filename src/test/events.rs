//! [`Events`]: a response body read as server-sent events, one by one as they arrive.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{EventStream, Eventsource};
use futures_core::Stream;
use http_body_util::BodyDataStream;
use http_body_util::combinators::UnsyncBoxBody;

use super::failure::fail_at;
use crate::error::BoxError;

/// One server-sent event as a client receives it (parsed as browsers do, with the
/// `eventsource-stream` crate): `data:` lines joined with `\n`, comments skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerEvent {
    /// The event type: the `event:` field, or `"message"` without one.
    pub event: String,
    /// The data, its lines joined with `\n`.
    pub data: String,
    /// The last event id the stream set (the `id:` field of this event or an earlier one).
    pub id: String,
    /// The reconnection time the event set (`retry:`), if it set one.
    pub retry: Option<Duration>,
}

type BodyStream = BodyDataStream<UnsyncBoxBody<Bytes, BoxError>>;

/// The events of a [`TestResponse`](super::TestResponse), from
/// [`events`](super::TestResponse::events): call [`next`](Self::next), or use it as a
/// `Stream` of [`ServerEvent`]s. Each event is yielded as soon as its blank line has
/// arrived, so an endless stream can be read event by event:
///
/// ```
/// # use bareasgi::test::TestClient;
/// # use bareasgi::{Application, HttpRequest};
/// # use bareasgi::sse::{Event, EventStream};
/// # use futures_util::stream::{self, StreamExt};
/// # async fn ticks(_req: HttpRequest) -> EventStream {
/// #     EventStream::new(stream::iter(0u64..).then(|n| async move {
/// #         tokio::time::sleep(std::time::Duration::from_millis(10)).await;
/// #         Event::data(format!("tick {n}"))
/// #     }))
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # let mut app = Application::new();
/// # app.http_router.add(["GET"], "/ticks", ticks);
/// let client = TestClient::new(app);
/// let mut events = client.get("/ticks").await.events();
/// assert_eq!(events.next().await.unwrap().data, "tick 0");
/// assert_eq!(events.next().await.unwrap().data, "tick 1");
/// // Dropping `events` closes the connection; the server drops the stream.
/// # }
/// ```
///
/// A body that breaks off, or that is not UTF-8 or not an event stream, panics with what
/// happened; the end of the body ends the events.
pub struct Events {
    inner: EventStream<BodyStream>,
}

impl Events {
    pub(crate) fn new(body: UnsyncBoxBody<Bytes, BoxError>) -> Self {
        Self {
            inner: BodyDataStream::new(body).eventsource(),
        }
    }

    /// The next event, once it has arrived; `None` when the body has ended.
    ///
    /// # Panics
    /// When the body breaks off or is not an event stream; the panic names the test's line.
    // A future, as `StreamExt::next` returns (clippy takes a plain fn named `next` for an
    // iterator's); not an `async fn`, so that a failure can name the test's line.
    #[allow(clippy::should_implement_trait)]
    #[track_caller]
    pub fn next(&mut self) -> impl Future<Output = Option<ServerEvent>> + '_ {
        let caller = Location::caller();
        async move {
            match std::future::poll_fn(|cx| self.poll_event(cx)).await {
                Some(Ok(event)) => Some(event),
                Some(Err(problem)) => fail_at(caller, problem),
                None => None,
            }
        }
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ServerEvent, String>>> {
        Poll::Ready(
            std::task::ready!(Pin::new(&mut self.inner).poll_next(cx)).map(|event| {
                event
                    .map(|event| ServerEvent {
                        event: event.event,
                        data: event.data,
                        id: event.id,
                        retry: event.retry,
                    })
                    .map_err(|error| format!("the event stream broke off: {error}"))
            }),
        )
    }
}

impl Stream for Events {
    type Item = ServerEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ServerEvent>> {
        // Read as a `Stream` (by combinators) there is no test line to name.
        match std::task::ready!(self.poll_event(cx)) {
            Some(Ok(event)) => Poll::Ready(Some(event)),
            Some(Err(problem)) => panic!("{problem}"),
            None => Poll::Ready(None),
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}
