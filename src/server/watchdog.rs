//! [`Watchdog`]: a connection's idle and write-stall timeouts, kept with one timer.
//!
//! The connection's timer fires every `period` (half the shorter of the two timeouts) and
//! hands the watchdog a [`Sample`] of the connection's [`Activity`](super::activity). Between
//! two samples the connection was
//! - *quiet* when nothing was open at either end, nothing started, and (on HTTP/1.1, where
//!   a long buffered body is still being written after its request ended) nothing was
//!   written, and the socket is not full;
//! - *stalled* when its last write found the socket full at both ends and nothing was
//!   written between: the client read nothing for the whole period.
//!
//! Enough quiet periods in a row to cover the idle timeout close the connection; likewise
//! for stalled periods and the write-stall timeout. A connection is so closed between one
//! timeout and one and a half after it went quiet (or stopped reading).

use std::time::Duration;

use crate::body::in_flight::Sample;

/// The shortest period the timer fires at, however short the timeouts.
const MIN_PERIOD: Duration = Duration::from_millis(1);

#[derive(Debug)]
pub(super) struct Watchdog {
    period: Duration,
    /// Quiet periods in a row that make the connection idle; `None`: never idle.
    idle_after: Option<u32>,
    /// Stalled periods in a row that make the connection stalled; `None`: never.
    stall_after: Option<u32>,
    /// Whether bytes written count as activity for the idle timeout.
    writes_are_activity: bool,
    previous: Sample,
    quiet: u32,
    stalled: u32,
}

/// What the watchdog makes of the latest sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Fine,
    /// Quiet for the whole idle timeout.
    Idle,
    /// The client read nothing for the whole write-stall timeout.
    Stalled,
}

impl Watchdog {
    /// A watchdog for these timeouts, or `None` when both are off.
    pub(super) fn new(
        idle: Option<Duration>,
        write_stall: Option<Duration>,
        writes_are_activity: bool,
    ) -> Option<Self> {
        let shortest = match (idle, write_stall) {
            (None, None) => return None,
            (Some(one), None) | (None, Some(one)) => one,
            (Some(idle), Some(stall)) => idle.min(stall),
        };
        let period = (shortest / 2).max(MIN_PERIOD);
        let periods = |limit: Duration| {
            let count = limit.as_nanos().div_ceil(period.as_nanos()).max(1);
            u32::try_from(count).unwrap_or(u32::MAX)
        };
        Some(Self {
            period,
            idle_after: idle.map(periods),
            stall_after: write_stall.map(periods),
            writes_are_activity,
            previous: Sample::default(),
            quiet: 0,
            stalled: 0,
        })
    }

    /// How often the timer should fire.
    pub(super) fn period(&self) -> Duration {
        self.period
    }

    /// Forgets the quiet and stalled periods counted so far (after a pause in ticking).
    pub(super) fn restart(&mut self, now: Sample) {
        self.previous = now;
        self.quiet = 0;
        self.stalled = 0;
    }

    /// Takes the sample of the timer's latest firing.
    pub(super) fn tick(&mut self, now: Sample) -> Verdict {
        let before = std::mem::replace(&mut self.previous, now);
        let wrote = now.written != before.written;
        let busy = before.open
            || now.open
            || now.started != before.started
            || (self.writes_are_activity && wrote)
            || now.write_blocked;
        let quiet = !busy;
        let stalled = before.write_blocked && now.write_blocked && !wrote;
        self.quiet = if quiet { self.quiet + 1 } else { 0 };
        self.stalled = if stalled { self.stalled + 1 } else { 0 };
        if self.stall_after.is_some_and(|after| self.stalled >= after) {
            Verdict::Stalled
        } else if self.idle_after.is_some_and(|after| self.quiet >= after) {
            Verdict::Idle
        } else {
            Verdict::Fine
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(started: u64, open: bool, written: u64, write_blocked: bool) -> Sample {
        Sample {
            started,
            open,
            written,
            write_blocked,
        }
    }

    fn dog(idle: u64, stall: u64, writes_are_activity: bool) -> Watchdog {
        Watchdog::new(
            Some(Duration::from_secs(idle)),
            Some(Duration::from_secs(stall)),
            writes_are_activity,
        )
        .unwrap()
    }

    #[test]
    fn the_period_is_half_the_shorter_timeout() {
        assert_eq!(dog(30, 10, true).period(), Duration::from_secs(5));
        let only_idle = Watchdog::new(Some(Duration::from_secs(8)), None, true).unwrap();
        assert_eq!(only_idle.period(), Duration::from_secs(4));
        assert!(Watchdog::new(None, None, true).is_none());
    }

    #[test]
    fn a_connection_quiet_for_the_whole_idle_timeout_is_idle() {
        let mut dog = dog(30, 30, true); // period 15 s: two quiet periods
        assert_eq!(dog.tick(sample(1, true, 100, false)), Verdict::Fine);
        assert_eq!(dog.tick(sample(1, false, 200, false)), Verdict::Fine);
        assert_eq!(dog.tick(sample(1, false, 200, false)), Verdict::Fine);
        assert_eq!(dog.tick(sample(1, false, 200, false)), Verdict::Idle);
    }

    #[test]
    fn a_new_request_an_open_one_or_a_write_is_activity() {
        let mut dog = dog(30, 30, true);
        for now in [
            sample(0, false, 0, false),
            sample(1, false, 0, false), // a request came and went
            sample(1, false, 0, false),
            sample(1, true, 0, false), // one is open
            sample(1, false, 0, false),
            sample(1, false, 0, false),
            sample(1, false, 9, false), // a long body still being written
            sample(1, false, 9, false),
        ] {
            assert_eq!(dog.tick(now), Verdict::Fine, "{now:?}");
        }
        assert_eq!(dog.tick(sample(1, false, 9, false)), Verdict::Idle);
    }

    #[test]
    fn over_http2_control_frames_written_do_not_keep_a_connection_alive() {
        let mut dog = dog(30, 30, false);
        assert_eq!(dog.tick(sample(0, false, 40, false)), Verdict::Fine);
        assert_eq!(dog.tick(sample(0, false, 57, false)), Verdict::Idle);
    }

    #[test]
    fn a_socket_full_with_nothing_written_for_the_stall_timeout_is_stalled() {
        let mut dog = dog(30, 10, true); // period 5 s: two stalled periods
        assert_eq!(dog.tick(sample(1, true, 100, true)), Verdict::Fine);
        assert_eq!(dog.tick(sample(1, true, 100, true)), Verdict::Fine);
        assert_eq!(dog.tick(sample(1, true, 100, true)), Verdict::Stalled);
    }

    #[test]
    fn a_slow_reader_is_never_stalled_nor_idle() {
        let mut dog = dog(2, 2, true);
        for written in 1..100 {
            // Full at every sample, but a little was written in between.
            assert_eq!(
                dog.tick(sample(1, false, written, true)),
                Verdict::Fine,
                "after {written}"
            );
        }
    }

    #[test]
    fn restart_forgets_what_was_counted() {
        let mut dog = dog(30, 30, true);
        dog.tick(sample(0, false, 0, false));
        dog.tick(sample(0, false, 0, false));
        dog.restart(sample(0, false, 0, false));
        assert_eq!(dog.tick(sample(0, false, 0, false)), Verdict::Fine);
        assert_eq!(dog.tick(sample(0, false, 0, false)), Verdict::Idle);
    }
}
