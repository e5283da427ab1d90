//! Every metric's name, in one place, with the description Prometheus shows as `# HELP`.
//!
//! Requests follow the OpenTelemetry HTTP semantic conventions as they map to Prometheus
//! (`http.server.request.duration` in seconds becomes `http_server_request_duration_seconds`);
//! the rest, which no convention covers, start with `bareasgi_`.

/// Time from the request reaching the application to its response head (histogram).
pub const REQUEST_DURATION: &str = "http_server_request_duration_seconds";
/// Requests whose response head is not produced yet (gauge).
pub const ACTIVE_REQUESTS: &str = "http_server_active_requests";
/// Declared size of request bodies (histogram, `content-length`).
pub const REQUEST_BODY_SIZE: &str = "http_server_request_body_size_bytes";
/// Size of response bodies whose length is known when the head is sent (histogram).
pub const RESPONSE_BODY_SIZE: &str = "http_server_response_body_size_bytes";

/// Connections accepted (counter, by transport).
pub const CONNECTIONS_ACCEPTED: &str = "bareasgi_connections_accepted_total";
/// Connections closed (counter, by transport).
pub const CONNECTIONS_CLOSED: &str = "bareasgi_connections_closed_total";
/// Connections open now (gauge, by protocol).
pub const CONNECTIONS_OPEN: &str = "bareasgi_connections_open";
/// TLS connections open now (gauge).
pub const TLS_CONNECTIONS_OPEN: &str = "bareasgi_tls_connections_open";
/// Server-sent event streams open now (gauge).
pub const EVENT_STREAMS_OPEN: &str = "bareasgi_event_streams_open";
/// Bytes of server-sent event frames handed to connections (counter).
pub const EVENT_STREAM_BYTES: &str = "bareasgi_event_stream_sent_bytes_total";
/// WebSockets open now (gauge).
pub const WEBSOCKETS_OPEN: &str = "bareasgi_websockets_open";
/// WebSockets upgraded (counter).
pub const WEBSOCKETS_OPENED: &str = "bareasgi_websockets_opened_total";

/// Connections and requests cut by a limit (counter, by limit).
pub const LIMIT_HITS: &str = "bareasgi_limit_hits_total";
/// Handler panics caught (counter, by where: `http`, `websocket`, `body`).
pub const PANICS: &str = "bareasgi_handler_panics_total";

/// Events published (counter, by topic group).
pub const HUB_PUBLISHED: &str = "bareasgi_hub_published_total";
/// Events handed to subscribers (counter, by topic group).
pub const HUB_DELIVERED: &str = "bareasgi_hub_delivered_total";
/// Time from an event's publication to its hand-off to a subscriber's stream (histogram).
pub const HUB_DELIVERY_LAG: &str = "bareasgi_hub_delivery_lag_seconds";
/// Subscribers told they missed events (counter, by topic group).
pub const HUB_MISSED: &str = "bareasgi_hub_missed_total";
/// Broker failures (counter, by operation).
pub const HUB_BROKER_ERRORS: &str = "bareasgi_hub_broker_errors_total";
/// Reconnections of a topic's reader to the broker (counter).
pub const HUB_RECONNECTS: &str = "bareasgi_hub_reconnects_total";
/// Reads of the broker's stream by a subscriber catching up (counter).
pub const HUB_CATCH_UP_READS: &str = "bareasgi_hub_catch_up_reads_total";
/// Round-trip time of a publish to Redis (histogram).
pub const HUB_PUBLISH_DURATION: &str = "bareasgi_hub_publish_duration_seconds";

/// Gives each metric its `# HELP` line and unit.
pub(super) fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Time from a request reaching the application to its response head"
    );
    describe_gauge!(
        ACTIVE_REQUESTS,
        "Requests whose response head is not produced yet"
    );
    describe_histogram!(
        REQUEST_BODY_SIZE,
        Unit::Bytes,
        "Declared size (content-length) of request bodies"
    );
    describe_histogram!(
        RESPONSE_BODY_SIZE,
        Unit::Bytes,
        "Size of response bodies whose length is known when the head is sent"
    );
    describe_counter!(CONNECTIONS_ACCEPTED, "Connections accepted");
    describe_counter!(CONNECTIONS_CLOSED, "Connections closed");
    describe_gauge!(CONNECTIONS_OPEN, "HTTP connections open, by protocol");
    describe_gauge!(TLS_CONNECTIONS_OPEN, "TLS connections open");
    describe_gauge!(EVENT_STREAMS_OPEN, "Server-sent event streams open");
    describe_counter!(
        EVENT_STREAM_BYTES,
        Unit::Bytes,
        "Bytes of server-sent event frames handed to connections"
    );
    describe_gauge!(WEBSOCKETS_OPEN, "WebSockets open");
    describe_counter!(WEBSOCKETS_OPENED, "WebSockets upgraded");
    describe_counter!(LIMIT_HITS, "Connections and requests cut by a limit");
    describe_counter!(PANICS, "Handler panics caught");
    describe_counter!(HUB_PUBLISHED, "Hub events published");
    describe_counter!(HUB_DELIVERED, "Hub events handed to subscribers");
    describe_histogram!(
        HUB_DELIVERY_LAG,
        Unit::Seconds,
        "Time from an event's publication to its hand-off to a subscriber's stream"
    );
    describe_counter!(HUB_MISSED, "Hub subscribers told they missed events");
    describe_counter!(HUB_BROKER_ERRORS, "Hub broker failures");
    describe_counter!(
        HUB_RECONNECTS,
        "Reconnections of a hub topic reader to the broker"
    );
    describe_counter!(
        HUB_CATCH_UP_READS,
        "Reads of the broker's stream by subscribers catching up"
    );
    describe_histogram!(
        HUB_PUBLISH_DURATION,
        Unit::Seconds,
        "Round-trip time of a hub publish to Redis"
    );
}
