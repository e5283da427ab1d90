//! [`Subscription`]: a subscriber's way through a topic — replay after its last event id,
//! then live, with no gap and no duplicate where one turns into the other.
//!
//! A subscriber is a position in its topic's local [`Log`] plus `last`, the id of the last
//! message it was given. Replay and live delivery are the same read of the log, and nothing
//! at or before `last` is ever yielded again, so wherever the subscription switches
//! source (from the broker's stream to the local log, or back after falling behind), an
//! event is neither repeated nor skipped.
//!
//! Falling behind: the local log keeps the newest events only. A subscriber overtaken by it
//! (a client that reads more slowly than events arrive) catches up from the broker's stream
//! page by page at the pace it reads, when there is a broker (Redis); the in-memory hub's
//! log is the whole history, so there the subscriber gets [`Missed`] with the count and goes
//! on from the oldest event kept. Memory per subscriber stays bounded either way: a
//! position, and at most one page of events while catching up.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use super::backoff::Backoff;
use super::error::HubError;
use super::event::{Event, Message, Missed};
use super::id::EventId;
use super::log::{Located, Log, Read};
use crate::handler::BoxFuture;

/// How many events one read of the broker's stream fetches while catching up.
pub(crate) const PAGE: usize = 256;

/// How long a subscriber that caught up with the broker waits for the local log to reach it
/// before asking the broker again (the log announces itself sooner when it can).
const RECHECK: Duration = Duration::from_secs(1);

/// The broker's copy of a topic, for subscribers the local log cannot serve.
pub(crate) trait Backfill: Send + Sync + 'static {
    /// Up to `count` events from `from` on, `from` itself included if the broker still has
    /// it.
    fn range(&self, from: EventId, count: usize) -> BoxFuture<'_, Result<Vec<Message>, HubError>>;

    /// The newest id the broker has for the topic, `None` when it has none.
    fn newest(&self) -> BoxFuture<'_, Result<Option<EventId>, HubError>>;
}

/// The events of one topic for one subscriber: a `Stream` of [`Event`]s.
///
/// Made by [`Hub::subscribe`](super::Hub::subscribe); give it to
/// [`EventStream::new`](crate::sse::EventStream::new), or read it with `StreamExt::next`
/// in a WebSocket handler. It ends only with an `Err` the broker will not recover from (its
/// key for the topic holds something other than a stream); while the broker is unreachable
/// it waits, and goes on where it was once the broker is back.
pub struct Subscription {
    events: Pin<Box<dyn Stream<Item = Result<Event, HubError>> + Send>>,
    /// For `ready`: only Redis has a start to wait for.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    log: Arc<Log>,
    #[cfg(feature = "metrics")]
    meter: Option<crate::telemetry::SubscriberMeter>,
}

impl Subscription {
    pub(crate) fn new(
        log: Arc<Log>,
        backfill: Option<Arc<dyn Backfill>>,
        last_event_id: Option<&str>,
    ) -> Self {
        let (end, newest) = log.end();
        let mut cursor = Cursor {
            log: log.clone(),
            backfill,
            position: Position::Live(end),
            last: newest,
            page: VecDeque::new(),
            gap: None,
            retry: Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
            ended: false,
        };
        match last_event_id.map(str::parse::<EventId>) {
            None => {}
            Some(Ok(id)) => {
                cursor.position = Position::Resume(id);
                cursor.last = None;
            }
            Some(Err(_)) => {
                tracing::debug!(last_event_id, "unreadable last event id: starting from now");
                cursor.gap = Some(Missed { count: None });
            }
        }
        // Boxed: `unfold` moves its state into each step's future and back out, and a
        // pointer is cheaper to move than the cursor (once per event per subscriber).
        let events = futures_util::stream::unfold(Box::new(cursor), |mut cursor| async move {
            let item = cursor.next().await?;
            Some((item, cursor))
        });
        Self {
            events: Box::pin(events),
            log,
            #[cfg(feature = "metrics")]
            meter: None,
        }
    }

    /// The subscription with its deliveries counted under `topic`'s group.
    #[cfg(feature = "metrics")]
    pub(crate) fn metered(mut self, topic: &str) -> Self {
        self.meter = crate::telemetry::SubscriberMeter::new(topic);
        self
    }

    /// Waits until the subscription's starting point is fixed in the topic's order: at once
    /// on the in-memory hub, and on Redis when this process's reader of the topic knows
    /// where the stream ends. [`Hub::subscribe`](super::Hub::subscribe) awaits it (bounded
    /// by the subscribe timeout) before handing the subscription out, so no caller sees a
    /// subscription whose start is still open. While Redis is unreachable this waits for it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) async fn ready(&mut self) {
        loop {
            let changed = self.log.notify().notified();
            if self.log.newest().is_some() {
                return;
            }
            changed.await;
        }
    }
}

impl Stream for Subscription {
    type Item = Result<Event, HubError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.events.as_mut().poll_next(cx);
        #[cfg(feature = "metrics")]
        if let (Some(meter), Poll::Ready(Some(Ok(event)))) = (&self.meter, &polled) {
            match event {
                Event::Message(message) => {
                    meter.delivered(message.id().millis(), message.published_at());
                }
                Event::Missed(_) => meter.missed(),
            }
        }
        polled
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy)]
enum Position {
    /// Reading the local log at this position.
    Live(u64),
    /// Placing an id the client sent: it may be unknown, gone, or not this hub's.
    Resume(EventId),
    /// Placing an id known to be in the topic (the last one this subscriber was given).
    After(EventId),
}

struct Cursor {
    log: Arc<Log>,
    backfill: Option<Arc<dyn Backfill>>,
    position: Position,
    /// Nothing at or before this id is yielded (again).
    last: Option<EventId>,
    /// Events fetched from the broker, to yield before reading on.
    page: VecDeque<Message>,
    /// A gap to report before anything else.
    gap: Option<Missed>,
    retry: Backoff,
    ended: bool,
}

/// What a read of the broker's stream found.
enum Fill {
    /// Events to yield (in `page`), maybe after a gap (in `gap`).
    Page,
    /// The broker has nothing after the id: wait for the local log to reach it.
    CaughtUp,
    /// The id is newer than the broker's newest event, or the stream is gone: start live.
    Unknown,
}

impl Cursor {
    fn is_new(&self, id: EventId) -> bool {
        self.last.is_none_or(|last| id > last)
    }

    /// Raises `last` to `id` (it never goes back).
    fn seen(&mut self, id: Option<EventId>) {
        self.last = self.last.max(id);
    }

    async fn next(&mut self) -> Option<Result<Event, HubError>> {
        if self.ended {
            return None;
        }
        loop {
            if let Some(gap) = self.gap.take() {
                return Some(Ok(Event::Missed(gap)));
            }
            while let Some(message) = self.page.pop_front() {
                if self.is_new(message.id()) {
                    self.last = Some(message.id());
                    return Some(Ok(Event::Message(message)));
                }
            }
            match self.position {
                Position::Live(seq) => {
                    // Made before looking, so an append between the look and the wait wakes us.
                    let appended = self.log.notify().notified();
                    match self.log.read_at(seq) {
                        Read::Event(message) => {
                            self.position = Position::Live(seq + 1);
                            if self.is_new(message.id()) {
                                self.last = Some(message.id());
                                return Some(Ok(Event::Message(message)));
                            }
                        }
                        Read::Empty => appended.await,
                        Read::Lagged {
                            missed,
                            first_seq,
                            base,
                        } => {
                            if self.backfill.is_some() {
                                let from = self.last.or(self.log.origin()).unwrap_or(EventId::ZERO);
                                self.position = Position::After(from);
                            } else {
                                self.position = Position::Live(first_seq);
                                self.last = self.last.max(base);
                                self.gap = Some(Missed {
                                    count: Some(missed),
                                });
                            }
                        }
                    }
                }
                Position::Resume(id) | Position::After(id) => {
                    let resuming = matches!(self.position, Position::Resume(_));
                    let log = Arc::clone(&self.log);
                    let appended = log.notify().notified();
                    match log.locate(id) {
                        Located::Exact(seq) => {
                            self.position = Position::Live(seq);
                            self.seen(Some(id));
                        }
                        Located::Between(seq) => {
                            // An id between two events the log holds back to back: no event
                            // ever had it, so the client's id is not from this topic.
                            self.position = Position::Live(seq);
                            self.seen(Some(id));
                            if resuming {
                                self.gap = Some(Missed { count: None });
                            }
                        }
                        Located::Beyond(seq) if !resuming => {
                            // Known to exist: the broker has it and this reader will soon.
                            self.position = Position::Live(seq);
                            self.seen(Some(id));
                        }
                        Located::Beyond(_) | Located::Before if self.backfill.is_some() => {
                            // Boxed: catching up is rare, and inline its state would
                            // make every subscriber's steady-state future several times larger.
                            match Box::pin(self.fill(id, resuming)).await {
                                Ok(Fill::Page) => {}
                                Ok(Fill::CaughtUp) => {
                                    let _ = Box::pin(tokio::time::timeout(RECHECK, appended)).await;
                                }
                                Ok(Fill::Unknown) => self.start_live_with_gap(),
                                Err(error) => {
                                    self.ended = true;
                                    return Some(Err(error));
                                }
                            }
                        }
                        Located::Beyond(_) => {
                            // Newer than any event of this in-memory topic: another hub's id.
                            self.start_live_with_gap();
                        }
                        Located::Before => {
                            // Older than the in-memory history holds.
                            let (first_seq, base) = self.log.start();
                            self.position = Position::Live(first_seq);
                            self.last = base;
                            self.gap = Some(Missed { count: None });
                        }
                    }
                }
            }
        }
    }

    fn start_live_with_gap(&mut self) {
        let (end, newest) = self.log.end();
        self.position = Position::Live(end);
        self.last = newest;
        self.gap = Some(Missed { count: None });
    }

    /// Reads the broker's stream from `id` on into `page`. Waits (with back-off) while the
    /// broker is unreachable; returns only errors that waiting will not mend.
    async fn fill(&mut self, id: EventId, resuming: bool) -> Result<Fill, HubError> {
        let backfill = self
            .backfill
            .clone()
            .expect("fill is only called with a broker");
        #[cfg(feature = "metrics")]
        crate::telemetry::catch_up_read();
        let mut events: VecDeque<Message> = self
            .with_retry(|| backfill.range(id, PAGE + 1))
            .await?
            .into();
        let found = events.front().is_some_and(|message| message.id() == id);
        if found {
            events.pop_front();
        }
        // Nothing can have been before the first position.
        let found = found || id == EventId::ZERO;
        if let Some(newest) = events.back() {
            self.position = Position::After(newest.id());
            self.seen(Some(id));
            self.page = events;
            if !found {
                // The id is gone from the stream (trimmed, or never in it): what came between
                // it and the oldest event kept cannot be counted.
                self.gap = Some(Missed { count: None });
            }
            return Ok(Fill::Page);
        }
        if found {
            self.position = Position::After(id);
            return Ok(Fill::CaughtUp);
        }
        // Nothing at or after the id. If the broker's newest is older, the id is not from
        // this stream (or the stream lost its data); otherwise an event arrived between the
        // two reads, and the next round will find it.
        let newest = self.with_retry(|| backfill.newest()).await?;
        if newest.is_none_or(|newest| newest < id) {
            if resuming {
                tracing::debug!(%id, ?newest, "last event id newer than the topic: starting from now");
            } else {
                tracing::warn!(%id, "the broker's stream lost events this subscriber was reading");
            }
            return Ok(Fill::Unknown);
        }
        Ok(Fill::Page)
    }

    async fn with_retry<'a, T>(
        &mut self,
        call: impl Fn() -> BoxFuture<'a, Result<T, HubError>>,
    ) -> Result<T, HubError> {
        loop {
            match call().await {
                Ok(value) => {
                    self.retry.reset();
                    return Ok(value);
                }
                Err(error) if error.is_unavailable() => {
                    let delay = self.retry.next_delay();
                    tracing::debug!(%error, ?delay, "subscriber waiting for the broker");
                    tokio::time::sleep(delay).await;
                }
                Err(error) => return Err(error),
            }
        }
    }
}
