//! Errors: the opaque [`Error`] the server returns, and [`HttpError`], the error a handler
//! returns to answer with a status and a short message.
//!
//! ```
//! use bareasgi::{HttpError, HttpRequest};
//!
//! async fn show(mut req: HttpRequest) -> Result<String, HttpError> {
//!     // Every request error converts with `?`, keeping its status: a capture that does not
//!     // parse is a 400, a body over the limit a 413.
//!     let id: u32 = req.matches.parse("id")?;
//!     let note = req.text().await?;
//!     if id == 0 {
//!         return Err(HttpError::not_found("no such item"));
//!     }
//!     Ok(format!("item {id}: {note}"))
//! }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use http::{HeaderMap, StatusCode};

/// A boxed error that can cross threads: what streams and lifespan handlers may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error returned by [`Application::serve`](crate::Application::serve) and friends.
///
/// It is opaque on purpose: ask it what happened with the `is_*` predicates, and read the
/// cause through [`std::error::Error::source`].
pub struct Error {
    kind: Kind,
    source: Option<BoxError>,
}

#[derive(Debug)]
enum Kind {
    Bind(String),
    Startup(usize),
    #[cfg(feature = "tls")]
    Tls,
}

impl Error {
    pub(crate) fn bind(addr: String, source: std::io::Error) -> Self {
        Self {
            kind: Kind::Bind(addr),
            source: Some(source.into()),
        }
    }

    pub(crate) fn startup(index: usize, source: BoxError) -> Self {
        Self {
            kind: Kind::Startup(index),
            source: Some(source),
        }
    }

    /// A TLS certificate or key could not be loaded (`tls` converts its error with this).
    #[cfg(feature = "tls")]
    pub(crate) fn tls(source: BoxError) -> Self {
        Self {
            kind: Kind::Tls,
            source: Some(source),
        }
    }

    /// A TLS certificate or key could not be loaded (see
    /// [`TlsError`](crate::tls::TlsError), the [`source`](std::error::Error::source)).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[must_use]
    pub fn is_tls(&self) -> bool {
        matches!(self.kind, Kind::Tls)
    }

    /// The listening address could not be resolved or bound.
    #[must_use]
    pub fn is_bind(&self) -> bool {
        matches!(self.kind, Kind::Bind(_))
    }

    /// A startup handler failed, so the server never accepted a connection.
    #[must_use]
    pub fn is_startup(&self) -> bool {
        matches!(self.kind, Kind::Startup(_))
    }
}

/// `{:?}` is the message, as for `Display`: a `main` returning `Result<(), Error>` prints its
/// error with `Debug`, and should say `cannot listen on 127.0.0.1:80: Permission denied`
/// rather than dump nested structs. `{:#?}` shows the structure.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return fmt::Display::fmt(self, f);
        }
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Bind(addr) => write!(f, "cannot listen on {addr}")?,
            Kind::Startup(index) => write!(f, "startup handler #{index} failed")?,
            #[cfg(feature = "tls")]
            Kind::Tls => f.write_str("TLS configuration")?,
        }
        // The cause is part of the message so that `main` returning this error says why.
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// An error a handler returns to answer with a given status and a short text message.
///
/// The message is sent to the client as `text/plain`, so it must not contain secrets.
/// For errors whose text must stay private, return any other error type boxed as
/// [`BoxError`]: it becomes a bare `500 Internal Server Error` and is logged.
#[derive(Debug, Clone)]
pub struct HttpError {
    status: StatusCode,
    message: Cow<'static, str>,
    headers: HeaderMap,
}

impl HttpError {
    /// An error answering `status` with `message` as its body.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            headers: HeaderMap::new(),
        }
    }

    /// `400 Bad Request`.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// `401 Unauthorized`.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// `403 Forbidden`.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// `404 Not Found`.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// `409 Conflict`: the request clashes with the resource's current state (a name
    /// already taken, an edit of an outdated version).
    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// `413 Content Too Large`: the body is over what this route accepts.
    pub fn payload_too_large(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    /// `415 Unsupported Media Type`: the body's `content-type` is not one this route reads.
    pub fn unsupported_media_type(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message)
    }

    /// `422 Unprocessable Content`: the body parsed, but its values do not validate.
    pub fn unprocessable_entity(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// `429 Too Many Requests`; add [`retry_after`](Self::retry_after) to say when the
    /// client may try again.
    pub fn too_many_requests(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, message)
    }

    /// `503 Service Unavailable`: a dependency is down or the server is overloaded; add
    /// [`retry_after`](Self::retry_after) to say when to come back.
    pub fn service_unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// `500 Internal Server Error` with a message the client will see.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Adds a header to the error response (for example `www-authenticate` on a 401).
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Adds a `retry-after` header of `delay` in whole seconds (rounded up, so a client
    /// never comes back early): with `429` or `503`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bareasgi::HttpError;
    ///
    /// let error = HttpError::too_many_requests("slow down").retry_after(Duration::from_millis(1500));
    /// assert_eq!(error.status(), 429);
    /// assert_eq!(error.headers()["retry-after"], "2");
    /// ```
    #[must_use]
    pub fn retry_after(mut self, delay: Duration) -> Self {
        let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
        self.headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        self
    }

    /// The headers added to the error response.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The status this error answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message sent as the response body.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Status, message and headers, for the response (see `response::errors`).
    pub(crate) fn into_parts(self) -> (StatusCode, Cow<'static, str>, HeaderMap) {
        (self.status, self.message, self.headers)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

#[cfg(test)]
mod tests {
    use super::Error;

    // Regression: `fn main() -> Result<(), bareasgi::Error>`, the shape of every example,
    // printed `Error: Error { kind: Bind("127.0.0.1:80"), source: Some(Custom { .. }) }`.
    #[test]
    fn debug_is_the_message_so_that_main_prints_it() {
        let denied = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied");
        let error = Error::bind("127.0.0.1:80".to_owned(), denied);
        assert_eq!(
            format!("{error:?}"),
            "cannot listen on 127.0.0.1:80: Permission denied"
        );
        assert!(format!("{error:#?}").starts_with("Error {"), "{error:#?}");
    }
}
