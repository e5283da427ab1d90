//! The limits and timeouts an [`Application`](crate::Application) serves with, and their
//! defaults: every one has a setter on `Application`.

use std::time::Duration;

use crate::request::MinDataRate;

/// Limits and timeouts; every one has a setter on
/// [`Application`](crate::Application).
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) body_limit: usize,
    pub(crate) header_read_timeout: Option<Duration>,
    pub(crate) max_header_size: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) max_connections: Option<usize>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) listen_backlog: u32,
    pub(crate) reuse_port: bool,
    #[cfg(feature = "ws")]
    pub(crate) ws_max_message_size: usize,
    pub(crate) body_read_timeout: Option<Duration>,
    pub(crate) min_body_data_rate: Option<MinDataRate>,
    pub(crate) write_stall_timeout: Option<Duration>,
    pub(crate) raise_fd_limit: bool,
    pub(crate) http2: Http2Limits,
    #[cfg(feature = "ws")]
    pub(crate) ws_ping_interval: Option<Duration>,
    #[cfg(feature = "ws")]
    pub(crate) ws_ping_timeout: Duration,
}

/// What one HTTP/2 connection may hold; each has a setter on
/// [`Application`](crate::Application).
#[derive(Debug, Clone)]
pub(crate) struct Http2Limits {
    pub(crate) max_concurrent_streams: u32,
    pub(crate) stream_send_buffer: usize,
    pub(crate) connection_send_buffer: usize,
    pub(crate) keep_alive_interval: Option<Duration>,
    pub(crate) keep_alive_timeout: Duration,
    /// `None`: the header-read timeout.
    pub(crate) idle_timeout: Option<Option<Duration>>,
    /// Advertise `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441): set when the application
    /// has WebSocket routes, the only ones that answer an extended `CONNECT`.
    pub(crate) connect_protocol: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_limit: 2 * 1024 * 1024,
            header_read_timeout: Some(Duration::from_secs(30)),
            max_header_size: 64 * 1024,
            shutdown_timeout: Duration::from_secs(10),
            max_connections: None,
            request_timeout: None,
            listen_backlog: 1024,
            reuse_port: false,
            #[cfg(feature = "ws")]
            ws_max_message_size: 16 * 1024 * 1024,
            body_read_timeout: Some(Duration::from_secs(30)),
            min_body_data_rate: Some(MinDataRate::default()),
            write_stall_timeout: Some(Duration::from_secs(30)),
            raise_fd_limit: true,
            http2: Http2Limits {
                max_concurrent_streams: 100,
                stream_send_buffer: 64 * 1024,
                connection_send_buffer: 1024 * 1024,
                keep_alive_interval: Some(Duration::from_secs(30)),
                keep_alive_timeout: Duration::from_secs(20),
                idle_timeout: None,
                connect_protocol: false,
            },
            #[cfg(feature = "ws")]
            ws_ping_interval: Some(Duration::from_secs(30)),
            #[cfg(feature = "ws")]
            ws_ping_timeout: Duration::from_secs(20),
        }
    }
}
