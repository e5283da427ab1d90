//! [`HttpResponse`] and [`IntoResponse`]: what a handler returns.
//!
//! A handler returns anything that is [`IntoResponse`]; bareASGI's `(status, headers, body)`
//! shape works as written:
//!
//! ```
//! use bareasgi::{HttpRequest, IntoResponse, text_writer};
//!
//! async fn page(_req: HttpRequest) -> impl IntoResponse {
//!     (200, [("content-type", "text/html")], text_writer("<h1>hi</h1>"))
//! }
//! ```
//!
//! | returned value | status | headers | body |
//! |---|---|---|---|
//! | `(status, headers, body)` | `status` | exactly `headers` | `body` |
//! | `(status, body)` | `status` | none | `body` |
//! | `(status,)`, `StatusCode`, `u16` | `status` | none | empty |
//! | `&'static str`, `String` | 200 | `text/plain; charset=utf-8` | the text |
//! | `Bytes`, `Vec<u8>` | 200 | `application/octet-stream` | the bytes |
//! | `Body`, `()` | 200 | none | the body |
//! | [`Html(text)`](Html) | 200 | `text/html; charset=utf-8` | the text |
//! | [`Redirect::to(uri)`](Redirect) and friends | 307, 308 or 303 | `location` | empty |
//! | `Json(value)` (feature `json`) | 200 | `application/json` | the value as JSON |
//! | `Result<T, E>` | whichever side it holds | | |
//!
//! A status is a [`StatusCode`] or an integer; headers are a [`HeaderMap`], or an array or
//! `Vec` of `(name, value)` pairs of `&str`, `String`, `&[u8]` or `Vec<u8>`; a body is
//! anything that converts into [`Body`]. An integer that is not a status, or a header name or
//! value that is not valid, turns the response into a `500` and logs what was wrong: a
//! handler's typo never panics the server.
//!
//! Any of them takes a cookie with [`with_cookie`](IntoResponse::with_cookie) (feature
//! `cookies`): `(200, headers, body).with_cookie(cookie)`.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use crate::body::Body;

mod errors;
mod headers;
mod html;
mod redirect;

pub use headers::{HeaderPart, IntoHeaders, InvalidHeader};
pub use html::Html;
pub use redirect::Redirect;

pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
// Header values as constants: `HeaderValue::from_static` made at run time checks every byte.
const TEXT_PLAIN_VALUE: HeaderValue = HeaderValue::from_static(TEXT_PLAIN);
const OCTET_STREAM_VALUE: HeaderValue = HeaderValue::from_static("application/octet-stream");

/// A response: a status, headers and a body — bareASGI's `HttpResponse`.
///
/// Its fields are public so a middleware can change any of them.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body: empty, a buffer or a stream.
    pub body: Body,
}

/// A response's header map, for `count` headers from the handler.
///
/// With room for the two hyper adds to an HTTP/2 response's map (`date`, and
/// `content-length` for a buffered body; over HTTP/1.1 it writes them without the map),
/// and at least the 8 slots a `HeaderMap` takes on its first insert: a map made for exactly
/// the handler's headers is grown twice per HTTP/2 request, and a full one makes every
/// lookup of a header it lacks (h2 looks up six) probe through all its slots.
pub(crate) fn header_map(count: usize) -> HeaderMap {
    HeaderMap::with_capacity((count + 2).max(6))
}

impl HttpResponse {
    /// A response from a status, headers and a body, each in any of the forms
    /// [`IntoResponse`] accepts. An invalid status or header gives a logged `500`.
    pub fn new(status: impl IntoStatus, headers: impl IntoHeaders, body: impl Into<Body>) -> Self {
        (status, headers, body).into_response()
    }

    /// A response with `status`, no headers and an empty body.
    #[must_use]
    pub fn with_status(status: StatusCode) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: Body::empty(),
        }
    }

    /// A response with `status` and a `text/plain` body.
    pub fn text(status: StatusCode, text: impl Into<Cow<'static, str>>) -> Self {
        let mut headers = header_map(1);
        headers.insert(CONTENT_TYPE, TEXT_PLAIN_VALUE);
        let body = match text.into() {
            Cow::Borrowed(text) => Body::from(text),
            Cow::Owned(text) => Body::from(text),
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// A bare `500 Internal Server Error`, the answer to any failure whose details must not
    /// reach the client.
    #[must_use]
    pub fn internal_server_error() -> Self {
        Self::text(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }
}

impl Default for HttpResponse {
    fn default() -> Self {
        Self::with_status(StatusCode::OK)
    }
}

/// Converts a handler's return value into an [`HttpResponse`].
///
/// Implement it for your own types to return them from handlers.
pub trait IntoResponse {
    /// Makes the response.
    fn into_response(self) -> HttpResponse;

    /// The response with a `set-cookie` header for `cookie` added (feature `cookies`), so
    /// any response shape can carry one: a tuple, [`Html`], [`Redirect`], `Json`.
    ///
    /// ```
    /// use bareasgi::cookie::Cookie;
    /// use bareasgi::{HttpRequest, IntoResponse, Redirect};
    ///
    /// async fn page(_req: HttpRequest) -> impl IntoResponse {
    ///     (200, [("content-type", "text/plain")], "welcome").with_cookie(Cookie::new("seen", "1"))
    /// }
    ///
    /// async fn login(_req: HttpRequest) -> impl IntoResponse {
    ///     let session = Cookie::build(("session", "s3cr3t")).http_only(true).path("/");
    ///     Redirect::see_other("/admin").with_cookie(session)
    /// }
    /// ```
    ///
    /// For signed and private cookies, and removal, see [`cookies`](crate::cookies) and the
    /// methods of [`HttpResponse`].
    #[cfg(feature = "cookies")]
    #[must_use]
    fn with_cookie(self, cookie: impl Into<cookie::Cookie<'static>>) -> HttpResponse
    where
        Self: Sized,
    {
        let mut response = self.into_response();
        response.set_cookie(cookie);
        response
    }
}

impl IntoResponse for HttpResponse {
    fn into_response(self) -> HttpResponse {
        self
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> HttpResponse {
        HttpResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: self,
        }
    }
}

impl IntoResponse for () {
    fn into_response(self) -> HttpResponse {
        HttpResponse::default()
    }
}

fn with_content_type(content_type: HeaderValue, body: Body) -> HttpResponse {
    let mut headers = header_map(1);
    headers.insert(CONTENT_TYPE, content_type);
    HttpResponse {
        status: StatusCode::OK,
        headers,
        body,
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> HttpResponse {
        with_content_type(TEXT_PLAIN_VALUE, self.into())
    }
}

impl IntoResponse for String {
    fn into_response(self) -> HttpResponse {
        with_content_type(TEXT_PLAIN_VALUE, self.into())
    }
}

impl IntoResponse for Cow<'static, str> {
    fn into_response(self) -> HttpResponse {
        match self {
            Cow::Borrowed(text) => text.into_response(),
            Cow::Owned(text) => text.into_response(),
        }
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> HttpResponse {
        with_content_type(OCTET_STREAM_VALUE, self.into())
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> HttpResponse {
        with_content_type(OCTET_STREAM_VALUE, self.into())
    }
}

impl IntoResponse for &'static [u8] {
    fn into_response(self) -> HttpResponse {
        with_content_type(OCTET_STREAM_VALUE, self.into())
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> HttpResponse {
        match self {
            Ok(value) => value.into_response(),
            Err(error) => error.into_response(),
        }
    }
}

/// The status, or `None` after logging why it is not one (the caller answers 500).
pub(crate) fn checked_status(status: impl IntoStatus) -> Option<StatusCode> {
    status
        .into_status()
        .inspect_err(|invalid| tracing::error!(%invalid, "handler returned an invalid status; answering 500"))
        .ok()
}

impl<S: IntoStatus> IntoResponse for (S,) {
    fn into_response(self) -> HttpResponse {
        match checked_status(self.0) {
            Some(status) => HttpResponse::with_status(status),
            None => HttpResponse::internal_server_error(),
        }
    }
}

impl<S: IntoStatus, B: Into<Body>> IntoResponse for (S, B) {
    fn into_response(self) -> HttpResponse {
        match checked_status(self.0) {
            Some(status) => HttpResponse {
                status,
                headers: HeaderMap::new(),
                body: self.1.into(),
            },
            None => HttpResponse::internal_server_error(),
        }
    }
}

/// The headers, or `None` after logging which one is invalid (the caller answers 500).
pub(crate) fn checked_headers(headers: impl IntoHeaders) -> Option<HeaderMap> {
    headers
        .into_headers()
        .inspect_err(|invalid| tracing::error!(%invalid, "handler returned an invalid header; answering 500"))
        .ok()
}

impl<S: IntoStatus, H: IntoHeaders, B: Into<Body>> IntoResponse for (S, H, B) {
    fn into_response(self) -> HttpResponse {
        let (Some(status), Some(headers)) = (checked_status(self.0), checked_headers(self.1))
        else {
            return HttpResponse::internal_server_error();
        };
        HttpResponse {
            status,
            headers,
            body: self.2.into(),
        }
    }
}

/// A status code given as a number that is not one (outside 100–999).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidStatus(pub i128);

impl fmt::Display for InvalidStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not an HTTP status code (100-999)", self.0)
    }
}

impl std::error::Error for InvalidStatus {}

/// A value usable as a response status: a [`StatusCode`] or an integer.
pub trait IntoStatus {
    /// Converts to a [`StatusCode`].
    ///
    /// # Errors
    /// When the number is not a valid status code.
    fn into_status(self) -> Result<StatusCode, InvalidStatus>;
}

impl IntoStatus for StatusCode {
    fn into_status(self) -> Result<StatusCode, InvalidStatus> {
        Ok(self)
    }
}

macro_rules! integer_status {
    ($($int:ty),*) => {$(
        impl IntoStatus for $int {
            fn into_status(self) -> Result<StatusCode, InvalidStatus> {
                u16::try_from(self)
                    .ok()
                    .and_then(|code| StatusCode::from_u16(code).ok())
                    .ok_or(InvalidStatus(i128::from(self)))
            }
        }

        impl IntoResponse for $int {
            fn into_response(self) -> HttpResponse {
                (self,).into_response()
            }
        }
    )*};
}

// `i32` is what an unsuffixed literal such as `200` becomes, so it must be here.
integer_status!(u16, u32, u64, i32, i64);

impl IntoResponse for StatusCode {
    fn into_response(self) -> HttpResponse {
        HttpResponse::with_status(self)
    }
}

/// Removes a `content-length` that does not match the body's known length: a wrong length
/// would corrupt the connection's framing, and the body is the truth.
pub(crate) fn drop_wrong_content_length(headers: &mut HeaderMap, body: &Body) {
    if let Some(length) = body.exact_len()
        && let Some(declared) = find_header(headers, &CONTENT_LENGTH)
        && declared
            .to_str()
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            != Some(length)
    {
        tracing::warn!(
            ?declared,
            length,
            "handler set a content-length that does not match its body; fixing it"
        );
        headers.remove(CONTENT_LENGTH);
    }
}

/// The first value of `name` in a response's `headers`. A response has few headers, and a
/// walk through them costs less than `HeaderMap`'s lookup, which hashes the name byte by
/// byte; a map with many is looked up as usual.
fn find_header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a HeaderValue> {
    if headers.keys_len() > 16 {
        return headers.get(name);
    }
    headers
        .iter()
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// Whether a request is a `HEAD`, and where it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// Not a `HEAD` request.
    No,
    /// Answered by the application's core: the `GET` answer's headers, no body.
    Here,
    /// Answered by the outermost tower layer's future ([`answer_head`]), so that the layers
    /// see the response `GET` would get (a compression layer then says `content-encoding`
    /// for `HEAD` as for `GET`); the response is left as the handler made it.
    Outside,
}

/// The answer to `HEAD`: the `GET` answer's headers, including the length its body would
/// have had, and no body.
pub(crate) fn answer_head(headers: &mut HeaderMap, body: &mut Body) {
    if let Some(length) = body.exact_len()
        && length > 0
        && !headers.contains_key(CONTENT_LENGTH)
    {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    *body = Body::empty();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsuffixed_integer_literal_is_a_status() {
        let response = (201, [("x-a", "1")], "made").into_response();
        assert_eq!(response.status, StatusCode::CREATED);
        assert_eq!(response.headers["x-a"], "1");
    }

    #[test]
    fn a_number_that_is_not_a_status_becomes_500() {
        assert_eq!(
            (1000, "x").into_response().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            (-1,).into_response().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            99u16.into_response().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn a_bad_header_becomes_500() {
        let bad_name = (200, [("bad name", "v")], "").into_response();
        assert_eq!(bad_name.status, StatusCode::INTERNAL_SERVER_ERROR);
        let bad_value = (200, vec![("x-ok", "line\nbreak")], "").into_response();
        assert_eq!(bad_value.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn repeated_header_names_are_all_kept() {
        let headers = vec![
            ("set-cookie".to_owned(), "a=1".to_owned()),
            ("set-cookie".into(), "b=2".into()),
        ]
        .into_headers()
        .unwrap();
        assert_eq!(headers.get_all("set-cookie").iter().count(), 2);
    }

    #[test]
    fn bare_text_is_plain_text() {
        let response = "hi".into_response();
        assert_eq!(response.headers[CONTENT_TYPE], TEXT_PLAIN);
        assert_eq!(response.body.exact_len(), Some(2));
    }
}
