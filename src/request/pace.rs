//! How fast a request body must come while a handler waits for it: the body-read timeout
//! (no data at all for that long) and the minimum data rate (data that trickles in too
//! slowly to ever end, such as a byte every 20 seconds under a 30-second timeout).

use std::cell::Cell;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

pub use crate::limits::MinDataRate;

/// The pace a request's body is held to; the application's default, changed per request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BodyPace {
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) min_rate: Option<MinDataRate>,
}

thread_local! {
    /// Whether a body that holds the request to its pace is polling the body inside it
    /// (see [`PaceWatch::watch_inside`]).
    static WATCHED_FROM_OUTSIDE: Cell<bool> = const { Cell::new(false) };
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
///
/// It rides in every request (inside `HttpRequest`, moved several times per request), so
/// what only a waiting handler needs is boxed, made at its first wait.
#[derive(Default)]
pub(crate) struct PaceWatch {
    pace: BodyPace,
    received: u64,
    wait: Option<Pin<Box<Wait>>>,
    /// Data came since the timer was set: it must be set again.
    progressed: bool,
    /// Whether this watch holds the request to a pace, even one with no limits (a
    /// handler's `None`), over any body inside it.
    governs: bool,
}

pin_project_lite::pin_project! {
    /// The timing of the handler's waits for data.
    struct Wait {
        #[pin]
        timer: Sleep,
        // When the current wait for data began.
        waiting_since: Option<Instant>,
        // The handler's earlier waits, in all.
        waited: Duration,
        // Which limit the timer is for.
        armed_for: Option<TooSlow>,
    }
}

impl PaceWatch {
    pub(crate) fn new(pace: BodyPace) -> Self {
        Self {
            pace,
            governs: true,
            ..Self::default()
        }
    }

    /// Polls the body inside this one with `poll`. When this watch governs, a request body
    /// inside (the one the tower layers read, under the application's pace, wrapped by a
    /// layer such as tower-http's `RequestBodyLimitLayer`) leaves the timing to it, so the
    /// handler's limits are the ones that count.
    pub(crate) fn watch_inside<T>(&self, poll: impl FnOnce() -> T) -> T {
        if !self.governs {
            return poll();
        }
        /// Puts the flag back, even when `poll` panics.
        struct Restore(bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                WATCHED_FROM_OUTSIDE.set(self.0);
            }
        }
        let _restore = Restore(WATCHED_FROM_OUTSIDE.replace(true));
        poll()
    }

    pub(crate) fn pace(&self) -> BodyPace {
        self.pace
    }

    /// The body yielded a frame with `bytes` of data.
    pub(crate) fn received(&mut self, bytes: usize) {
        self.received += bytes as u64;
        self.progressed = true;
        if let Some(wait) = &mut self.wait {
            let wait = wait.as_mut().project();
            if let Some(since) = wait.waiting_since.take() {
                *wait.waited += since.elapsed();
            }
        }
    }

    /// The body is pending: whether the handler has now waited too long.
    pub(crate) fn expired(&mut self, cx: &mut Context<'_>) -> Option<TooSlow> {
        if self.pace.read_timeout.is_none() && self.pace.min_rate.is_none() {
            return None;
        }
        if WATCHED_FROM_OUTSIDE.get() {
            return None;
        }
        if self.wait.is_none() || self.progressed {
            self.progressed = false;
            let now = Instant::now();
            let (since, waited) = match &mut self.wait {
                Some(wait) => {
                    let wait = wait.as_mut().project();
                    (*wait.waiting_since.get_or_insert(now), *wait.waited)
                }
                None => (now, Duration::ZERO),
            };
            let (deadline, reason) = self.deadline(since, waited)?;
            match &mut self.wait {
                Some(wait) => {
                    let wait = wait.as_mut().project();
                    wait.timer.reset(deadline);
                    *wait.armed_for = Some(reason);
                }
                None => {
                    self.wait = Some(Box::pin(Wait {
                        timer: tokio::time::sleep_until(deadline),
                        waiting_since: Some(since),
                        waited,
                        armed_for: Some(reason),
                    }));
                }
            }
        }
        let wait = self.wait.as_mut()?.as_mut().project();
        if wait.timer.poll(cx).is_pending() {
            return None;
        }
        *wait.armed_for
    }

    /// When a wait that began at `since`, after earlier waits of `waited` in all, breaks a
    /// limit first, and which.
    fn deadline(&self, since: Instant, waited: Duration) -> Option<(Instant, TooSlow)> {
        let stall = self
            .pace
            .read_timeout
            .map(|timeout| (since + timeout, TooSlow::Stalled(timeout)));
        let rate = self.pace.min_rate.map(|rate| {
            let left = rate.allowed_wait(self.received).saturating_sub(waited);
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
        let (deadline, reason) = watch.deadline(now, Duration::ZERO).unwrap();
        assert_eq!(deadline, now + Duration::from_secs(5));
        assert!(matches!(reason, TooSlow::BelowRate(_)));
    }

    #[test]
    fn received_bytes_earn_waiting_time_up_to_the_read_timeout() {
        let mut watch = watch(30, Some((100, 5)));
        watch.received = 1_000; // 10 s at 100 B/s
        let waited = Duration::from_secs(4);
        let now = Instant::now();
        let (deadline, reason) = watch.deadline(now, waited).unwrap();
        assert_eq!(deadline, now + Duration::from_secs(6));
        assert!(matches!(reason, TooSlow::BelowRate(_)));

        watch.received = 100_000; // 1,000 s earned: the read timeout comes first
        let (deadline, reason) = watch.deadline(now, waited).unwrap();
        assert_eq!(deadline, now + Duration::from_secs(30));
        assert!(matches!(reason, TooSlow::Stalled(_)));
    }

    #[test]
    fn a_body_already_below_the_rate_has_no_time_left() {
        let mut watch = watch(30, Some((240, 5)));
        watch.received = 10;
        let now = Instant::now();
        let (deadline, _) = watch.deadline(now, Duration::from_secs(9)).unwrap();
        assert_eq!(deadline, now);
    }

    #[test]
    fn without_either_limit_there_is_no_deadline() {
        let watch = PaceWatch::new(BodyPace::default());
        assert!(watch.deadline(Instant::now(), Duration::ZERO).is_none());
    }

    /// A layer's `RequestBody` wrapped by another layer (tower-http's `Limited`) is polled
    /// from inside the body the application's core holds to the handler's pace: its own
    /// timer (the application's pace) must stand down there, or a handler's longer timeout
    /// (or none) would be cut short by it; read directly (by a layer) it times as usual.
    #[tokio::test]
    async fn a_watch_inside_a_governing_one_leaves_the_timing_to_it() {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut inner = watch(1, None);
        // Waiting for 2 s already: past its 1 s timeout.
        let now = Instant::now();
        inner.wait = Some(Box::pin(Wait {
            timer: tokio::time::sleep_until(now - Duration::from_secs(1)),
            waiting_since: Some(now - Duration::from_secs(2)),
            waited: Duration::ZERO,
            armed_for: Some(TooSlow::Stalled(Duration::from_secs(1))),
        }));
        let handler_turned_it_off = PaceWatch::new(BodyPace::default());
        assert!(
            handler_turned_it_off
                .watch_inside(|| inner.expired(&mut cx))
                .is_none()
        );
        let untimed_wrapper = PaceWatch::default();
        assert!(matches!(
            untimed_wrapper.watch_inside(|| inner.expired(&mut cx)),
            Some(TooSlow::Stalled(_))
        ));
        assert!(matches!(inner.expired(&mut cx), Some(TooSlow::Stalled(_))));
    }

    #[test]
    #[should_panic(expected = "pass `None` to turn it off")]
    fn a_zero_rate_is_refused() {
        let _ = MinDataRate::new(0, Duration::from_secs(1));
    }
}
