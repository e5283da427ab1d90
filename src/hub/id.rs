//! [`EventId`]: a position in a topic, in the format of Redis Stream ids.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The id of a published event: its position in its topic.
///
/// Written `<milliseconds>-<sequence>`, the format of Redis Stream ids, on both back-ends:
/// ids grow with time, so after a restart of an in-memory hub a browser's old
/// `Last-Event-ID` is still older than every new event, and on Redis the same text names the
/// same event on every instance. Ids order as their positions do.
///
/// ```
/// use bareasgi::hub::EventId;
///
/// let id: EventId = "1700000000000-3".parse()?;
/// assert_eq!(id.to_string(), "1700000000000-3");
/// assert!(id < "1700000000001-0".parse()?);
/// assert_eq!("42".parse::<EventId>()?, EventId::new(42, 0)); // as Redis reads it
/// assert!("42-".parse::<EventId>().is_err());
/// # Ok::<(), bareasgi::hub::InvalidEventId>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventId {
    millis: u64,
    sequence: u64,
}

impl EventId {
    /// The position before every event: resuming after it replays all that is kept.
    pub const ZERO: EventId = EventId::new(0, 0);

    /// The id `<millis>-<sequence>`.
    #[must_use]
    pub const fn new(millis: u64, sequence: u64) -> Self {
        Self { millis, sequence }
    }

    /// The milliseconds part: when the event was published (Unix time).
    #[must_use]
    pub fn millis(self) -> u64 {
        self.millis
    }

    /// The sequence part: which event within that millisecond.
    #[must_use]
    pub fn sequence(self) -> u64 {
        self.sequence
    }

    /// The id for an event published now, after `previous` (as Redis assigns them: the
    /// clock in milliseconds, or the previous id's millisecond and the next sequence when the
    /// clock has not moved on or went back).
    pub(crate) fn next_after(previous: EventId) -> EventId {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| {
                u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
            });
        if now > previous.millis {
            EventId::new(now, 0)
        } else {
            EventId::new(previous.millis, previous.sequence.saturating_add(1))
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.millis, self.sequence)
    }
}

impl FromStr for EventId {
    type Err = InvalidEventId;

    /// Parses `<millis>-<sequence>`, or `<millis>` alone (sequence 0), both in decimal.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let number = |part: &str| {
            if part.is_empty() || part.len() > 20 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse::<u64>().ok()
        };
        let parsed = match text.split_once('-') {
            Some((millis, sequence)) => number(millis).zip(number(sequence)),
            None => number(text).map(|millis| (millis, 0)),
        };
        parsed
            .map(|(millis, sequence)| EventId::new(millis, sequence))
            .ok_or(InvalidEventId)
    }
}

/// Text that is not an [`EventId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidEventId;

impl fmt::Display for InvalidEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event id is <milliseconds>-<sequence> in decimal")
    }
}

impl std::error::Error for InvalidEventId {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_order_by_position() {
        for text in ["0-0", "1-2", "1700000000000-18446744073709551615"] {
            assert_eq!(text.parse::<EventId>().unwrap().to_string(), text);
        }
        let ids: Vec<EventId> = ["5-0", "4-9", "5-1", "10-0"]
            .iter()
            .map(|text| text.parse().unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(
            sorted.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["4-9", "5-0", "5-1", "10-0"]
        );
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "-",
            "1-",
            "-1",
            "a-1",
            "1-b",
            "+1-0",
            "1-0-0",
            " 1-0",
            "1 -0",
            "1.5",
            "18446744073709551616-0",
            "99999999999999999999999-0",
        ] {
            assert_eq!(bad.parse::<EventId>(), Err(InvalidEventId), "{bad:?}");
        }
    }

    #[test]
    fn the_next_id_never_goes_back_even_if_the_clock_does() {
        let future = EventId::new(u64::MAX / 2, 7);
        assert_eq!(EventId::next_after(future), EventId::new(u64::MAX / 2, 8));
        let first = EventId::next_after(EventId::ZERO);
        assert!(first > EventId::ZERO);
        assert!(EventId::next_after(first) > first);
    }
}
