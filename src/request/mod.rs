//! [`HttpRequest`]: everything a handler needs — method, URI, headers, the route's
//! [`Matches`], the application's shared `info`, the per-request `context`, and the body.
//!
//! ```
//! use bareasgi::{BodyError, HttpRequest};
//!
//! async fn echo(mut req: HttpRequest) -> Result<String, BodyError> {
//!     let name = req.matches.get("name").unwrap_or("nobody").to_owned();
//!     let text = req.text().await?; // 413 over the body limit, 400 for a broken body
//!     Ok(format!("{name} said {text}"))
//! }
//! ```

mod any_body;
mod body;
mod layered;
mod matches;
mod pace;
mod state;

pub(crate) use any_body::request_body;
pub use body::{BodyError, RequestBody};
pub(crate) use layered::RouteParts;
pub use matches::{MatchError, Matches};
pub(crate) use pace::BodyPace;
pub use pace::MinDataRate;

use std::fmt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::request::Parts;
use http::{HeaderMap, Method, Uri, Version};

use crate::typemap::TypeMap;

/// A request as a handler sees it.
///
/// `matches`, `info` and `context` are public fields, as in bareASGI; the rest is reached
/// through methods.
pub struct HttpRequest {
    /// What only methods reach, boxed: a handler's future holds the whole request, and
    /// the request is moved several times on its way there (into the middleware chain,
    /// the router's handler, the handler's future, its box). Moving 96 bytes instead of
    /// over 400 saves more than the allocation costs.
    head: Box<Head>,
    /// The values captured by the route's pattern, percent-decoded.
    pub matches: Matches,
    /// Values shared by every request, from [`Application::info`](crate::Application::info).
    pub info: Arc<TypeMap>,
    /// Values for this request only, typically filled by a middleware for the handler
    /// (an authenticated user, a request id).
    pub context: TypeMap,
}

/// The request line, headers and body of an [`HttpRequest`].
struct Head {
    parts: Parts,
    body: RequestBody,
    body_limit: usize,
}

impl HttpRequest {
    pub(crate) fn new(
        parts: Parts,
        body: RequestBody,
        info: Arc<TypeMap>,
        body_limit: usize,
    ) -> Self {
        Self {
            head: Box::new(Head {
                parts,
                body,
                body_limit,
            }),
            matches: Matches::default(),
            info,
            context: TypeMap::new(),
        }
    }

    /// The request as the `http` crate models it, for a mounted tower service.
    pub(crate) fn into_http(self) -> http::Request<RequestBody> {
        let Head { parts, body, .. } = *self.head;
        http::Request::from_parts(parts, body)
    }

    /// The pieces a WebSocket request keeps; the body of a handshake is empty.
    #[cfg(feature = "ws")]
    pub(crate) fn into_ws_parts(self) -> (Parts, Matches, Arc<TypeMap>, TypeMap) {
        (self.head.parts, self.matches, self.info, self.context)
    }

    /// The request method.
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.head.parts.method
    }

    /// The request target.
    #[must_use]
    pub fn uri(&self) -> &Uri {
        &self.head.parts.uri
    }

    /// The path, still percent-encoded (the captures in `matches` are decoded).
    #[must_use]
    pub fn path(&self) -> &str {
        self.head.parts.uri.path()
    }

    /// The query string without the `?`, if there is one.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.head.parts.uri.query()
    }

    /// The HTTP version of the request.
    #[must_use]
    pub fn version(&self) -> Version {
        self.head.parts.version
    }

    /// The request headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.head.parts.headers
    }

    /// The request headers, for a middleware to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.head.parts.headers
    }

    /// The request line and headers as the `http` crate models them, for a middleware to
    /// change the method or URI before the route is resolved.
    pub fn parts_mut(&mut self) -> &mut Parts {
        &mut self.head.parts
    }

    /// The request line and headers as the `http` crate models them.
    #[must_use]
    pub fn parts(&self) -> &Parts {
        &self.head.parts
    }

    /// The value of the `Last-Event-ID` header a reconnecting `EventSource` sends, so an
    /// event stream can resume where the client left off.
    ///
    /// Any UTF-8 id comes back as it was sent (browsers send non-ASCII ids as raw UTF-8);
    /// `None` when the header is missing or not UTF-8. HTTP strips spaces and tabs at the
    /// ends of a header value, so an id that starts or ends with one comes back without
    /// them: choose ids that do not.
    #[must_use]
    pub fn last_event_id(&self) -> Option<&str> {
        let value = self.head.parts.headers.get("last-event-id")?;
        std::str::from_utf8(value.as_bytes()).ok()
    }

    /// The largest body [`bytes`](Self::bytes), [`text`](Self::text) and `json` accept.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.head.body_limit
    }

    /// Changes the body limit for this request (a middleware or handler that expects
    /// uploads can raise it).
    pub fn set_body_limit(&mut self, limit: usize) {
        self.head.body_limit = limit;
    }

    /// Changes the body-read timeout for this request (see
    /// [`Application::body_read_timeout`](crate::Application::body_read_timeout)): a
    /// handler that expects a streamed upload with long pauses can lengthen it, or turn it
    /// off with `None`.
    pub fn set_body_read_timeout(&mut self, timeout: Option<std::time::Duration>) {
        let pace = self.head.body.pace();
        self.head.body.set_pace(BodyPace {
            read_timeout: timeout,
            ..pace
        });
    }

    /// Changes the minimum data rate for this request's body (see
    /// [`Application::min_body_data_rate`](crate::Application::min_body_data_rate)): a
    /// handler that expects clients on very slow links can lower it, or turn it off with
    /// `None`.
    pub fn set_min_body_data_rate(&mut self, min_rate: Option<MinDataRate>) {
        let pace = self.head.body.pace();
        self.head.body.set_pace(BodyPace { min_rate, ..pace });
    }

    /// Takes the body to read it as a stream of chunks, with no size limit; afterwards the
    /// request's body is empty.
    pub fn take_body(&mut self) -> RequestBody {
        std::mem::take(&mut self.head.body)
    }

    /// Reads the whole body, up to the body limit.
    ///
    /// # Errors
    /// [`BodyError::TooLarge`] when the body (or its declared `content-length`) is over the
    /// limit; [`BodyError::Read`] when the client sent a broken body or went away.
    pub async fn bytes(&mut self) -> Result<Bytes, BodyError> {
        let limit = self.head.body_limit;
        let declared = self
            .head
            .parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(BodyError::TooLarge { limit });
        }
        let mut body = self.take_body();
        let mut first: Option<Bytes> = None;
        let mut collected = BytesMut::new();
        let mut total = 0usize;
        while let Some(chunk) = body.next_chunk().await {
            let chunk = chunk?;
            total += chunk.len();
            if total > limit {
                return Err(BodyError::TooLarge { limit });
            }
            // One chunk (the common case) is returned as it is, without a copy.
            match first.take() {
                None if collected.is_empty() => first = Some(chunk),
                previous => {
                    if let Some(previous) = previous {
                        collected.extend_from_slice(&previous);
                    }
                    collected.extend_from_slice(&chunk);
                }
            }
        }
        Ok(first.unwrap_or_else(|| collected.freeze()))
    }

    /// Reads the whole body as UTF-8 text, up to the body limit.
    ///
    /// # Errors
    /// As [`bytes`](Self::bytes), and [`BodyError::InvalidUtf8`] for text that is not UTF-8.
    pub async fn text(&mut self) -> Result<String, BodyError> {
        let bytes = self.bytes().await?;
        String::from_utf8(bytes.into()).map_err(|_| BodyError::InvalidUtf8)
    }

    /// Reads the whole body as JSON into `T`, up to the body limit.
    ///
    /// # Errors
    /// [`BodyError::UnsupportedMediaType`] (415) when `content-type` is missing or is not
    /// JSON (`application/json` or a `+json` type), as axum's `Json` does: a body without
    /// one is not read as JSON by guess; [`BodyError::Json`] (400) for a malformed or mistyped body, naming the field
    /// and the problem (`quantity: invalid type: string "three", expected u32 at line 1
    /// column 33`);
    /// and the errors of [`bytes`](Self::bytes).
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, BodyError> {
        let essence = media_type(&self.head.parts.headers).unwrap_or("");
        let is_json = essence.eq_ignore_ascii_case("application/json")
            || (essence.len() > 5 && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"));
        if !is_json {
            tracing::debug!(content_type = essence, "refused a JSON body: 415");
            return Err(BodyError::UnsupportedMediaType);
        }
        let bytes = self.bytes().await?;
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            // A field to name only when the JSON was well formed but did not fit `T`; a
            // syntax error's line and column say where it is.
            BodyError::Json(if error.inner().is_data() {
                naming_the_field(error)
            } else {
                error.into_inner().to_string()
            })
        })?;
        // As `serde_json::from_slice`: only whitespace may follow the value.
        deserializer
            .end()
            .map_err(|error| BodyError::Json(error.to_string()))?;
        Ok(value)
    }
}

/// A deserialization error's message with the path of the field that failed in front
/// (`items[2].quantity: invalid type: ...`), so a `400` says which field to fix. At the
/// root (`.`) the message stands alone: a missing field names itself there.
#[cfg(any(feature = "json", feature = "query", feature = "form"))]
pub(crate) fn naming_the_field<E: fmt::Display>(error: serde_path_to_error::Error<E>) -> String {
    let path = error.path().to_string();
    let problem = error.into_inner();
    if path == "." {
        problem.to_string()
    } else {
        format!("{path}: {problem}")
    }
}

/// The media type of the `content-type` header without its parameters (`text/plain` for
/// `text/plain; charset=utf-8`); `""` when the header is not text, `None` when absent.
#[cfg(any(feature = "json", feature = "form", feature = "multipart"))]
pub(crate) fn media_type(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::CONTENT_TYPE)?;
    let text = value.to_str().unwrap_or("");
    Some(text.split(';').next().unwrap_or("").trim())
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.head.parts.method)
            .field("uri", &self.head.parts.uri)
            .field("version", &self.head.parts.version)
            .field("headers", &self.head.parts.headers)
            .field("matches", &self.matches)
            .finish_non_exhaustive()
    }
}
