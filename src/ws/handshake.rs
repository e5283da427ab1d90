//! The opening handshake on the server side, over HTTP/1.1 (RFC 6455 §4.2: a `GET` with
//! `upgrade: websocket`, answered `101`) and over HTTP/2 (RFC 8441: an extended `CONNECT`
//! with `:protocol = websocket`, answered `200`): which requests ask for a WebSocket, what
//! makes one valid, and the `101`/`200`, `400` and `426` answers.

use http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::request::HttpRequest;
use crate::response::HttpResponse;

/// Whether the request asks for a WebSocket: `upgrade: websocket` (HTTP/1.1), or an
/// extended `CONNECT` with `:protocol = websocket` (RFC 8441, HTTP/2). Whether it does so
/// correctly is [`validate`]'s business.
pub(crate) fn asks_for_websocket(req: &HttpRequest) -> bool {
    is_extended_connect(req) || has_token(req.headers(), &UPGRADE, "websocket")
}

/// Whether the request is RFC 8441's extended `CONNECT` for a WebSocket.
fn is_extended_connect(req: &HttpRequest) -> bool {
    req.method() == Method::CONNECT
        && req
            .parts()
            .extensions
            .get::<hyper::ext::Protocol>()
            .is_some_and(|protocol| protocol.as_str().eq_ignore_ascii_case("websocket"))
}

/// Something the server puts in an HTTP/2 extended `CONNECT`'s extensions for the
/// WebSocket to hold while it is open: the stream's count among the connection's open
/// ones, so that a quiet WebSocket keeps its connection from being taken for idle. (The
/// server's type, erased: this layer does not know the server.)
#[derive(Clone)]
pub(crate) struct StreamHold {
    /// Never read: holding it is the point.
    _held: std::sync::Arc<dyn std::any::Any + Send + Sync>,
}

impl StreamHold {
    pub(crate) fn new(held: impl std::any::Any + Send + Sync) -> Self {
        Self {
            _held: std::sync::Arc::new(held),
        }
    }
}

/// How a valid handshake is answered.
#[derive(Debug)]
pub(crate) enum Answer {
    /// HTTP/1.1: `101 Switching Protocols` with this `sec-websocket-accept`.
    Switch(HeaderValue),
    /// HTTP/2 (RFC 8441 §5): `200 OK`, and the stream carries the WebSocket.
    Connect,
}

/// Checks a handshake, returning how to answer it.
pub(crate) fn validate(req: &HttpRequest) -> Result<Answer, Refusal> {
    let headers = req.headers();
    if req.version() == Version::HTTP_2 && is_extended_connect(req) {
        // RFC 8441 §5: no `sec-websocket-key` and no `upgrade`; the version as in §4.1.
        if headers
            .get(SEC_WEBSOCKET_VERSION)
            .is_none_or(|version| version != "13")
        {
            return Err(Refusal::Version);
        }
        return Ok(Answer::Connect);
    }
    // HTTP/2 has no `Upgrade` (RFC 9113 §8.6) and HTTP/1.0 predates it.
    if req.version() != Version::HTTP_11 {
        return Err(Refusal::Invalid("a WebSocket handshake needs HTTP/1.1"));
    }
    if req.method() != Method::GET {
        return Err(Refusal::Invalid("a WebSocket handshake must be a GET"));
    }
    if !has_token(headers, &UPGRADE, "websocket") {
        return Err(Refusal::Invalid(
            "a WebSocket handshake needs 'upgrade: websocket'",
        ));
    }
    if !has_token(headers, &CONNECTION, "upgrade") {
        return Err(Refusal::Invalid(
            "a WebSocket handshake needs 'connection: upgrade'",
        ));
    }
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .is_none_or(|version| version != "13")
    {
        return Err(Refusal::Version);
    }
    let mut keys = headers.get_all(SEC_WEBSOCKET_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (Some(key), None) if is_valid_key(key.as_bytes()) => key,
        _ => {
            return Err(Refusal::Invalid(
                "a WebSocket handshake needs one 'sec-websocket-key' of 16 bytes in base64",
            ));
        }
    };
    let accept = derive_accept_key(key.as_bytes());
    Ok(Answer::Switch(
        HeaderValue::from_str(&accept).expect("base64 is valid header text"),
    ))
}

/// Why a handshake was refused; answered with `400 Bad Request`.
#[derive(Debug)]
pub(crate) enum Refusal {
    Invalid(&'static str),
    Version,
}

impl Refusal {
    pub(crate) fn into_response(self) -> HttpResponse {
        match self {
            Self::Invalid(problem) => bad_request(problem),
            Self::Version => {
                // RFC 6455 §4.4: tell the client which version we speak.
                let mut response =
                    bad_request("unsupported WebSocket version; this server speaks 13");
                response
                    .headers
                    .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
                response
            }
        }
    }
}

/// The `101 Switching Protocols` (or, over HTTP/2, the `200`) that completes the handshake.
/// `extra` are the handler's own headers; they cannot replace the ones the protocol needs.
pub(crate) fn switching_protocols(
    answer: &Answer,
    protocol: Option<HeaderValue>,
    extensions: Option<HeaderValue>,
    extra: HeaderMap,
) -> HttpResponse {
    let status = match answer {
        Answer::Switch(_) => StatusCode::SWITCHING_PROTOCOLS,
        Answer::Connect => StatusCode::OK,
    };
    let mut response = HttpResponse::with_status(status);
    response.headers = extra;
    for name in [
        &UPGRADE,
        &CONNECTION,
        &SEC_WEBSOCKET_ACCEPT,
        &http::header::SEC_WEBSOCKET_PROTOCOL,
        &http::header::SEC_WEBSOCKET_EXTENSIONS,
    ] {
        response.headers.remove(name);
    }
    if let Answer::Switch(accept) = answer {
        response
            .headers
            .insert(UPGRADE, HeaderValue::from_static("websocket"));
        response
            .headers
            .insert(CONNECTION, HeaderValue::from_static("upgrade"));
        response
            .headers
            .insert(SEC_WEBSOCKET_ACCEPT, accept.clone());
    }
    if let Some(protocol) = protocol {
        response
            .headers
            .insert(http::header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    if let Some(extensions) = extensions {
        response
            .headers
            .insert(http::header::SEC_WEBSOCKET_EXTENSIONS, extensions);
    }
    response
}

/// The answer to a plain HTTP request for a path that only speaks WebSocket.
pub(crate) fn upgrade_required(version: Version) -> HttpResponse {
    let mut response = HttpResponse::text(
        StatusCode::UPGRADE_REQUIRED,
        "Upgrade Required: this path speaks WebSocket",
    );
    response
        .headers
        .insert(UPGRADE, HeaderValue::from_static("websocket"));
    response
        .headers
        .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    // RFC 9110 §7.8: whoever sends `Upgrade` lists it in `Connection`; HTTP/2 forbids both.
    if version == Version::HTTP_11 {
        response
            .headers
            .insert(CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        response.headers.remove(UPGRADE);
    }
    response
}

fn bad_request(problem: &'static str) -> HttpResponse {
    tracing::debug!(problem, "refused a WebSocket handshake");
    HttpResponse::text(StatusCode::BAD_REQUEST, format!("Bad Request: {problem}"))
}

/// Whether any of the comma-separated values of `name` is `token`, ignoring case.
fn has_token(headers: &HeaderMap, name: &http::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

/// A key is 16 bytes in base64: 22 characters of the alphabet and `==`.
fn is_valid_key(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_key_gives_the_rfc_accept() {
        // RFC 6455 §1.3.
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25j*Q=="));
    }

    #[test]
    fn tokens_are_found_in_lists_whatever_the_case() {
        let mut headers = HeaderMap::new();
        headers.append(CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        headers.append(UPGRADE, HeaderValue::from_static("WebSocket"));
        assert!(has_token(&headers, &CONNECTION, "upgrade"));
        assert!(has_token(&headers, &UPGRADE, "websocket"));
        headers.insert(UPGRADE, HeaderValue::from_static("h2c"));
        assert!(!has_token(&headers, &UPGRADE, "websocket"));
    }
}
