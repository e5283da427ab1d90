//! Which answers an HTTP/1.1 connection may send itself, away from hyper (see
//! `server::handoff`): those hyper would send chunked and then keep the connection open
//! after. Decided from the request (here, for the direct path and the tower layers alike)
//! and from the response's status and headers.

use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue};
use http::{Method, StatusCode, Version};

use crate::body::in_flight::InFlight;

/// Whether hyper would send a streamed answer to this request chunked, so that the
/// connection may send it itself (see `server::handoff`): HTTP/1.1, a body to send (not
/// `HEAD`), not after a request body, which hyper may still be reading from the socket,
/// and not to a client that asked to close the connection after the response (the
/// connection serves more requests after a detached body; hyper closes after its own).
/// Only an HTTP/1.1 connection's request (`in_flight`) may be answered so; whether it
/// asked to close was found in the same pass over its headers as the `Host` check.
pub(crate) fn answered_chunked<B: http_body::Body>(
    method: &Method,
    version: Version,
    in_flight: Option<&InFlight>,
    request_body: &B,
) -> bool {
    in_flight.is_some_and(|request| !request.close_requested())
        && version == Version::HTTP_11
        && *method != Method::HEAD
        && *method != Method::CONNECT
        && request_body.is_end_stream()
}

/// How hyper frames a streamed answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Chunked, on an HTTP/1.1 connection that may send it itself (see [`answered_chunked`]).
    Detachable,
    /// Delimited by closing the connection: an HTTP/1.0 request.
    UntilClose,
    /// Anything else: HTTP/2, `HEAD`, after a request body, before a close asked for.
    Other,
}

impl Framing {
    /// The framing of a streamed answer to this request (see [`answered_chunked`]).
    pub(crate) fn of<B: http_body::Body>(
        method: &Method,
        version: Version,
        in_flight: Option<&InFlight>,
        request_body: &B,
    ) -> Self {
        if answered_chunked(method, version, in_flight, request_body) {
            Self::Detachable
        } else if version == Version::HTTP_10 {
            Self::UntilClose
        } else {
            Self::Other
        }
    }

    /// Marks an answer that ends with the connection as such: `connection: close`, and the
    /// answer's version HTTP/1.0, which is what makes hyper drop keep-alive. Left as it was,
    /// hyper would echo an HTTP/1.0 client's `keep-alive` on a body it then delimits by
    /// closing, contradicting itself (RFC 9112 9.3: a kept-alive HTTP/1.0 answer needs a
    /// length). hyper writes `HTTP/1.0` to such a client whatever the version says.
    pub(crate) fn declare_close(
        self,
        version: &mut Version,
        headers: &mut HeaderMap,
        exact_len: Option<u64>,
    ) {
        if self == Self::UntilClose && exact_len.is_none() && !headers.contains_key(CONTENT_LENGTH)
        {
            *version = Version::HTTP_10;
            if !headers.contains_key(CONNECTION) {
                headers.insert(CONNECTION, HeaderValue::from_static("close"));
            }
        }
    }
}

/// Whether a `Connection` header value has the `close` option (RFC 9112, 9.6).
pub(crate) fn has_close_option(value: &HeaderValue) -> bool {
    value
        .as_bytes()
        .split(|&byte| byte == b',')
        .any(|option| option.trim_ascii().eq_ignore_ascii_case(b"close"))
}

/// Whether hyper sends a streamed body with these status and headers chunked, and keeps the
/// connection open after it.
pub(crate) fn sent_chunked(status: StatusCode, headers: &http::HeaderMap) -> bool {
    !status.is_informational()
        && status != StatusCode::NO_CONTENT
        && status != StatusCode::NOT_MODIFIED
        && !headers.contains_key(CONTENT_LENGTH)
        && !headers.contains_key(TRANSFER_ENCODING)
        && !headers.contains_key(CONNECTION)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks_to_close(connection: &[&'static str]) -> bool {
        connection
            .iter()
            .any(|value| has_close_option(&HeaderValue::from_static(value)))
    }

    #[test]
    fn the_close_option_is_found_among_others_in_any_case() {
        assert!(!asks_to_close(&[]));
        assert!(!asks_to_close(&["keep-alive"]));
        assert!(!asks_to_close(&["closed, upgrade"]));
        assert!(asks_to_close(&["close"]));
        assert!(asks_to_close(&["keep-alive, Close"]));
        assert!(asks_to_close(&["te", " CLOSE "]));
    }
}
