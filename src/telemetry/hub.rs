//! The hub's metrics: events published and delivered by topic group, delivery lag, missed
//! events, broker errors, reconnects, catch-up reads and the Redis publish round trip.
//!
//! Topics are labelled by *group*, never by name: topics named per user (`user:42`) would
//! otherwise add a series per user. The default group is the topic's name up to its first
//! `:`, `/` or `.` (`user:42` → `user`, `feed` → `feed`); [`set_topic_groups`] replaces it.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use metrics::{Counter, Histogram, SharedString};

use super::names;

type Grouping = Arc<dyn Fn(&str) -> SharedString + Send + Sync>;

static GROUPS: OnceLock<Grouping> = OnceLock::new();

/// Sets how the hub's metrics label a topic: `group` maps a topic's name to a label from a
/// small, fixed set (each distinct label is a time series in Prometheus). The first call
/// wins; call it before the hub is used.
///
/// ```
/// // Per-room topics ("room-17") share one label; the rest are "other".
/// bareasgi::metrics::set_topic_groups(|topic: &str| {
///     if topic.starts_with("room-") { "rooms" } else { "other" }
/// });
/// ```
pub fn set_topic_groups<F, L>(group: F)
where
    F: Fn(&str) -> L + Send + Sync + 'static,
    L: Into<SharedString>,
{
    let grouping: Grouping = Arc::new(move |topic| group(topic).into());
    if GROUPS.set(grouping).is_err() {
        tracing::warn!("the hub's topic groups were already set; keeping the first");
    }
}

/// The label of `topic`'s group.
fn group_of(topic: &str) -> SharedString {
    match GROUPS.get() {
        Some(group) => group(topic),
        None => {
            let end = topic.find([':', '/', '.']).unwrap_or(topic.len());
            topic[..end].to_owned().into()
        }
    }
}

/// Counts a publish on `topic` that succeeded (`ok`) or failed at the broker, and on Redis
/// (`round_trip`) its duration.
pub(crate) fn published(topic: &str, ok: bool, round_trip: Option<Duration>) {
    if !super::enabled() {
        return;
    }
    if ok {
        metrics::counter!(names::HUB_PUBLISHED, "group" => group_of(topic)).increment(1);
    } else {
        broker_error("publish");
    }
    if let Some(round_trip) = round_trip {
        metrics::histogram!(names::HUB_PUBLISH_DURATION).record(round_trip.as_secs_f64());
    }
}

/// Counts a broker failure in `operation` (`publish`, `read`, `catch_up`).
pub(crate) fn broker_error(operation: &'static str) {
    if super::enabled() {
        metrics::counter!(names::HUB_BROKER_ERRORS, "operation" => operation).increment(1);
    }
}

/// Counts a topic reader reconnecting to the broker.
#[cfg(feature = "redis")]
pub(crate) fn reconnect() {
    if super::enabled() {
        metrics::counter!(names::HUB_RECONNECTS).increment(1);
    }
}

/// Counts a read of the broker's stream by a subscriber catching up.
pub(crate) fn catch_up_read() {
    if super::enabled() {
        metrics::counter!(names::HUB_CATCH_UP_READS).increment(1);
    }
}

/// One subscription's handles, looked up once when it starts so that each event costs an
/// atomic add and a histogram sample.
#[derive(Debug)]
pub(crate) struct SubscriberMeter {
    delivered: Counter,
    lag: Histogram,
    missed: Counter,
}

impl SubscriberMeter {
    /// The meter of a subscription to `topic`, or `None` when metrics are off.
    pub(crate) fn new(topic: &str) -> Option<Self> {
        if !super::enabled() {
            return None;
        }
        let group = group_of(topic);
        Some(Self {
            delivered: metrics::counter!(names::HUB_DELIVERED, "group" => group.clone()),
            lag: metrics::histogram!(names::HUB_DELIVERY_LAG, "group" => group.clone()),
            missed: metrics::counter!(names::HUB_MISSED, "group" => group),
        })
    }

    /// An event handed to the subscriber's stream now: published at `published_millis`
    /// (Unix time, the millisecond part of its id), or at `published_here` when this
    /// process published it (a monotonic clock, finer than the id's millisecond).
    pub(crate) fn delivered(&self, published_millis: u64, published_here: Option<Instant>) {
        self.delivered.increment(1);
        let lag = match published_here {
            Some(published) => published.elapsed(),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .saturating_sub(Duration::from_millis(published_millis)),
        };
        self.lag.record(lag.as_secs_f64());
    }

    /// The subscriber was told it missed events.
    pub(crate) fn missed(&self) {
        self.missed.increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::group_of;

    /// Per-user topics must not become a series each: the default group stops at the
    /// first separator.
    #[test]
    fn the_default_group_is_the_topic_up_to_its_first_separator() {
        assert_eq!(&*group_of("user:42"), "user");
        assert_eq!(&*group_of("rooms/17/chat"), "rooms");
        assert_eq!(&*group_of("prices.eur"), "prices");
        assert_eq!(&*group_of("feed"), "feed");
    }
}
