//! [`Log`]: one topic's recent events in this process, which every local subscriber reads.
//!
//! A bounded ring of shared [`Message`]s, numbered by position (`seq`), and one `Notify`
//! that wakes the subscribers waiting at its end. A subscriber is only a position in it, so
//! fan-out costs no copy and no buffer per subscriber, and replay and live delivery are the
//! same read: there is no seam between them. A subscriber whose position was overwritten
//! has fallen behind by more than the ring holds; what happens then is the subscription's
//! policy (see [`super::subscription`]).

use std::collections::VecDeque;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::Notify;

use super::event::Message;
use super::id::EventId;

pub(crate) struct Log {
    ring: RwLock<Ring>,
    notify: Notify,
}

struct Ring {
    entries: VecDeque<Message>,
    /// The position of `entries[0]`.
    first_seq: u64,
    capacity: usize,
    /// The id just before `entries[0]` in the topic: every event after it is in `entries` or
    /// still to be appended. `None` until known (a Redis topic's reader has not started).
    base: Option<EventId>,
    /// `base` when it became known, the id before position 0.
    origin: Option<EventId>,
}

/// Where an id falls in the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Located {
    /// The id is the base or in the ring: read on from `seq`.
    Exact(u64),
    /// The id is within the ring's span but no event has it: read on from `seq`.
    Between(u64),
    /// The id is after the newest event in the ring: read on from `seq`, the end.
    Beyond(u64),
    /// The id is before the ring's span, or the span is not known yet.
    Before,
}

/// The outcome of reading at a position.
pub(crate) enum Read {
    /// The event at the position; the next one is at `next`.
    Event(Message),
    /// Nothing at the position yet.
    Empty,
    /// The position was overwritten: `missed` events are gone, the oldest kept is at
    /// `first_seq`, and `base` is the id before it.
    Lagged {
        missed: u64,
        first_seq: u64,
        base: Option<EventId>,
    },
}

impl Log {
    /// A ring of `capacity` events whose span starts after `base` (`None`: not known yet).
    pub(crate) fn new(capacity: usize, base: Option<EventId>) -> Self {
        assert!(capacity > 0, "a topic must keep at least one event");
        Self {
            ring: RwLock::new(Ring {
                entries: VecDeque::with_capacity(capacity.min(1024)),
                first_seq: 0,
                capacity,
                base,
                origin: base,
            }),
            notify: Notify::new(),
        }
    }

    pub(crate) fn notify(&self) -> &Notify {
        &self.notify
    }

    // A panic while holding the lock cannot leave the ring half-changed (every change is a
    // push, a pop and counters), so a poisoned lock is used as it is.
    fn read(&self) -> RwLockReadGuard<'_, Ring> {
        self.ring.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Ring> {
        self.ring.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event with the next id, and wakes the subscribers. Used by the in-memory
    /// hub, whose ring is the topic itself.
    pub(crate) fn publish(&self, data: Box<str>) -> EventId {
        let id = {
            let mut ring = self.write();
            let id = EventId::next_after(ring.newest().unwrap_or(EventId::ZERO));
            ring.push(Message::published_here(id, data));
            id
        };
        self.notify.notify_waiters();
        id
    }

    /// Appends events read from the broker (in order, each newer than the last), and wakes
    /// the subscribers once.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn extend(&self, messages: impl IntoIterator<Item = Message>) {
        {
            let mut ring = self.write();
            for message in messages {
                if ring.newest().is_some_and(|newest| message.id() <= newest) {
                    continue;
                }
                ring.push(message);
            }
        }
        self.notify.notify_waiters();
    }

    /// Sets the base once it is known: the broker's newest id when this process started
    /// reading the topic.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn set_base(&self, base: EventId) {
        {
            let mut ring = self.write();
            if ring.base.is_none() {
                ring.base = Some(base);
                ring.origin = Some(base);
            }
        }
        self.notify.notify_waiters();
    }

    /// The newest id this process has for the topic: the last event, or the base.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn newest(&self) -> Option<EventId> {
        self.read().newest()
    }

    /// The position after the newest event, and the newest id.
    pub(crate) fn end(&self) -> (u64, Option<EventId>) {
        let ring = self.read();
        (ring.next_seq(), ring.newest())
    }

    /// The oldest position kept, and the id before it.
    pub(crate) fn start(&self) -> (u64, Option<EventId>) {
        let ring = self.read();
        (ring.first_seq, ring.base)
    }

    /// The id before position 0.
    pub(crate) fn origin(&self) -> Option<EventId> {
        self.read().origin
    }

    pub(crate) fn locate(&self, id: EventId) -> Located {
        let ring = self.read();
        let Some(base) = ring.base else {
            return Located::Before;
        };
        if id < base {
            return Located::Before;
        }
        if id == base {
            return Located::Exact(ring.first_seq);
        }
        let at = ring.entries.partition_point(|message| message.id() < id);
        let seq = ring.first_seq + at as u64;
        match ring.entries.get(at) {
            Some(message) if message.id() == id => Located::Exact(seq + 1),
            Some(_) => Located::Between(seq),
            None => Located::Beyond(seq),
        }
    }

    pub(crate) fn read_at(&self, seq: u64) -> Read {
        let ring = self.read();
        if seq < ring.first_seq {
            return Read::Lagged {
                missed: ring.first_seq - seq,
                first_seq: ring.first_seq,
                base: ring.base,
            };
        }
        match usize::try_from(seq - ring.first_seq)
            .ok()
            .and_then(|index| ring.entries.get(index))
        {
            Some(message) => Read::Event(message.clone()),
            None => Read::Empty,
        }
    }
}

impl Ring {
    fn next_seq(&self) -> u64 {
        self.first_seq + self.entries.len() as u64
    }

    fn newest(&self) -> Option<EventId> {
        self.entries.back().map(Message::id).or(self.base)
    }

    fn push(&mut self, message: Message) {
        if self.entries.len() == self.capacity
            && let Some(oldest) = self.entries.pop_front()
        {
            self.base = Some(oldest.id());
            self.first_seq += 1;
        }
        self.entries.push_back(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(log: &Log, from: u64) -> Vec<String> {
        let mut seq = from;
        let mut out = Vec::new();
        while let Read::Event(message) = log.read_at(seq) {
            out.push(message.id().to_string());
            seq += 1;
        }
        out
    }

    #[test]
    fn the_ring_keeps_the_newest_and_reports_what_a_slow_reader_lost() {
        let log = Log::new(3, Some(EventId::ZERO));
        let published: Vec<EventId> = (0..5).map(|n| log.publish(n.to_string().into())).collect();
        assert!(published.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(log.start(), (2, Some(published[1])));
        assert_eq!(log.end(), (5, Some(published[4])));
        match log.read_at(0) {
            Read::Lagged {
                missed, first_seq, ..
            } => assert_eq!((missed, first_seq), (2, 2)),
            _ => panic!("position 0 was overwritten"),
        }
        assert_eq!(ids(&log, 2).len(), 3);
        assert!(matches!(log.read_at(5), Read::Empty));
    }

    #[test]
    fn ids_are_located_relative_to_the_ring() {
        let log = Log::new(2, None);
        assert_eq!(log.locate(EventId::new(5, 0)), Located::Before);
        log.set_base(EventId::new(10, 0));
        log.extend([
            Message::new(EventId::new(11, 0), "a".into()),
            Message::new(EventId::new(13, 0), "b".into()),
            Message::new(EventId::new(12, 0), "older than the newest: dropped".into()),
        ]);
        assert_eq!(log.end().0, 2);
        assert_eq!(log.locate(EventId::new(9, 0)), Located::Before);
        assert_eq!(log.locate(EventId::new(10, 0)), Located::Exact(0));
        assert_eq!(log.locate(EventId::new(11, 0)), Located::Exact(1));
        assert_eq!(log.locate(EventId::new(12, 0)), Located::Between(1));
        assert_eq!(log.locate(EventId::new(13, 0)), Located::Exact(2));
        assert_eq!(log.locate(EventId::new(14, 0)), Located::Beyond(2));
        log.extend([Message::new(EventId::new(15, 0), "c".into())]);
        // 11 was pushed out: the base moved to it, and 10 is now before the ring.
        assert_eq!(log.locate(EventId::new(10, 0)), Located::Before);
        assert_eq!(log.locate(EventId::new(11, 0)), Located::Exact(1));
        assert_eq!(log.origin(), Some(EventId::new(10, 0)));
    }
}
