//! Gauges of what is open (connections, event streams, WebSockets), each held as a guard
//! that counts itself out when dropped, however its owner ends.

use std::sync::OnceLock;

use metrics::{Counter, Gauge};

use super::names;

/// One open thing: its gauge goes down when this is dropped.
#[derive(Debug)]
pub(crate) struct Open {
    gauge: Gauge,
    closed: Option<Counter>,
}

impl Open {
    fn new(gauge: Gauge, closed: Option<Counter>) -> Self {
        gauge.increment(1.0);
        Self { gauge, closed }
    }

    /// An accepted connection, over `transport` (`tcp` or `tls`), counted in and, when
    /// dropped, out; the TLS gauge too for `tls`. `None` when metrics are off.
    pub(crate) fn accepted(transport: &'static str) -> Option<Self> {
        if !super::enabled() {
            return None;
        }
        metrics::counter!(names::CONNECTIONS_ACCEPTED, "transport" => transport).increment(1);
        let gauge = if transport == "tls" {
            metrics::gauge!(names::TLS_CONNECTIONS_OPEN)
        } else {
            Gauge::noop()
        };
        Some(Self::new(
            gauge,
            Some(metrics::counter!(names::CONNECTIONS_CLOSED, "transport" => transport)),
        ))
    }

    /// A connection that speaks HTTP/2 (`true`) or HTTP/1.1, for as long as it is served.
    pub(crate) fn connection(is_http2: bool) -> Option<Self> {
        super::enabled().then(|| {
            let protocol = if is_http2 { "h2" } else { "http1" };
            Self::new(
                metrics::gauge!(names::CONNECTIONS_OPEN, "protocol" => protocol),
                None,
            )
        })
    }

    /// A server-sent event stream, for as long as its body lives.
    pub(crate) fn event_stream() -> Option<Self> {
        super::enabled().then(|| Self::new(metrics::gauge!(names::EVENT_STREAMS_OPEN), None))
    }

    /// A WebSocket, for as long as its handler runs.
    #[cfg(feature = "ws")]
    pub(crate) fn websocket() -> Option<Self> {
        super::enabled().then(|| {
            metrics::counter!(names::WEBSOCKETS_OPENED).increment(1);
            Self::new(metrics::gauge!(names::WEBSOCKETS_OPEN), None)
        })
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.gauge.decrement(1.0);
        if let Some(closed) = &self.closed {
            closed.increment(1);
        }
    }
}

/// Counts `bytes` of event-stream frames handed to a connection. Called for every frame of
/// every stream, so the counter's handle is looked up once, not per frame.
pub(crate) fn event_stream_sent(bytes: usize) {
    static SENT: OnceLock<Counter> = OnceLock::new();
    if super::enabled() {
        SENT.get_or_init(|| metrics::counter!(names::EVENT_STREAM_BYTES))
            .increment(bytes as u64);
    }
}
