//! A Redis topic's reader: one task per topic with subscribers in this process, copying the
//! topic's stream into its local [`Log`] with a blocking `XREAD` from the last id it has.
//!
//! Reading on from the last id is what makes a Redis outage lose nothing: when Redis is
//! back, the reader reconnects (with back-off) and its next `XREAD` returns everything added
//! since, so the local log stays a gap-free copy of the stream and every subscriber simply
//! goes on reading. It has a connection of its own, because a blocking `XREAD` holds its
//! connection until events arrive.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Value};

use super::backoff::Backoff;
use super::error::HubError;
use super::event::Message;
use super::id::EventId;
use super::log::Log;
use super::redis::parse_entries;

/// How long one `XREAD` blocks in Redis; the connection's response timeout is a little
/// longer, so a Redis that vanished without closing the connection is noticed.
const BLOCK: Duration = Duration::from_secs(10);
/// The most events one `XREAD` returns.
const BATCH: usize = 1024;

pub(crate) async fn run(client: redis::Client, key: String, log: Arc<Log>, topic: Box<str>) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    let mut healthy = true;
    loop {
        let Err(error) = read(&client, &key, &log, &mut backoff, &mut healthy, &topic).await;
        #[cfg(feature = "metrics")]
        {
            crate::telemetry::broker_error("read");
            crate::telemetry::reconnect();
        }
        if healthy {
            tracing::warn!(topic = &*topic, %error, "event hub lost Redis; reconnecting");
            healthy = false;
        } else {
            tracing::debug!(topic = &*topic, %error, "event hub still cannot read Redis");
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// One connection's life: returns only when it fails.
async fn read(
    client: &redis::Client,
    key: &str,
    log: &Log,
    backoff: &mut Backoff,
    healthy: &mut bool,
    topic: &str,
) -> Result<Infallible, HubError> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(BLOCK + Duration::from_secs(5)));
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(HubError::unavailable)?;
    if log.newest().is_none() {
        // Where this process starts reading: after the newest event now in the stream.
        let newest = newest(&mut connection, key).await?;
        log.set_base(newest.unwrap_or(EventId::ZERO));
    }
    loop {
        let after = log.newest().expect("the base is set before reading");
        let reply = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(key)
            .arg(after.to_string())
            .query_async::<Value>(&mut connection)
            .await
            .map_err(super::redis::classify)?;
        if !*healthy {
            tracing::info!(
                topic,
                "event hub reconnected to Redis; catching up from {after}"
            );
            *healthy = true;
        }
        backoff.reset();
        let messages = stream_of(reply)?;
        if !messages.is_empty() {
            log.extend(messages);
        }
    }
}

async fn newest(
    connection: &mut MultiplexedConnection,
    key: &str,
) -> Result<Option<EventId>, HubError> {
    let reply = redis::cmd("XREVRANGE")
        .arg(key)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async::<Value>(connection)
        .await
        .map_err(super::redis::classify)?;
    Ok(parse_entries(reply)?.first().map(Message::id))
}

/// The entries of the one stream an `XREAD` asked for: `nil` when it timed out, else
/// `[[key, entries]]` (RESP2) or `{key: entries}` (RESP3).
fn stream_of(reply: Value) -> Result<Vec<Message>, HubError> {
    let entries = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(mut streams) => match streams.pop() {
            Some(Value::Array(mut pair)) if pair.len() == 2 => pair.pop().expect("two parts"),
            _ => return Err(HubError::backend("unexpected XREAD reply")),
        },
        Value::Map(mut streams) => match streams.pop() {
            Some((_key, entries)) => entries,
            None => return Ok(Vec::new()),
        },
        _ => return Err(HubError::backend("unexpected XREAD reply")),
    };
    parse_entries(entries)
}
