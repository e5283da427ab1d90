//! The Redis back-end: every topic is a Redis Stream (`XADD ... MAXLEN ~ history`), so every
//! instance sees every event under the same id.
//!
//! - Publishing is one `XADD` on the connection the hub's commands share (see
//!   [`super::commands`]), bounded by the publish timeout: while Redis is unreachable it
//!   fails at once (or at the timeout) and the hub never retries it, so an event is in the
//!   stream for every instance or for none. Once Redis is back, the next publish goes out
//!   on a fresh connection: nothing left over from the outage fails it.
//! - Each instance runs one reader task per topic with subscribers (see [`super::reader`]):
//!   a blocking `XREAD` from the last id it has, into the topic's local [`Log`], which all
//!   the instance's subscribers of the topic read. When the last subscriber leaves, the
//!   reader stops and the log is dropped.
//! - A subscriber the local log cannot serve (resuming from an older id, or overtaken by
//!   the log) reads the stream with `XRANGE` on the shared connection until it reaches
//!   the log (see [`super::subscription`]).

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use redis::{RedisError, Value};
use rustc_hash::FxHashMap;
use tokio::task::AbortHandle;

use super::commands::Commands;
use super::error::HubError;
use super::event::Message;
use super::id::EventId;
use super::log::Log;
use super::subscription::{Backfill, Subscription};
use crate::handler::BoxFuture;

/// What a Redis hub is set up with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) history: usize,
    pub(crate) local_buffer: usize,
    pub(crate) publish_timeout: Duration,
    pub(crate) key_prefix: String,
}

pub(crate) struct RedisHub {
    shared: Arc<Shared>,
}

struct Shared {
    /// For the topics' readers, each with a connection of its own.
    client: redis::Client,
    /// The connection publishes and catch-up reads share.
    commands: Commands,
    settings: Settings,
    /// The topics with subscribers in this process, each with its reader.
    topics: Mutex<FxHashMap<Box<str>, Weak<Topic>>>,
}

impl RedisHub {
    /// Parses `url`; nothing connects until first used, so an instance starts while Redis is
    /// down (and answers `503` to publishes).
    pub(crate) fn new(url: &str, settings: Settings) -> Result<Self, HubError> {
        let client = redis::Client::open(url).map_err(HubError::config)?;
        let commands = Commands::new(url, settings.publish_timeout)?;
        Ok(Self {
            shared: Arc::new(Shared {
                client,
                commands,
                settings,
                topics: Mutex::new(FxHashMap::default()),
            }),
        })
    }

    pub(crate) async fn publish(&self, topic: &str, data: Box<str>) -> Result<EventId, HubError> {
        let settings = &self.shared.settings;
        let mut command = redis::cmd("XADD");
        command
            .arg(stream_key(settings, topic))
            .arg("MAXLEN")
            .arg("~")
            .arg(settings.history)
            .arg("*")
            .arg(DATA_FIELD)
            .arg(data.as_bytes());
        let reply = self.shared.commands.run(&command).await?;
        parse_id(&reply).ok_or_else(|| HubError::backend(format!("XADD answered {reply:?}")))
    }

    pub(crate) fn subscribe(&self, topic: &str, last_event_id: Option<&str>) -> Subscription {
        let topic = self.topic(topic);
        let log = topic.log.clone();
        Subscription::new(log, Some(topic), last_event_id)
    }

    pub(crate) fn topic_count(&self) -> usize {
        self.shared
            .topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The topic's local log and reader, started by its first subscriber in this process.
    ///
    /// # Panics
    /// Outside a tokio runtime (the reader is a task).
    fn topic(&self, name: &str) -> Arc<Topic> {
        let shared = &self.shared;
        let mut topics = shared.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(topic) = topics.get(name).and_then(Weak::upgrade) {
            return topic;
        }
        let key = stream_key(&shared.settings, name);
        let log = Arc::new(Log::new(shared.settings.local_buffer, None));
        let reader = tokio::spawn(super::reader::run(
            shared.client.clone(),
            key.clone(),
            log.clone(),
            name.into(),
        ))
        .abort_handle();
        let topic = Arc::new(Topic {
            name: name.into(),
            key,
            log,
            reader,
            hub: shared.clone(),
        });
        topics.insert(name.into(), Arc::downgrade(&topic));
        topic
    }
}

/// A topic with subscribers in this process. The subscribers hold it; the last one to go
/// stops the reader.
struct Topic {
    name: Box<str>,
    key: String,
    log: Arc<Log>,
    reader: AbortHandle,
    hub: Arc<Shared>,
}

impl Drop for Topic {
    fn drop(&mut self) {
        self.reader.abort();
        let mut topics = self
            .hub
            .topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // A new subscriber may already have started the topic again under the same name.
        if topics
            .get(&self.name)
            .is_some_and(|topic| topic.strong_count() == 0)
        {
            topics.remove(&self.name);
        }
    }
}

impl Backfill for Topic {
    fn range(&self, from: EventId, count: usize) -> BoxFuture<'_, Result<Vec<Message>, HubError>> {
        let mut command = redis::cmd("XRANGE");
        command
            .arg(&self.key)
            .arg(from.to_string())
            .arg("+")
            .arg("COUNT")
            .arg(count);
        Box::pin(async move { parse_entries(self.hub.commands.run(&command).await?) })
    }

    fn newest(&self) -> BoxFuture<'_, Result<Option<EventId>, HubError>> {
        let mut command = redis::cmd("XREVRANGE");
        command.arg(&self.key).arg("+").arg("-").arg("COUNT").arg(1);
        Box::pin(async move {
            let reply = self.hub.commands.run(&command).await?;
            Ok(parse_entries(reply)?.first().map(Message::id))
        })
    }
}

/// The stream entry field that holds an event's text.
pub(crate) const DATA_FIELD: &str = "d";

pub(crate) fn stream_key(settings: &Settings, topic: &str) -> String {
    format!("{}{topic}", settings.key_prefix)
}

/// Connection trouble, timeouts and a Redis that is loading or failing over are
/// unavailability (retry later, `503`); an error in what was asked (the key holds another
/// type, a reply that cannot be read) is not.
pub(crate) fn classify(error: RedisError) -> HubError {
    use redis::{ErrorKind, ServerErrorKind};
    match error.kind() {
        ErrorKind::Server(
            ServerErrorKind::ResponseError
            | ServerErrorKind::NoPerm
            | ServerErrorKind::CrossSlot
            | ServerErrorKind::NoScript
            | ServerErrorKind::ExecAbort,
        )
        | ErrorKind::UnexpectedReturnType
        | ErrorKind::InvalidClientConfig
        | ErrorKind::Client => HubError::backend(error),
        _ => HubError::unavailable(error),
    }
}

fn parse_id(value: &Value) -> Option<EventId> {
    match value {
        Value::BulkString(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
        Value::SimpleString(text) => text.parse().ok(),
        _ => None,
    }
}

/// The entries of an `XRANGE`/`XREVRANGE` reply (or of one stream in an `XREAD` reply):
/// `[[id, [field, value, ...]], ...]`.
pub(crate) fn parse_entries(reply: Value) -> Result<Vec<Message>, HubError> {
    let entries = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(entries) => entries,
        other => return Err(unreadable(&other)),
    };
    entries
        .into_iter()
        .map(|entry| {
            let Value::Array(mut parts) = entry else {
                return Err(unreadable(&entry));
            };
            if parts.len() != 2 {
                return Err(HubError::backend("a stream entry is not [id, fields]"));
            }
            let fields = parts.pop().expect("two parts");
            let id = parse_id(&parts[0]).ok_or_else(|| unreadable(&parts[0]))?;
            Ok(Message::new(id, data_of(fields)))
        })
        .collect()
}

/// The event's text: the data field of the entry (an entry some other writer added without
/// one reads as empty; text that is not UTF-8 is repaired).
fn data_of(fields: Value) -> Box<str> {
    let pairs: Vec<(Value, Value)> = match fields {
        Value::Array(flat) => {
            let mut flat = flat.into_iter();
            std::iter::from_fn(|| Some((flat.next()?, flat.next()?))).collect()
        }
        Value::Map(pairs) => pairs,
        _ => Vec::new(),
    };
    for (name, value) in pairs {
        let is_data = matches!(&name, Value::BulkString(name) if name == DATA_FIELD.as_bytes())
            || matches!(&name, Value::SimpleString(name) if name == DATA_FIELD);
        if is_data && let Value::BulkString(bytes) = value {
            return match String::from_utf8(bytes) {
                Ok(text) => text.into_boxed_str(),
                Err(error) => String::from_utf8_lossy(error.as_bytes())
                    .into_owned()
                    .into_boxed_str(),
            };
        }
    }
    Box::from("")
}

fn unreadable(value: &Value) -> HubError {
    HubError::backend(format!("unexpected reply from Redis: {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn stream_entries_are_read_into_messages() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                bulk("5-1"),
                Value::Array(vec![bulk("other"), bulk("x"), bulk("d"), bulk("hello")]),
            ]),
            Value::Array(vec![bulk("6-0"), Value::Array(vec![])]),
            Value::Array(vec![
                bulk("7-0"),
                Value::Array(vec![bulk("d"), Value::BulkString(vec![b'a', 0xff])]),
            ]),
        ]);
        let messages = parse_entries(reply).unwrap();
        let read: Vec<(String, &str)> = messages
            .iter()
            .map(|message| (message.id().to_string(), message.data()))
            .collect();
        assert_eq!(
            read,
            [
                ("5-1".to_owned(), "hello"),
                ("6-0".to_owned(), ""),
                ("7-0".to_owned(), "a\u{fffd}"),
            ]
        );
        assert!(parse_entries(Value::Nil).unwrap().is_empty());
        assert!(parse_entries(Value::Int(3)).is_err());
        assert!(
            parse_entries(Value::Array(vec![Value::Array(vec![
                bulk("x-1"),
                Value::Nil
            ])]))
            .is_err()
        );
    }
}
