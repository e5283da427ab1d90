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

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use crate::body::Body;
use crate::response::{HttpResponse, IntoResponse, TEXT_PLAIN};

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

/// So that `TlsConfig::from_pem_files(..)?` works in a `main` returning this error.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
impl From<crate::tls::TlsError> for Error {
    fn from(error: crate::tls::TlsError) -> Self {
        Self {
            kind: Kind::Tls,
            source: Some(error.into()),
        }
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
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

impl IntoResponse for HttpError {
    fn into_response(self) -> HttpResponse {
        let mut headers = self.headers;
        headers
            .entry(CONTENT_TYPE)
            .or_insert(HeaderValue::from_static(TEXT_PLAIN));
        let body = match self.message {
            Cow::Borrowed(text) => Body::from(text),
            Cow::Owned(text) => Body::from(text),
        };
        HttpResponse {
            status: self.status,
            headers,
            body,
        }
    }
}

/// Any other error is a `500` whose body says nothing about it; the error itself is logged
/// (inside the request's span, which carries the method and path).
impl IntoResponse for BoxError {
    fn into_response(self) -> HttpResponse {
        tracing::error!(error = %self, "handler failed");
        HttpResponse::internal_server_error()
    }
}

impl IntoResponse for std::io::Error {
    fn into_response(self) -> HttpResponse {
        tracing::error!(error = %self, "handler failed with an I/O error");
        HttpResponse::internal_server_error()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> HttpResponse {
        tracing::error!(error = %self, "handler failed");
        HttpResponse::internal_server_error()
    }
}

impl IntoResponse for std::convert::Infallible {
    fn into_response(self) -> HttpResponse {
        match self {}
    }
}

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
