//! Topic publish/subscribe with a replay log, in-process or through Redis: event streams
//! that reach every client of every instance, and resume where they left off.
//!
//! ```no_run
//! use bareasgi::hub::Hub;
//! use bareasgi::sse::EventStream;
//! use bareasgi::{Application, HttpError, HttpRequest, IntoResponse};
//!
//! async fn events(req: HttpRequest) -> Result<EventStream, HttpError> {
//!     let hub = req.info.get::<Hub>().expect("set up in main");
//!     // Resolves once the start is fixed, so the client misses nothing published after it
//!     // has the response head; replays what came after the browser's Last-Event-ID, then
//!     // goes live. A HubError is a 503 with retry-after while Redis is down.
//!     let subscription = hub.subscribe("chat", req.last_event_id()).await?;
//!     Ok(EventStream::new(subscription))
//! }
//!
//! async fn post(mut req: HttpRequest) -> Result<impl IntoResponse, HttpError> {
//!     let text = req.text().await?;
//!     let hub = req.info.get::<Hub>().expect("set up in main");
//!     let id = hub.publish("chat", text).await?;
//!     Ok((201, id.to_string()))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), bareasgi::Error> {
//!     let hub = match std::env::var("REDIS_URL") {
//!         # #[cfg(feature = "redis")]
//!         Ok(url) => Hub::redis(&url).expect("a valid Redis URL"),
//!         _ => Hub::memory(),
//!     };
//!     let mut app = Application::new();
//!     app.info.insert(hub);
//!     app.http_router.add(["GET"], "/events", events);
//!     app.http_router.add(["POST"], "/messages", post);
//!     app.serve("127.0.0.1:9009").await
//! }
//! ```
//!
//! # Two back-ends, one API
//! - [`Hub::memory`]: in this process only. Each topic keeps its last
//!   [`history`](HubBuilder::history) events (1,024 by default) for replay, for as long as
//!   the hub lives (topics are not forgotten: name them from a bounded set).
//! - `Hub::redis` (feature `redis`): each topic is a Redis Stream capped near
//!   [`history`](HubBuilder::history) entries (10,000 by default), so events published on
//!   any instance reach the subscribers of every instance, and an event's id is its stream
//!   id: the same `Last-Event-ID` names the same place on every instance. Each instance
//!   reads a topic once (one connection and one blocking `XREAD` per topic with
//!   subscribers, not per subscriber) into a local buffer of the last
//!   [`local_buffer`](HubBuilder::local_buffer) events that all its subscribers share.
//!
//! # Ordering, replay and the seam
//! [`Hub::subscribe`] with a last event id yields every event after it, then the live
//! ones; without one, the events published after it resolved: it resolves only once the
//! subscription's place in the topic is fixed (at once in memory; on Redis when this
//! process's reader of the topic knows where the stream ends, one round trip for a topic's
//! first subscriber here, none after), so an event published after a client saw the
//! response head always reaches it. Every subscriber sees a topic's
//! events in one order (the order of their ids), each once: where replay turns into live
//! delivery, nothing is repeated and nothing is skipped. An id the hub cannot place (not
//! an id, or newer than anything in the topic) starts the subscription at the newest
//! event, after a [`Missed`] event; an id older than the history starts it at the oldest
//! event kept, after a [`Missed`] event.
//!
//! # Slow subscribers: bounded memory
//! A subscriber costs a position, not a queue: every subscriber of an instance shares one
//! copy of each event, encoded once. One that falls more than the local buffer behind
//! catches up from the Redis Stream at its own pace (at most one page of 256 events in
//! hand); on the in-memory hub, or once even the Redis Stream no longer holds where it was,
//! it receives a [`Missed`] event (an SSE event named `missed` whose data is the count, or `unknown`)
//! and goes on from the oldest event kept. Nothing grows without bound.
//!
//! # Faults (Redis)
//! - While Redis is unreachable, [`Hub::subscribe`] for a topic without subscribers in
//!   this process fails after the [`subscribe_timeout`](HubBuilder::subscribe_timeout)
//!   (2 s by default) with a [`HubError`] that answers `503` with `retry-after: 1`: a
//!   browser's `EventSource` tries again by itself.
//! - While Redis is unreachable, [`Hub::publish`] fails within the
//!   [`publish_timeout`](HubBuilder::publish_timeout) (at once when the connection is
//!   refused) with a [`HubError`] that answers `503` with `retry-after: 1`. A publish is
//!   never retried by the hub, so an event is in the stream (and reaches every subscriber)
//!   or is not; a publish that timed out after Redis took it still reaches everyone.
//! - Subscribers stay connected meanwhile (an SSE stream sends its keep-alive comments).
//!   Each topic's reader reconnects with back-off (0.1 s doubling to 2 s) and reads on
//!   from the last id it has, so when Redis is back every subscriber receives what was
//!   added since, in order, nothing twice. What Redis itself lost (a restart without
//!   persistence) is lost: run Redis with AOF (`appendonly yes`) to keep every event whose
//!   publish succeeded.
//! - An instance that dies loses nothing: its clients reconnect to another instance with
//!   `Last-Event-ID` (browsers do it by themselves) and resume from the stream.

mod backoff;
#[cfg(feature = "redis")]
mod commands;
mod error;
mod event;
mod id;
mod log;
mod memory;
#[cfg(feature = "redis")]
mod reader;
#[cfg(feature = "redis")]
mod redis;
mod subscription;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use error::HubError;
pub use event::{Event, Message, Missed};
pub use id::{EventId, InvalidEventId};
pub use subscription::Subscription;

/// A publish/subscribe hub: in-process ([`Hub::memory`]) or through Redis (`Hub::redis`,
/// feature `redis`).
///
/// Cloning it is cheap and every clone is the same hub: keep one in `app.info`.
#[derive(Clone)]
pub struct Hub {
    backend: Arc<Backend>,
    /// How long [`Hub::subscribe`] waits for the subscription's start to be fixed.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    subscribe_timeout: Duration,
}

enum Backend {
    Memory(memory::MemoryHub),
    #[cfg(feature = "redis")]
    Redis(redis::RedisHub),
}

impl Hub {
    /// An in-process hub keeping the last 1,024 events of each topic.
    #[must_use]
    pub fn memory() -> Self {
        Self::builder().memory()
    }

    /// A hub on the Redis at `url` (`redis://host:port/db`, `rediss://` for TLS needs the
    /// redis crate's TLS feature), with the default settings of [`HubBuilder`].
    ///
    /// Nothing connects yet: the hub connects when first used and reconnects by itself, so
    /// an application starts while Redis is down. Redis 6 or later: publishes go over
    /// RESP3, whose connection reports at once that Redis closed it, so the first publish
    /// after a Redis restart goes out on a fresh connection instead of failing on the old one.
    ///
    /// # Errors
    /// When `url` is not a Redis URL.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(url: &str) -> Result<Self, HubError> {
        Self::builder().redis(url)
    }

    /// Settings for a hub other than the defaults.
    pub fn builder() -> HubBuilder {
        HubBuilder::default()
    }

    /// Publishes `data` on `topic` and returns the id it got.
    ///
    /// # Errors
    /// On Redis, when Redis cannot be reached or does not answer within the publish timeout
    /// ([`HubError::is_unavailable`]: a `503` when returned from a handler). The in-memory
    /// hub never fails.
    pub async fn publish(&self, topic: &str, data: impl Into<String>) -> Result<EventId, HubError> {
        let data = data.into().into_boxed_str();
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let published = match &*self.backend {
            Backend::Memory(hub) => Ok(hub.publish(topic, data)),
            #[cfg(feature = "redis")]
            Backend::Redis(hub) => hub.publish(topic, data).await,
        };
        #[cfg(feature = "metrics")]
        crate::telemetry::published(
            topic,
            published.is_ok(),
            self.is_redis().then(|| started.elapsed()),
        );
        published
    }

    /// The events of `topic`: those after `last_event_id` first (for instance
    /// [`HttpRequest::last_event_id`](crate::HttpRequest::last_event_id)), then the live
    /// ones. See the [module documentation](self) for ordering, slow subscribers and faults.
    ///
    /// Resolves once the subscription's start is fixed in the topic's order, so everything
    /// published after it resolved is delivered: a handler that answers with the
    /// subscription only then (as `hub.subscribe(..).await?` does) guarantees a client every
    /// event published after it received the response head.
    ///
    /// # Errors
    /// On Redis, when this process has no reader of `topic` yet and Redis does not tell
    /// where the stream ends within the [subscribe
    /// timeout](HubBuilder::subscribe_timeout) ([`HubError::is_unavailable`]: a `503` with
    /// `retry-after` when returned from a handler). The in-memory hub never fails.
    ///
    /// # Panics
    /// On Redis, outside a tokio runtime: the topic's reader is a task.
    pub async fn subscribe(
        &self,
        topic: &str,
        last_event_id: Option<&str>,
    ) -> Result<Subscription, HubError> {
        let subscription = match &*self.backend {
            Backend::Memory(hub) => hub.subscribe(topic, last_event_id),
            #[cfg(feature = "redis")]
            Backend::Redis(hub) => {
                // `&mut`: a shared borrow held across the wait would need a `Sync` stream.
                let mut subscription = hub.subscribe(topic, last_event_id);
                tokio::time::timeout(self.subscribe_timeout, subscription.ready())
                    .await
                    .map_err(|_| {
                        HubError::unavailable(
                            "Redis did not say where the stream ends within the subscribe timeout",
                        )
                    })?;
                subscription
            }
        };
        #[cfg(feature = "metrics")]
        let subscription = subscription.metered(topic);
        Ok(subscription)
    }

    /// How many topics this process holds: every topic ever used on the in-memory hub; on
    /// Redis, the topics with subscribers here (each with a reader).
    #[must_use]
    pub fn local_topics(&self) -> usize {
        match &*self.backend {
            Backend::Memory(hub) => hub.topic_count(),
            #[cfg(feature = "redis")]
            Backend::Redis(hub) => hub.topic_count(),
        }
    }

    /// Whether the hub goes through Redis.
    #[must_use]
    pub fn is_redis(&self) -> bool {
        !matches!(&*self.backend, Backend::Memory(_))
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = if self.is_redis() { "redis" } else { "memory" };
        f.debug_struct("Hub")
            .field("backend", &backend)
            .field("local_topics", &self.local_topics())
            .finish()
    }
}

/// Settings for a [`Hub`]; finish with [`memory`](Self::memory) or `redis` (feature `redis`).
///
/// ```
/// use std::time::Duration;
/// use bareasgi::hub::Hub;
///
/// let hub = Hub::builder().history(100).memory();
/// # #[cfg(feature = "redis")]
/// let hub = Hub::builder()
///     .history(100_000)
///     .publish_timeout(Duration::from_millis(500))
///     .subscribe_timeout(Duration::from_secs(1))
///     .key_prefix("myapp:events:")
///     .redis("redis://127.0.0.1:6379/")?;
/// # Ok::<(), bareasgi::hub::HubError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct HubBuilder {
    history: Option<usize>,
    local_buffer: usize,
    publish_timeout: Duration,
    subscribe_timeout: Duration,
    key_prefix: String,
}

impl Default for HubBuilder {
    fn default() -> Self {
        Self {
            history: None,
            local_buffer: 1024,
            publish_timeout: Duration::from_secs(1),
            subscribe_timeout: Duration::from_secs(2),
            key_prefix: "bareasgi:hub:".to_owned(),
        }
    }
}

impl HubBuilder {
    /// How many events each topic keeps for subscribers that resume or fall behind: the
    /// in-memory ring's length (default 1,024), or the length Redis trims each stream to,
    /// approximately and never below it (`XADD ... MAXLEN ~`; default 10,000).
    ///
    /// # Panics
    /// When `events` is zero.
    #[track_caller]
    pub fn history(mut self, events: usize) -> Self {
        assert!(events > 0, "a hub's history must keep at least one event");
        self.history = Some(events);
        self
    }

    /// Redis: how many recent events of each topic an instance keeps for its subscribers,
    /// shared by all of them (default 1,024). A subscriber further behind reads from Redis.
    ///
    /// # Panics
    /// When `events` is zero.
    #[track_caller]
    pub fn local_buffer(mut self, events: usize) -> Self {
        assert!(
            events > 0,
            "a hub's local buffer must keep at least one event"
        );
        self.local_buffer = events;
        self
    }

    /// Redis: how long a publish (and a subscriber's read of the stream) waits for Redis
    /// before failing as unavailable (default 1 s).
    ///
    /// # Panics
    /// When `timeout` is zero.
    #[track_caller]
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        assert!(
            !timeout.is_zero(),
            "a hub's publish timeout must be more than zero"
        );
        self.publish_timeout = timeout;
        self
    }

    /// Redis: how long [`Hub::subscribe`] waits for the subscription's start to be fixed
    /// before failing as unavailable (default 2 s). Only a topic's first subscriber in a
    /// process waits (one round trip to Redis); while Redis is down it waits this long.
    ///
    /// # Panics
    /// When `timeout` is zero.
    #[track_caller]
    pub fn subscribe_timeout(mut self, timeout: Duration) -> Self {
        assert!(
            !timeout.is_zero(),
            "a hub's subscribe timeout must be more than zero"
        );
        self.subscribe_timeout = timeout;
        self
    }

    /// Redis: the prefix of the stream keys; a topic `chat` is the stream
    /// `bareasgi:hub:chat` by default.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// An in-process hub.
    #[must_use]
    pub fn memory(self) -> Hub {
        Hub {
            backend: Arc::new(Backend::Memory(memory::MemoryHub::new(
                self.history.unwrap_or(1024),
            ))),
            subscribe_timeout: self.subscribe_timeout,
        }
    }

    /// A hub on the Redis at `url`; see [`Hub::redis`].
    ///
    /// # Errors
    /// When `url` is not a Redis URL.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(self, url: &str) -> Result<Hub, HubError> {
        let settings = redis::Settings {
            history: self.history.unwrap_or(10_000),
            local_buffer: self.local_buffer,
            publish_timeout: self.publish_timeout,
            key_prefix: self.key_prefix,
        };
        Ok(Hub {
            backend: Arc::new(Backend::Redis(redis::RedisHub::new(url, settings)?)),
            subscribe_timeout: self.subscribe_timeout,
        })
    }
}
