//! [`RequestBody`]: the body of a request as a stream of chunks, bounded by the body-read
//! timeout and the minimum data rate; and [`BodyError`], why it could not be read.

use std::any::Any;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::pace::{BodyPace, MinDataRate, PaceWatch, TooSlow};

use bytes::Bytes;
use futures_core::Stream;
use http::StatusCode;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;

use crate::error::BoxError;
use crate::response::{HttpResponse, IntoResponse};

/// Why a request body could not be read. It is itself a response, so `?` in a handler
/// returning `Result<_, BodyError>` (or `Result<_, HttpError>`) answers correctly.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is larger than the limit: `413 Payload Too Large`.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read (a broken chunked encoding, a client that went away):
    /// `400 Bad Request`.
    Read(BoxError),
    /// The body is not UTF-8 text: `400 Bad Request`.
    InvalidUtf8,
    /// The body is not valid JSON for the expected type: `400 Bad Request`.
    Json(String),
    /// The `content-type` is not JSON: `415 Unsupported Media Type`.
    UnsupportedMediaType,
    /// The client sent no body data for the body-read timeout while the handler waited:
    /// `408 Request Timeout`. The request is over: its connection (HTTP/1.1) or stream
    /// (HTTP/2) is closed after the response.
    TimedOut {
        /// The body-read timeout.
        after: Duration,
    },
    /// The client sent the body more slowly than the minimum data rate
    /// ([`Application::min_body_data_rate`](crate::Application::min_body_data_rate)) while
    /// the handler waited: `408 Request Timeout`, and the request is over as for
    /// [`TimedOut`](Self::TimedOut).
    TooSlow {
        /// The minimum data rate.
        min_rate: MinDataRate,
    },
}

impl BodyError {
    /// The status this error answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TimedOut { .. } | Self::TooSlow { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Read(error) if is_length_limit(error) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Read(_) | Self::InvalidUtf8 | Self::Json(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "request body is larger than {limit} bytes"),
            Self::Read(error) if is_length_limit(error) => {
                f.write_str("request body is larger than the limit")
            }
            Self::Read(_) => f.write_str("failed to read the request body"),
            Self::InvalidUtf8 => f.write_str("request body is not valid UTF-8"),
            Self::Json(problem) => write!(f, "invalid JSON body: {problem}"),
            Self::UnsupportedMediaType => f.write_str("expected content-type application/json"),
            Self::TimedOut { after } => {
                write!(f, "the client sent no request body data for {after:?}")
            }
            Self::TooSlow { min_rate } => write!(
                f,
                "the client sent the request body slower than {} bytes per second",
                min_rate.bytes_per_second()
            ),
        }
    }
}

/// Whether a read failed on a length limit a tower layer set (tower-http's
/// `RequestBodyLimitLayer` wraps the body in `http_body_util::Limited`): that is a `413`
/// too, not a broken body.
fn is_length_limit(error: &BoxError) -> bool {
    error.is::<http_body_util::LengthLimitError>()
}

impl BodyError {
    /// The read failure a tower layer or mounted service failed with, when it failed on the
    /// request body (it timed out, or a limit layer cut it), so that it answers as a handler
    /// would (`408`, `413`) rather than `500`; any other error is given back.
    pub(crate) fn from_service_error(error: BoxError) -> Result<Self, BoxError> {
        match error.downcast::<BodyTimedOut>() {
            Ok(timed_out) => Ok(timed_out.into_body_error()),
            Err(error) if is_length_limit(&error) => Ok(Self::Read(error)),
            Err(error) => Err(error),
        }
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read(error) => Some(&**error),
            _ => None,
        }
    }
}

impl IntoResponse for BodyError {
    fn into_response(self) -> HttpResponse {
        match &self {
            Self::Read(error) => tracing::debug!(%error, "could not read the request body"),
            Self::TimedOut { after } => {
                tracing::debug!(timeout = ?after, "request body timed out; answering 408");
            }
            Self::TooSlow { min_rate } => tracing::debug!(
                bytes_per_second = min_rate.bytes_per_second(),
                "request body below the minimum data rate; answering 408"
            ),
            _ => {}
        }
        #[cfg(feature = "metrics")]
        self.count_limit();
        HttpResponse::text(self.status(), self.to_string())
    }
}

impl From<BodyError> for crate::HttpError {
    fn from(error: BodyError) -> Self {
        crate::HttpError::new(error.status(), error.to_string())
    }
}

/// A request body, read as a stream of chunks (`futures::Stream`) or as an
/// [`http_body::Body`].
///
/// Reading it is bounded by the body-read timeout and the minimum data rate: when the
/// client sends nothing for that long, or too little, while the body is awaited, the read
/// fails with [`BodyError::TimedOut`] or [`BodyError::TooSlow`] (as an `http_body::Body`,
/// with an error that converts to it), and keeps failing.
#[derive(Default)]
pub struct RequestBody {
    inner: BodyInner,
    pace: PaceWatch,
}

#[derive(Default)]
enum BodyInner {
    #[default]
    Empty,
    // The body hyper hands the server, kept unboxed on the hot path.
    Incoming(hyper::body::Incoming),
    Boxed(BoxBody<Bytes, BoxError>),
    /// The client stopped sending, or sent too slowly; the body was dropped, which ends the
    /// request (hyper closes an HTTP/1.1 connection whose body was not read, and resets an
    /// HTTP/2 stream).
    TimedOut(TooSlow),
}

/// The error a timed-out body yields as an `http_body::Body`; the `Stream` of chunks
/// reports it as [`BodyError::TimedOut`] or [`BodyError::TooSlow`].
#[derive(Debug)]
struct BodyTimedOut(TooSlow);

impl BodyTimedOut {
    fn into_body_error(self) -> BodyError {
        match self.0 {
            TooSlow::Stalled(after) => BodyError::TimedOut { after },
            TooSlow::BelowRate(min_rate) => BodyError::TooSlow { min_rate },
        }
    }
}

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Self(self.0).into_body_error(), f)
    }
}

impl std::error::Error for BodyTimedOut {}

impl RequestBody {
    /// Wraps any body, reusing hyper's `Incoming` as it is, held to `pace`; with `None`,
    /// not timed (a request body inside it is timed by its own pace).
    pub(crate) fn new<B>(body: B, pace: Option<BodyPace>) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<BoxError>,
    {
        let pace = pace.map_or_else(PaceWatch::default, PaceWatch::new);
        let mut slot = Some(body);
        if let Some(incoming) =
            (&mut slot as &mut dyn Any).downcast_mut::<Option<hyper::body::Incoming>>()
            && let Some(incoming) = incoming.take()
        {
            return Self {
                inner: BodyInner::Incoming(incoming),
                pace,
            };
        }
        match slot {
            Some(body) => Self {
                inner: BodyInner::Boxed(body.map_err(Into::into).boxed()),
                pace,
            },
            None => Self::default(),
        }
    }

    /// Holds the body to `pace` from now on (what was waited and received so far is
    /// forgotten).
    pub(crate) fn set_pace(&mut self, pace: BodyPace) {
        self.pace = PaceWatch::new(pace);
    }

    pub(crate) fn pace(&self) -> BodyPace {
        self.pace.pace()
    }

    /// The next chunk of data, skipping trailers.
    pub(crate) async fn next_chunk(&mut self) -> Option<Result<Bytes, BodyError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner {
            BodyInner::Empty => "empty",
            BodyInner::Incoming(_) => "incoming",
            BodyInner::Boxed(_) => "boxed",
            BodyInner::TimedOut(_) => "timed out",
        };
        f.debug_tuple("RequestBody").field(&kind).finish()
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let polled = match &mut this.inner {
            BodyInner::Empty => return Poll::Ready(None),
            BodyInner::TimedOut(after) => {
                return Poll::Ready(Some(Err(BodyTimedOut(*after).into())));
            }
            BodyInner::Incoming(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
            BodyInner::Boxed(body) => this.pace.watch_inside(|| Pin::new(body).poll_frame(cx)),
        };
        if let Poll::Ready(polled) = polled {
            let bytes = match &polled {
                Some(Ok(frame)) => frame.data_ref().map_or(0, Bytes::len),
                _ => 0,
            };
            this.pace.received(bytes);
            return Poll::Ready(polled);
        }
        let Some(reason) = this.pace.expired(cx) else {
            return Poll::Pending;
        };
        this.inner = BodyInner::TimedOut(reason);
        this.pace = PaceWatch::default();
        Poll::Ready(Some(Err(BodyTimedOut(reason).into())))
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            BodyInner::Empty => true,
            BodyInner::Incoming(body) => body.is_end_stream(),
            BodyInner::Boxed(body) => body.is_end_stream(),
            BodyInner::TimedOut(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            BodyInner::Empty => SizeHint::with_exact(0),
            BodyInner::Incoming(body) => body.size_hint(),
            BodyInner::Boxed(body) => body.size_hint(),
            BodyInner::TimedOut(_) => SizeHint::default(),
        }
    }
}

impl Stream for RequestBody {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return match std::task::ready!(self.as_mut().poll_frame(cx)) {
                None => Poll::Ready(None),
                Some(Err(error)) => {
                    Poll::Ready(Some(Err(match error.downcast::<BodyTimedOut>() {
                        Ok(timed_out) => timed_out.into_body_error(),
                        Err(error) => BodyError::Read(error),
                    })))
                }
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    Err(_trailers) => continue,
                },
            };
        }
    }
}

#[cfg(feature = "metrics")]
impl BodyError {
    /// Counts the limit this error is the answer of, if any.
    fn count_limit(&self) {
        use crate::telemetry::{Limit, limit_hit};
        match self {
            Self::TooLarge { .. } => limit_hit(Limit::BodyTooLarge),
            Self::Read(error) if is_length_limit(error) => limit_hit(Limit::BodyTooLarge),
            Self::TimedOut { .. } => limit_hit(Limit::BodyReadTimeout),
            Self::TooSlow { .. } => limit_hit(Limit::BodyTooSlow),
            _ => {}
        }
    }
}
