//! [`Commands`]: the one Redis connection a hub's publishes and catch-up reads share, which
//! is never used once Redis has closed it.
//!
//! Why not the redis crate's `ConnectionManager`: it learns that a connection is gone when
//! a command fails on it, or (over RESP3) by reconnecting at once, and a reconnection that
//! failed (Redis still down, or going down: `Connection refused`, `Connection reset`) is
//! kept and handed to the next command, which fails with it. So the first publish after
//! Redis came back answered `503` even seconds later, and whether that command had reached
//! Redis could not be told from its error. Here the connection speaks RESP3, whose
//! connection task reports the moment Redis closes it; a command asks for the connection
//! and gets the live one, or a fresh one made then. A failed connection attempt is not
//! kept: the next command tries again. A command is sent once and never retried: when its
//! connection breaks after it went out, Redis may have run it (a retried `XADD` would store
//! the event twice).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Cmd, IntoConnectionInfo, ProtocolVersion, PushKind, Value};

use super::error::HubError;

/// The shared connection, made on first use and again whenever Redis closed it.
pub(crate) struct Commands {
    /// The hub's Redis over RESP3, the protocol that reports a closed connection.
    client: redis::Client,
    timeout: Duration,
    /// The connection and whether it is still open. Locked while connecting, so that many
    /// commands at once after an outage make one connection, not one each.
    current: tokio::sync::Mutex<Option<Live>>,
}

struct Live {
    connection: MultiplexedConnection,
    open: Arc<AtomicBool>,
}

impl Commands {
    /// Commands to the Redis at `url`, each bounded by `timeout` (connecting included).
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Self, HubError> {
        let info = url.into_connection_info().map_err(HubError::config)?;
        let resp3 = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client =
            redis::Client::open(info.set_redis_settings(resp3)).map_err(HubError::config)?;
        Ok(Self {
            client,
            timeout,
            current: tokio::sync::Mutex::new(None),
        })
    }

    /// Sends `command` once and returns Redis's answer. A connection that broke under it (or
    /// did not answer in time) is replaced for the next command.
    ///
    /// # Errors
    /// Unavailable when no connection can be made or the answer does not come within the
    /// timeout; what [`classify`](super::redis::classify) makes of Redis's own errors.
    pub(crate) async fn run(&self, command: &Cmd) -> Result<Value, HubError> {
        let attempt = async {
            let (mut connection, open) = self.connection().await?;
            let reply = command.query_async::<Value>(&mut connection).await;
            if let Err(error) = &reply
                && (error.is_unrecoverable_error() || error.is_timeout())
            {
                // Broken under this command (or silent): the next one makes a new connection.
                open.store(false, Ordering::Release);
            }
            reply.map_err(super::redis::classify)
        };
        tokio::time::timeout(self.timeout, attempt)
            .await
            .map_err(|_| HubError::unavailable("Redis did not answer within the timeout"))?
    }

    /// The open connection, or a new one when there is none or Redis closed it.
    async fn connection(&self) -> Result<(MultiplexedConnection, Arc<AtomicBool>), HubError> {
        let mut current = self.current.lock().await;
        if let Some(live) = &*current
            && live.open.load(Ordering::Acquire)
        {
            return Ok((live.connection.clone(), live.open.clone()));
        }
        let open = Arc::new(AtomicBool::new(true));
        let closed = open.clone();
        // Called by the connection's task as it ends: Redis closed the connection, or it
        // broke under a command.
        let on_push = move |push: redis::PushInfo| {
            if push.kind == PushKind::Disconnection {
                closed.store(false, Ordering::Release);
            }
            Ok::<(), std::convert::Infallible>(())
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_push_sender(on_push);
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(HubError::unavailable)?;
        if current.is_some() {
            tracing::info!("event hub reconnected to Redis for commands");
        }
        *current = Some(Live {
            connection: connection.clone(),
            open: open.clone(),
        });
        Ok((connection, open))
    }
}
