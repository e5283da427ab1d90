//! Limits that cut a connection or a request, and panics: what the reliability settings
//! did, by kind.

use super::names;

/// A limit that cut a connection or answered a request with an error; its label is the
/// name of the setting in [`Application`](crate::Application) (or hyper's, for HTTP/2
/// resets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// No request head (or TLS handshake) within the header-read timeout.
    HeaderReadTimeout,
    /// An idle keep-alive connection closed (or an HTTP/2 one sent GOAWAY).
    Idle,
    /// The client read nothing for the write-stall timeout.
    WriteStall,
    /// A request body not read within the body-read timeout: 408.
    BodyReadTimeout,
    /// A request body slower than the minimum data rate: 408.
    BodyTooSlow,
    /// A request body over the size limit: 413.
    BodyTooLarge,
    /// A handler that did not answer within the request timeout: 503.
    RequestTimeout,
    /// The accept loop waited for a slot: `max_connections` were open.
    MaxConnections,
}

impl Limit {
    fn label(self) -> &'static str {
        match self {
            Self::HeaderReadTimeout => "header_read_timeout",
            Self::Idle => "idle",
            Self::WriteStall => "write_stall",
            Self::BodyReadTimeout => "body_read_timeout",
            Self::BodyTooSlow => "body_too_slow",
            Self::BodyTooLarge => "body_too_large",
            Self::RequestTimeout => "request_timeout",
            Self::MaxConnections => "max_connections",
        }
    }
}

/// Counts one cut by `limit`.
pub(crate) fn limit_hit(limit: Limit) {
    if super::enabled() {
        metrics::counter!(names::LIMIT_HITS, "limit" => limit.label()).increment(1);
    }
}

/// Counts one caught panic, `place` being `http` (a handler), `body` (a streamed response
/// body) or `websocket` (a WebSocket handler).
pub(crate) fn panicked(place: &'static str) {
    if super::enabled() {
        metrics::counter!(names::PANICS, "place" => place).increment(1);
    }
}
