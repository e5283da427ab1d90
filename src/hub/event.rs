//! What a subscription yields: [`Event::Message`]s, each shared by every subscriber, and
//! [`Event::Missed`] when a subscriber could not be given everything.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use super::id::EventId;
use crate::error::BoxError;
use crate::sse::{self, IntoEvent};

/// An item of a [`Subscription`](super::Subscription).
///
/// Hand a subscription to [`EventStream::new`](crate::sse::EventStream::new) as it is: a
/// message becomes `id: <id>` and its `data:` lines (so the browser's `EventSource` resumes
/// by itself after a reconnect), and a gap becomes an event named `missed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A published message.
    Message(Message),
    /// Events this subscriber will never see: see [`Missed`].
    Missed(Missed),
}

impl Event {
    /// The message's id, `None` for [`Event::Missed`].
    #[must_use]
    pub fn id(&self) -> Option<EventId> {
        match self {
            Event::Message(message) => Some(message.id()),
            Event::Missed(_) => None,
        }
    }

    /// The message's text, `None` for [`Event::Missed`].
    #[must_use]
    pub fn data(&self) -> Option<&str> {
        match self {
            Event::Message(message) => Some(message.data()),
            Event::Missed(_) => None,
        }
    }
}

/// A published message: its id and its text. Cloning it is cheap: every subscriber of an
/// instance shares one copy, and its server-sent-event encoding is made once for all of
/// them.
#[derive(Clone)]
pub struct Message(Arc<Shared>);

struct Shared {
    id: EventId,
    data: Box<str>,
    frame: OnceLock<Bytes>,
    /// When it was published in this process, for the delivery-lag metric (to the
    /// microsecond, where the id's time is to the millisecond); `None` when read from the
    /// broker.
    #[cfg(feature = "metrics")]
    published_here: Option<std::time::Instant>,
}

impl Message {
    /// A message read from the broker.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn new(id: EventId, data: Box<str>) -> Self {
        Self(Arc::new(Shared {
            id,
            data,
            frame: OnceLock::new(),
            #[cfg(feature = "metrics")]
            published_here: None,
        }))
    }

    /// A message published in this process now.
    pub(crate) fn published_here(id: EventId, data: Box<str>) -> Self {
        Self(Arc::new(Shared {
            id,
            data,
            frame: OnceLock::new(),
            #[cfg(feature = "metrics")]
            published_here: crate::telemetry::enabled().then(std::time::Instant::now),
        }))
    }

    #[cfg(feature = "metrics")]
    pub(crate) fn published_at(&self) -> Option<std::time::Instant> {
        self.0.published_here
    }

    /// The id the hub gave the message when it was published.
    #[must_use]
    pub fn id(&self) -> EventId {
        self.0.id
    }

    /// The text published.
    #[must_use]
    pub fn data(&self) -> &str {
        &self.0.data
    }

    /// The message as a server-sent event: its data, with its id as the event id.
    #[must_use]
    pub fn to_sse(&self) -> sse::Event {
        sse::Event::data(&*self.0.data).id(self.0.id)
    }

    /// The encoded server-sent event, made by the first subscriber that needs it.
    fn frame(&self) -> Bytes {
        self.0.frame.get_or_init(|| self.to_sse().encode()).clone()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id && self.0.data == other.0.data
    }
}

impl Eq for Message {}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.0.id)
            .field("data", &self.0.data)
            .finish()
    }
}

/// A gap in a subscription: events it skipped because they are no longer kept.
///
/// A subscriber that falls behind first catches up from the topic's history (the Redis
/// Stream, or the in-memory ring); only events older than the history holds are skipped,
/// and then the subscription goes on from the oldest event still kept. Resuming from an id
/// the history no longer holds (or never held) gives one too.
///
/// As a server-sent event it is `event: missed` with the count as data (`unknown` when
/// the hub cannot tell), and no id, so the browser keeps the id of the last message it saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missed {
    pub(crate) count: Option<u64>,
}

impl Missed {
    /// How many events were skipped, when the hub can tell: it can when a live subscriber
    /// was overtaken by the in-memory history, not when it resumes from an id that is gone.
    #[must_use]
    pub fn count(&self) -> Option<u64> {
        self.count
    }

    /// The gap as a server-sent event named `missed`.
    #[must_use]
    pub fn to_sse(&self) -> sse::Event {
        // Not empty when unknown: some clients drop events whose data is empty.
        let count = self
            .count
            .map_or_else(|| "unknown".to_owned(), |count| count.to_string());
        sse::Event::data(count).event("missed")
    }
}

impl From<Event> for sse::Event {
    fn from(event: Event) -> Self {
        match event {
            Event::Message(message) => message.to_sse(),
            Event::Missed(missed) => missed.to_sse(),
        }
    }
}

impl IntoEvent for Event {
    fn into_event(self) -> Result<sse::Event, BoxError> {
        Ok(self.into())
    }

    fn into_frame(self) -> Result<Bytes, BoxError> {
        Ok(match self {
            Event::Message(message) => message.frame(),
            Event::Missed(missed) => missed.to_sse().encode(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_encoded_once_with_its_id() {
        let message = Message::new(EventId::new(17, 2), "two\nlines".into());
        let frame = Event::Message(message.clone()).into_frame().unwrap();
        assert_eq!(frame, "id: 17-2\ndata: two\ndata: lines\n\n");
        // The second subscriber gets the same buffer, not a new encoding.
        let again = Event::Message(message).into_frame().unwrap();
        assert_eq!(frame.as_ptr(), again.as_ptr());
    }

    #[test]
    fn a_gap_is_a_missed_event_without_an_id() {
        let known = Event::Missed(Missed { count: Some(3) })
            .into_frame()
            .unwrap();
        assert_eq!(known, "event: missed\ndata: 3\n\n");
        let unknown = Event::Missed(Missed { count: None }).into_frame().unwrap();
        assert_eq!(unknown, "event: missed\ndata: unknown\n\n");
    }
}
