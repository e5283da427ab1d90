//! What every WebSocket of a running application shares: the protocol configuration, the
//! middlewares, and the shutdown machinery.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::deflate::Deflate;
use super::middleware::WsMiddleware;
use crate::limits::Limits;

pub(crate) struct WsRuntime {
    pub(crate) config: WebSocketConfig,
    /// How often a silent peer is pinged, and how long it has to answer.
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) ping_timeout: Duration,
    /// How long a `send` may wait for a peer that reads nothing.
    pub(crate) write_stall_timeout: Option<Duration>,
    pub(crate) middlewares: Arc<[Arc<dyn WsMiddleware>]>,
    /// permessage-deflate's settings, `None` when it is off.
    pub(crate) deflate: Option<Deflate>,
    /// Cancelled when graceful shutdown begins: open sockets close with 1001.
    pub(crate) shutdown: CancellationToken,
    /// Cancelled when the shutdown timeout runs out: handlers and closing handshakes still
    /// running are dropped.
    pub(crate) hard_stop: CancellationToken,
    /// Handlers and closing handshakes, which outlive the HTTP connection they came from.
    pub(crate) tasks: TaskTracker,
}

impl WsRuntime {
    pub(crate) fn new(
        limits: &Limits,
        middlewares: Vec<Arc<dyn WsMiddleware>>,
        deflate: Option<Deflate>,
        shutdown: CancellationToken,
    ) -> Self {
        let max_message_size = limits.ws_max_message_size;
        let config = WebSocketConfig::default()
            // tungstenite allocates its read buffer up front: 128 KiB by default, which adds
            // up over thousands of mostly idle sockets. Larger messages still arrive whole.
            .read_buffer_size(16 * 1024)
            .max_message_size(Some(max_message_size))
            .max_frame_size(Some(max_message_size));
        Self {
            config,
            ping_interval: limits.ws_ping_interval,
            ping_timeout: limits.ws_ping_timeout,
            write_stall_timeout: limits.write_stall_timeout,
            middlewares: middlewares.into(),
            deflate,
            shutdown,
            hard_stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// After shutdown began: waits up to `timeout` for the handlers and closing handshakes,
    /// then drops what is left.
    pub(crate) async fn drain(&self, timeout: Duration) {
        self.tasks.close();
        if tokio::time::timeout(timeout, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = self.tasks.len(),
                "WebSockets still open after the shutdown timeout; dropping them"
            );
            self.hard_stop.cancel();
            self.tasks.wait().await;
        }
    }
}

impl fmt::Debug for WsRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsRuntime")
            .field("max_message_size", &self.config.max_message_size)
            .field("middlewares", &self.middlewares.len())
            .field("open", &self.tasks.len())
            .finish_non_exhaustive()
    }
}
