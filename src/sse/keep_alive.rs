//! [`KeepAlive`]: the comment an event stream sends in its silences, and the clock that
//! times it.
//!
//! An event stream must send something once it has been silent for its keep-alive interval.
//! Timing that with a timer per stream means resetting the timer on every event: a clock
//! read and a timer update per delivered event, and a timer per stream. Instead, every event
//! stream of a runtime with the same interval shares one [`Wheel`]: a task that advances a
//! tick counter every eighth of the interval and wakes the streams waiting for that tick.
//! An event costs the stream one relaxed load of the counter; a stream wakes once per
//! interval of silence (a busy one, once per interval) to see whether it is due.
//!
//! So a keep-alive comment goes out once a stream has been silent for between seven eighths
//! of the interval and the interval: never more than the interval of silence, which is
//! what keeps a proxy's idle timeout from closing it.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::{self, Handle};
use tokio::sync::Notify;
use tokio::sync::futures::OwnedNotified;

use super::event::{InvalidField, push_comment, single_line};
use crate::lazy_poll::LazyPoll;

/// The keep-alive policy of an [`EventStream`](super::EventStream): a comment sent when
/// the stream has been silent for `interval` (within an eighth of it, never later).
#[derive(Debug, Clone)]
pub struct KeepAlive {
    interval: Duration,
    pub(super) comment: Bytes,
}

impl KeepAlive {
    /// Every 15 seconds, an empty comment (`:\n\n`).
    #[must_use]
    pub fn new() -> Self {
        Self {
            interval: Duration::from_secs(15),
            comment: Bytes::from_static(b":\n\n"),
        }
    }

    /// Changes the interval.
    ///
    /// # Panics
    /// When `interval` is zero.
    #[must_use]
    #[track_caller]
    pub fn interval(mut self, interval: Duration) -> Self {
        assert!(
            !interval.is_zero(),
            "the keep-alive interval must be more than zero"
        );
        self.interval = interval;
        self
    }

    /// Changes the comment's text.
    ///
    /// # Errors
    /// When `text` contains a line break or NUL.
    pub fn text(mut self, text: impl Into<String>) -> Result<Self, InvalidField> {
        let text = single_line("comment", text.into())?;
        let mut out = String::with_capacity(text.len() + 3);
        push_comment(&mut out, &text);
        out.push('\n');
        self.comment = Bytes::from(out);
        Ok(self)
    }
}

impl Default for KeepAlive {
    fn default() -> Self {
        Self::new()
    }
}

/// Ticks per keep-alive interval: the precision of the keep-alive, and the number of slots
/// of the wheel (a stream never waits more than one interval ahead).
const TICKS: u64 = 8;

/// The shared clock of the keep-alives of one interval in one runtime.
struct Wheel {
    /// Ticks since the wheel started.
    tick: AtomicU64,
    /// `slots[t % TICKS]` wakes the streams waiting for tick `t`.
    slots: [Arc<Notify>; TICKS as usize],
}

impl Wheel {
    fn now(&self) -> u64 {
        self.tick.load(Ordering::Acquire)
    }
}

/// The wheels in use, by runtime and interval. A wheel lives as long as a stream uses it;
/// its task ends at the first tick after the last one let go.
static WHEELS: Mutex<Vec<(runtime::Id, Duration, Weak<Wheel>)>> = Mutex::new(Vec::new());

/// The wheel of `interval` in the current runtime, started on first use; `None` outside a
/// runtime.
fn wheel(interval: Duration) -> Option<Arc<Wheel>> {
    let handle = Handle::try_current().ok()?;
    let runtime = handle.id();
    let mut wheels = WHEELS.lock().unwrap_or_else(PoisonError::into_inner);
    wheels.retain(|(_, _, wheel)| wheel.strong_count() > 0);
    if let Some(wheel) = wheels
        .iter()
        .find(|(id, period, _)| *id == runtime && *period == interval)
        .and_then(|(_, _, wheel)| wheel.upgrade())
    {
        return Some(wheel);
    }
    let wheel = Arc::new(Wheel {
        tick: AtomicU64::new(0),
        slots: std::array::from_fn(|_| Arc::new(Notify::new())),
    });
    wheels.push((runtime, interval, Arc::downgrade(&wheel)));
    handle.spawn(turn(Arc::downgrade(&wheel), interval / TICKS as u32));
    Some(wheel)
}

/// A wheel's task: one tick every `step` while any stream holds the wheel.
async fn turn(wheel: Weak<Wheel>, step: Duration) {
    let mut clock = tokio::time::interval_at(tokio::time::Instant::now() + step, step);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        clock.tick().await;
        let Some(wheel) = wheel.upgrade() else {
            return;
        };
        let tick = wheel.tick.fetch_add(1, Ordering::AcqRel) + 1;
        wheel.slots[(tick % TICKS) as usize].notify_waiters();
    }
}

pin_project_lite::pin_project! {
    /// One stream's keep-alive: when it last sent something, in ticks of its wheel, and its
    /// place in the slot of the tick at which it is due.
    pub(super) struct Beat {
        policy: KeepAlive,
        wheel: Option<Arc<Wheel>>,
        last_sent: u64,
        due: u64,
        #[pin]
        wait: Option<OwnedNotified>,
        // Polled again only once the slot has woken the task: a busy stream's task wakes
        // for every event, and the slot's waker list is behind a lock.
        lazy: LazyPoll,
    }
}

impl Beat {
    pub(super) fn new(policy: KeepAlive) -> Self {
        Self {
            policy,
            wheel: None,
            last_sent: 0,
            due: 0,
            wait: None,
            lazy: LazyPoll::default(),
        }
    }

    /// The stream sent something now.
    pub(super) fn sent(self: Pin<&mut Self>) {
        let this = self.project();
        if let Some(wheel) = this.wheel {
            *this.last_sent = wheel.now();
        }
    }

    /// The comment to send, once the stream has been silent for the interval; otherwise
    /// `Pending`, waking the task when it may be due.
    pub(super) fn poll_due(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Bytes> {
        let mut this = self.as_mut().project();
        if this.wheel.is_none() {
            // Joined on the first poll, which is always in the runtime that serves it.
            let Some(joined) = wheel(this.policy.interval) else {
                return Poll::Pending;
            };
            *this.last_sent = joined.now();
            *this.wheel = Some(joined);
        }
        let wheel: &Wheel = this.wheel.as_deref().expect("joined above");
        loop {
            let now = wheel.now();
            if now.saturating_sub(*this.last_sent) >= TICKS {
                *this.last_sent = now;
                this.wait.set(None);
                return Poll::Ready(this.policy.comment.clone());
            }
            let due = *this.last_sent + TICKS;
            let new_wait = this.wait.is_none() || *this.due != due;
            if new_wait {
                // Notified from its creation on, so a tick between here and the poll
                // below is not missed.
                *this.due = due;
                let slot = wheel.slots[(due % TICKS) as usize].clone();
                this.wait.set(Some(slot.notified_owned()));
            }
            let mut wait = this.wait.as_mut().as_pin_mut().expect("set above");
            let poll = |cx: &mut Context<'_>| wait.as_mut().poll(cx);
            let polled = if new_wait {
                this.lazy.poll_now(cx, poll)
            } else {
                this.lazy.poll(cx, poll)
            };
            if polled.is_pending() {
                return Poll::Pending;
            }
            // The slot's tick came: look again (the stream may have sent since).
            this.wait.set(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_text_is_a_comment_frame() {
        assert_eq!(KeepAlive::new().comment, ":\n\n");
        assert_eq!(KeepAlive::new().text("ping").unwrap().comment, ": ping\n\n");
        for bad in ["a\nb", "a\rb", "a\0b"] {
            assert!(KeepAlive::new().text(bad).is_err());
        }
    }

    async fn next_comment(beat: &mut Pin<Box<Beat>>) -> Bytes {
        std::future::poll_fn(|cx| beat.as_mut().poll_due(cx)).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_stream_gets_a_comment_every_interval() {
        let interval = Duration::from_secs(8);
        let mut beat = Box::pin(Beat::new(KeepAlive::new().interval(interval)));
        let start = tokio::time::Instant::now();
        for n in 1..=3 {
            next_comment(&mut beat).await;
            let elapsed = start.elapsed();
            assert!(
                elapsed > interval * n * 7 / 8
                    && elapsed <= interval * n + Duration::from_millis(5),
                "comment {n} after {elapsed:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sending_puts_the_comment_off_to_an_interval_after() {
        let interval = Duration::from_secs(8);
        let mut beat = Box::pin(Beat::new(KeepAlive::new().interval(interval)));
        // Join the wheel, then send every 3 s for 30 s: no comment is due.
        assert!(
            futures_util::poll!(std::future::poll_fn(|cx| beat.as_mut().poll_due(cx))).is_pending()
        );
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_secs(3)).await;
            beat.as_mut().sent();
            assert!(
                futures_util::poll!(std::future::poll_fn(|cx| beat.as_mut().poll_due(cx)))
                    .is_pending()
            );
        }
        let last_sent = tokio::time::Instant::now();
        next_comment(&mut beat).await;
        let silence = last_sent.elapsed();
        assert!(
            silence > interval * 7 / 8 - Duration::from_secs(1) && silence <= interval,
            "comment after {silence:?} of silence"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn streams_of_one_interval_share_a_wheel_that_stops_when_unused() {
        let interval = Duration::from_millis(800);
        let first = wheel(interval).unwrap();
        let second = wheel(interval).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert!(!Arc::ptr_eq(&first, &wheel(interval * 2).unwrap()));
        let weak = Arc::downgrade(&first);
        drop((first, second));
        tokio::time::sleep(interval).await;
        assert_eq!(weak.strong_count(), 0);
        assert!(
            wheel(interval).is_some(),
            "a new wheel replaces the stopped one"
        );
    }
}
