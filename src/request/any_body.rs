//! Request bodies across the tower door: any `http_body::Body` a layer or another framework
//! hands the application becomes a [`RequestBody`].

use std::any::Any;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use sync_wrapper::SyncWrapper;

use crate::error::BoxError;
use crate::request::{BodyPace, RequestBody};

/// Turns any request body into a [`RequestBody`] held to `pace` (the body-read timeout and
/// the minimum data rate): one the application made already is kept (with that pace, or
/// its own when `pace` is `None`), hyper's `Incoming` is kept unboxed, anything else is
/// boxed once (with no pace of its own when `pace` is `None`).
///
/// The tower layers get their `RequestBody` with the application's pace (a layer may read
/// the body itself). The application's core sets the pace again, or, when a layer wrapped
/// the body (tower-http's `Limited`), holds the wrapper to it, and the body inside then
/// leaves the timing to the wrapper: either way the handler's `set_body_read_timeout`
/// governs the one timer that counts.
///
/// The body need not be `Sync` (axum's body is not, nor is tower-http's `Limited` around
/// one), while `HttpRequest` must stay `Sync` so that handlers may hold `&req` across an
/// `.await`: such a body is wrapped in [`SyncBody`].
pub(crate) fn request_body<B>(body: B, pace: Option<BodyPace>) -> RequestBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    // The type checks are on `TypeId`s known at compile time: they cost nothing.
    let mut slot = Some(body);
    let any = &mut slot as &mut dyn Any;
    if let Some(body) = any.downcast_mut::<Option<RequestBody>>() {
        let mut body = body.take().unwrap_or_default();
        if let Some(pace) = pace {
            body.set_pace(pace);
        }
        return body;
    }
    if let Some(body) = any.downcast_mut::<Option<hyper::body::Incoming>>() {
        return body
            .take()
            .map(|body| RequestBody::new(body, pace))
            .unwrap_or_default();
    }
    slot.map(|body| RequestBody::new(SyncBody::new(body), pace))
        .unwrap_or_default()
}

pin_project_lite::pin_project! {
    /// A `Send` body made `Sync`: [`SyncWrapper`] gives access only through `&mut`, so the
    /// `&self` methods of `http_body::Body` answer from what the last poll saw.
    struct SyncBody<B> {
        #[pin]
        body: SyncWrapper<B>,
        size_hint: SizeHint,
        is_end_stream: bool,
    }
}

impl<B: Body> SyncBody<B> {
    fn new(body: B) -> Self {
        Self {
            size_hint: body.size_hint(),
            is_end_stream: body.is_end_stream(),
            body: SyncWrapper::new(body),
        }
    }
}

impl<B> Body for SyncBody<B>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let mut body = this.body.get_pin_mut();
        let polled = body.as_mut().poll_frame(cx);
        if polled.is_ready() {
            let body = body.as_ref().get_ref();
            *this.size_hint = body.size_hint();
            *this.is_end_stream = matches!(polled, Poll::Ready(None)) || body.is_end_stream();
        }
        polled.map(|frame| frame.map(|result| result.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.is_end_stream
    }

    fn size_hint(&self) -> SizeHint {
        self.size_hint
    }
}
