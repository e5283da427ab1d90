//! The in-process back-end: each topic is a [`Log`] whose ring is the whole replay history.

use std::sync::{Arc, PoisonError, RwLock};

use rustc_hash::FxHashMap;

use super::id::EventId;
use super::log::Log;
use super::subscription::Subscription;

pub(crate) struct MemoryHub {
    topics: RwLock<FxHashMap<Box<str>, Arc<Log>>>,
    history: usize,
}

impl MemoryHub {
    pub(crate) fn new(history: usize) -> Self {
        Self {
            topics: RwLock::new(FxHashMap::default()),
            history,
        }
    }

    /// The topic's log, made on first use. A topic lives as long as the hub: its history
    /// is what a resuming subscriber replays.
    fn topic(&self, topic: &str) -> Arc<Log> {
        if let Some(log) = self
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(topic)
        {
            return log.clone();
        }
        self.topics
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(topic.into())
            .or_insert_with(|| Arc::new(Log::new(self.history, Some(EventId::ZERO))))
            .clone()
    }

    pub(crate) fn publish(&self, topic: &str, data: Box<str>) -> EventId {
        self.topic(topic).publish(data)
    }

    pub(crate) fn subscribe(&self, topic: &str, last_event_id: Option<&str>) -> Subscription {
        Subscription::new(self.topic(topic), None, last_event_id)
    }

    pub(crate) fn topic_count(&self) -> usize {
        self.topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
