//! Which answers an HTTP/1.1 connection may send itself, away from hyper (see
//! `server::handoff`): those hyper would send chunked and then keep the connection open
//! after. Decided from the request (here, for the direct path and the tower layers alike)
//! and from the response's status and headers.

use http::HeaderValue;
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{Method, StatusCode, Version};

use crate::server::InFlight;

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
