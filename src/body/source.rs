//! Where a streamed [`Body`](super::Body)'s pieces come from: [`Chunks`], any stream of
//! chunks (`Body::from_stream`), or [`Frames`], any `http_body::Body`
//! (`Body::from_http_body`), behind one [`Source`] trait so that a body holds either
//! behind one pointer.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use http_body::{Frame, SizeHint};

use crate::error::BoxError;

/// Where a streamed body's pieces come from: a stream of chunks (`from_stream`) or any
/// `http_body::Body` (`from_http_body`).
pub(super) trait Source: Send {
    fn poll_data(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, BoxError>>>;
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>>;
    fn size_hint(&self) -> SizeHint;
    fn is_end_stream(&self) -> bool;
    fn chunk_hint(&self) -> (usize, Option<usize>);
}

pin_project_lite::pin_project! {
    /// A stream of chunks: data only, length unknown.
    pub(super) struct Chunks<S> {
        #[pin]
        pub(super) stream: S,
    }
}

impl<S> Source for Chunks<S>
where
    S: Stream<Item = Result<Bytes, BoxError>> + Send,
{
    fn poll_data(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, BoxError>>> {
        self.project().stream.poll_next(cx)
    }

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.poll_data(cx)
            .map(|chunk| chunk.map(|result| result.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn chunk_hint(&self) -> (usize, Option<usize>) {
        (0, self.stream.size_hint().1)
    }
}

pin_project_lite::pin_project! {
    /// An `http_body::Body`: frames as it produces them, trailers included, with its size
    /// hint (so a known length is still sent as `content-length`).
    pub(super) struct Frames<B> {
        #[pin]
        pub(super) body: B,
    }
}

impl<B> Source for Frames<B>
where
    B: http_body::Body<Data = Bytes> + Send,
    B::Error: Into<BoxError>,
{
    fn poll_data(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, BoxError>>> {
        let mut body = self.project().body;
        loop {
            return match ready!(body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    Err(_trailers) => continue,
                },
                Some(Err(error)) => Poll::Ready(Some(Err(error.into()))),
                None => Poll::Ready(None),
            };
        }
    }

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.project()
            .body
            .poll_frame(cx)
            .map(|frame| frame.map(|result| result.map_err(Into::into)))
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn chunk_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
}
