//! How fast a request body must come while a handler waits for it: the body-read timeout
//! (no data at all for that long) and the minimum data rate (data that trickles in too
//! slowly to ever end, such as a byte every 20 seconds under a 30-second timeout).

use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The slowest a request body may arrive, on average, while the handler waits for it (as
/// Kestrel's `MinRequestBodyDataRate`): once the handler has waited longer than the grace
/// period in all, a body whose bytes so far are fewer than `bytes_per_second` × that time
/// ends the request with [`BodyError::TooSlow`](crate::BodyError::TooSlow) (`408`).
///
/// Only the time the handler spends waiting for data counts, so a handler that reads
/// slowly (writing each chunk to a slow disk, say) never makes its client look slow.
///
/// ```
/// use std::time::Duration;
/// use bareasgi::{Application, MinDataRate};
///
/// let mut app = Application::new();
/// // Clients on slow links: 100 bytes per second after the first 10 seconds.
/// app.min_body_data_rate(Some(MinDataRate::new(100, Duration::from_secs(10))));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinDataRate {
    bytes_per_second: u32,
    grace: Duration,
}

impl MinDataRate {
    /// At least `bytes_per_second` on average, checked once the handler has waited for the
    /// body longer than `grace` in all.
    ///
    /// # Panics
    /// When `bytes_per_second` is 0 (turn the check off with `None` instead).
    #[track_caller]
    #[must_use]
    pub const fn new(bytes_per_second: u32, grace: Duration) -> Self {
        assert!(
            bytes_per_second > 0,
            "a minimum data rate of 0 bytes per second checks nothing: pass `None` to turn it off"
        );
        Self {
            bytes_per_second,
            grace,
        }
    }

    /// The minimum average rate, in bytes per second.
    #[must_use]
    pub const fn bytes_per_second(&self) -> u32 {
        self.bytes_per_second
    }

    /// How long the handler may wait for the body before the rate is checked.
    #[must_use]
    pub const fn grace(&self) -> Duration {
        self.grace
    }

    /// How long, in all, a handler may wait for a body of which `received` bytes came.
    fn allowed_wait(&self, received: u64) -> Duration {
        let earned = Duration::from_secs_f64(received as f64 / f64::from(self.bytes_per_second));
        self.grace.max(earned)
    }
}

impl Default for MinDataRate {
    /// 240 bytes per second (Kestrel's rate: a link slower than 2 kbit/s is not a client's
    /// but an attacker's) after 30 seconds of waiting (the body-read timeout's default, where
    /// Kestrel waits 5): a client that pauses on a poor link is given as long as one that
    /// stalls, and a trickle no longer than that.
    fn default() -> Self {
        Self::new(240, Duration::from_secs(30))
    }
}

/// The pace a request's body is held to; the application's default, changed per request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BodyPace {
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) min_rate: Option<MinDataRate>,
}

/// Why a body was given up on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TooSlow {
    /// No data for the body-read timeout.
    Stalled(Duration),
    /// Data below the minimum rate.
    BelowRate(MinDataRate),
}

/// Watches a body's pace. No timer is made, and the clock is not read, while data is there
/// whenever the handler asks: only the handler's waits are timed. One timer serves both
/// limits, set for whichever would be broken first.
#[derive(Default)]
pub(crate) struct PaceWatch {
    pace: BodyPace,
    timer: Option<Pin<Box<Sleep>>>,
    /// Data came since the timer was set: it must be set again.
    progressed: bool,
    /// When the current wait for data began.
    waiting_since: Option<Instant>,
    /// The handler's earlier waits, in all.
    waited: Duration,
    received: u64,
    /// Which limit the timer is for.
    armed_for: Option<TooSlow>,
}

impl PaceWatch {
    pub(crate) fn new(pace: BodyPace) -> Self {
        Self {
            pace,
            ..Self::default()
        }
    }

    pub(crate) fn pace(&self) -> BodyPace {
        self.pace
    }

    /// The body yielded a frame with `bytes` of data.
    pub(crate) fn received(&mut self, bytes: usize) {
        self.received += bytes as u64;
        self.progressed = true;
        if let Some(since) = self.waiting_since.take() {
            self.waited += since.elapsed();
        }
    }

    /// The body is pending: whether the handler has now waited too long.
    pub(crate) fn expired(&mut self, cx: &mut Context<'_>) -> Option<TooSlow> {
        if self.pace.read_timeout.is_none() && self.pace.min_rate.is_none() {
            return None;
        }
        if self.timer.is_none() || self.progressed {
            self.progressed = false;
            let now = Instant::now();
            let since = *self.waiting_since.get_or_insert(now);
            let (deadline, reason) = self.deadline(since)?;
            self.armed_for = Some(reason);
            match &mut self.timer {
                Some(timer) => timer.as_mut().reset(deadline),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        let timer = self.timer.as_mut()?;
        if timer.as_mut().poll(cx).is_pending() {
            return None;
        }
        self.armed_for
    }

    /// When a wait that began at `since` breaks a limit first, and which.
    fn deadline(&self, since: Instant) -> Option<(Instant, TooSlow)> {
        let stall = self
            .pace
            .read_timeout
            .map(|timeout| (since + timeout, TooSlow::Stalled(timeout)));
        let rate = self.pace.min_rate.map(|rate| {
            let left = rate.allowed_wait(self.received).saturating_sub(self.waited);
            (since + left, TooSlow::BelowRate(rate))
        });
        match (stall, rate) {
            (Some(stall), Some(rate)) => Some(if rate.0 < stall.0 { rate } else { stall }),
            (stall, rate) => stall.or(rate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(timeout: u64, rate: Option<(u32, u64)>) -> PaceWatch {
        PaceWatch::new(BodyPace {
            read_timeout: Some(Duration::from_secs(timeout)),
            min_rate: rate
                .map(|(bytes, grace)| MinDataRate::new(bytes, Duration::from_secs(grace))),
        })
    }

    #[test]
    fn a_new_wait_is_bounded_by_the_grace_period_when_it_is_the_shorter() {
        let watch = watch(30, Some((240, 5)));
        let now = Instant::now();
        let (deadline, reason) = watch.deadline(now).unwrap();
        assert_eq!(deadline, now + Duration::from_secs(5));
        assert!(matches!(reason, TooSlow::BelowRate(_)));
    }

    #[test]
    fn received_bytes_earn_waiting_time_up_to_the_read_timeout() {
        let mut watch = watch(30, Some((100, 5)));
        watch.received = 1_000; // 10 s at 100 B/s
        watch.waited = Duration::from_secs(4);
        let now = Instant::now();
        let (deadline, reason) = watch.deadline(now).unwrap();
        assert_eq!(deadline, now + Duration::from_secs(6));
        assert!(matches!(reason, TooSlow::BelowRate(_)));

        watch.received = 100_000; // 1,000 s earned: the read timeout comes first
        let (deadline, reason) = watch.deadline(now).unwrap();
        assert_eq!(deadline, now + Duration::from_secs(30));
        assert!(matches!(reason, TooSlow::Stalled(_)));
    }

    #[test]
    fn a_body_already_below_the_rate_has_no_time_left() {
        let mut watch = watch(30, Some((240, 5)));
        watch.received = 10;
        watch.waited = Duration::from_secs(9);
        let now = Instant::now();
        assert_eq!(watch.deadline(now).unwrap().0, now);
    }

    #[test]
    fn without_either_limit_there_is_no_deadline() {
        let watch = PaceWatch::new(BodyPace::default());
        assert!(watch.deadline(Instant::now()).is_none());
    }

    #[test]
    #[should_panic(expected = "pass `None` to turn it off")]
    fn a_zero_rate_is_refused() {
        let _ = MinDataRate::new(0, Duration::from_secs(1));
    }
}
