//! [`LazyPoll`]: poll a future (a shutdown signal, a socket's readiness, a timer slot) again
//! only once it has woken the task.
//!
//! A connection task polls everything it waits on each time it wakes: an event stream's
//! task wakes once per event, and re-polling the things that have not changed — the
//! shutdown signal, whether the client sent anything, the keep-alive's slot — locks each
//! one's list of wakers to find its own already there. For a broadcast to thousands of
//! streams that was about a sixth of the instructions of a delivery. Polling through a
//! waker of our own, which raises a flag before waking the task, tells which of them
//! actually has news: the others are skipped for the price of one atomic swap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// Polls something only if it woke the task since it was last polled (or was never
/// polled, or was polled by another task).
#[derive(Default)]
pub(crate) struct LazyPoll {
    registered: Option<Registered>,
}

struct Registered {
    flag: Arc<Flag>,
    /// `flag` as a waker, made once.
    waker: Waker,
}

/// Raised when what was polled wakes the task, before the task is woken.
struct Flag {
    woken: AtomicBool,
    task: Waker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake_by_ref();
    }
}

impl LazyPoll {
    /// `poll`, with a context whose waker marks this `LazyPoll` woken; `Pending` without
    /// calling `poll` when it was last polled from this task and has not woken it since.
    ///
    /// `poll` must register the waker it is given whenever it returns `Pending` (as every
    /// future does), or it is never polled again.
    // Always inlined: the usual answer, nothing new, is a few instructions, fewer than a
    // call's own (a connection checks two of these each time it wakes, once per request);
    // `poll_now` stays a call.
    #[inline(always)]
    pub(crate) fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        if let Some(registered) = &self.registered
            && registered.flag.task.will_wake(cx.waker())
            && !registered.flag.woken.load(Ordering::Acquire)
        {
            return Poll::Pending;
        }
        self.poll_now(cx, poll)
    }

    /// `poll` now, whether or not it woke the task (after changing what it polls: a timer's
    /// deadline, a new future in the same place).
    pub(crate) fn poll_now<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        let registered = match &mut self.registered {
            Some(registered) if registered.flag.task.will_wake(cx.waker()) => registered,
            // First poll, or the task's waker changed: (re-)register.
            registered => {
                let flag = Arc::new(Flag {
                    woken: AtomicBool::new(false),
                    task: cx.waker().clone(),
                });
                registered.insert(Registered {
                    waker: Waker::from(flag.clone()),
                    flag,
                })
            }
        };
        // A wake from here on is news for the next call.
        registered.flag.woken.store(false, Ordering::Release);
        let polled = poll(&mut Context::from_waker(&registered.waker));
        if polled.is_ready() {
            // Ready registers no waker: poll again next time.
            registered.flag.woken.store(true, Ordering::Release);
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its polls; ready once `ready` is set, waking the last waker it was given.
    #[derive(Default)]
    struct Probe {
        polls: AtomicUsize,
        waker: std::sync::Mutex<Option<Waker>>,
    }

    impl Probe {
        fn poll(&self, cx: &mut Context<'_>, ready: bool) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::Relaxed);
            if ready {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }

        fn wake(&self) {
            self.waker.lock().unwrap().take().unwrap().wake();
        }

        fn polls(&self) -> usize {
            self.polls.load(Ordering::Relaxed)
        }
    }

    struct CountingTask(AtomicUsize);

    impl Wake for CountingTask {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn polls_only_after_a_wake_and_passes_the_wake_on() {
        let task = Arc::new(CountingTask(AtomicUsize::new(0)));
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let probe = Probe::default();
        let mut lazy = LazyPoll::default();

        assert!(lazy.poll(&mut cx, |cx| probe.poll(cx, false)).is_pending());
        assert!(lazy.poll(&mut cx, |cx| probe.poll(cx, false)).is_pending());
        assert_eq!(probe.polls(), 1, "not polled again before it woke the task");

        probe.wake();
        assert_eq!(task.0.load(Ordering::Relaxed), 1, "the task was woken");
        assert!(lazy.poll(&mut cx, |cx| probe.poll(cx, false)).is_pending());
        assert_eq!(probe.polls(), 2, "polled after its wake");

        assert!(
            lazy.poll_now(&mut cx, |cx| probe.poll(cx, false))
                .is_pending()
        );
        assert_eq!(probe.polls(), 3, "poll_now always polls");

        probe.wake();
        assert!(lazy.poll(&mut cx, |cx| probe.poll(cx, true)).is_ready());
        assert!(lazy.poll(&mut cx, |cx| probe.poll(cx, false)).is_pending());
        assert_eq!(probe.polls(), 5, "after Ready, the next call polls");
    }

    #[test]
    fn another_task_polls_at_once() {
        let probe = Probe::default();
        let mut lazy = LazyPoll::default();
        let first = Waker::from(Arc::new(CountingTask(AtomicUsize::new(0))));
        let second = Waker::from(Arc::new(CountingTask(AtomicUsize::new(0))));
        let _ = lazy.poll(&mut Context::from_waker(&first), |cx| probe.poll(cx, false));
        let _ = lazy.poll(&mut Context::from_waker(&second), |cx| {
            probe.poll(cx, false)
        });
        assert_eq!(probe.polls(), 2);
    }
}
