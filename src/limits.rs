//! The limits and timeouts an [`Application`](crate::Application) serves with, and their
//! defaults: every one has a setter on `Application`.

use std::time::Duration;

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

/// The slowest a request body may arrive, on average, while the handler waits for it (as
/// Kestrel's `MinRequestBodyDataRate`): once the handler has waited longer than the grace
/// period in all, a body whose bytes so far are fewer than `bytes_per_second` × that time
/// ends the request with [`BodyError::TooSlow`](crate::BodyError::TooSlow) (`408`).
///
/// Only the time the handler spends waiting for data counts, so a handler that reads
/// slowly (writing each chunk to a slow disk, say) never makes its client look slow.
///
/// ```
/// use std::time::Duration;
/// use bareasgi::{Application, MinDataRate};
///
/// let mut app = Application::new();
/// // Clients on slow links: 100 bytes per second after the first 10 seconds.
/// app.min_body_data_rate(Some(MinDataRate::new(100, Duration::from_secs(10))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinDataRate {
    bytes_per_second: u32,
    grace: Duration,
}

impl MinDataRate {
    /// At least `bytes_per_second` on average, checked once the handler has waited for the
    /// body longer than `grace` in all.
    ///
    /// # Panics
    /// When `bytes_per_second` is 0 (turn the check off with `None` instead).
    #[track_caller]
    #[must_use]
    pub const fn new(bytes_per_second: u32, grace: Duration) -> Self {
        assert!(
            bytes_per_second > 0,
            "a minimum data rate of 0 bytes per second checks nothing: pass `None` to turn it off"
        );
        Self {
            bytes_per_second,
            grace,
        }
    }

    /// The minimum average rate, in bytes per second.
    #[must_use]
    pub const fn bytes_per_second(&self) -> u32 {
        self.bytes_per_second
    }

    /// How long the handler may wait for the body before the rate is checked.
    #[must_use]
    pub const fn grace(&self) -> Duration {
        self.grace
    }

    /// How long, in all, a handler may wait for a body of which `received` bytes came.
    pub(crate) fn allowed_wait(&self, received: u64) -> Duration {
        let earned = Duration::from_secs_f64(received as f64 / f64::from(self.bytes_per_second));
        self.grace.max(earned)
    }
}

impl Default for MinDataRate {
    /// 240 bytes per second (Kestrel's rate: a link slower than 2 kbit/s is not a client's
    /// but an attacker's) after 30 seconds of waiting (the body-read timeout's default, where
    /// Kestrel waits 5): a client that pauses on a poor link is given as long as one that
    /// stalls, and a trickle no longer than that.
    fn default() -> Self {
        Self::new(240, Duration::from_secs(30))
    }
}
