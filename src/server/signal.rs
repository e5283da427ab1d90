//! [`LazySignal`]: a signal (shutdown, a timer) a connection checks on every poll for the
//! price of one atomic swap.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Wake, Waker};

/// A shutdown signal checked on every poll of a connection at the cost of one atomic swap:
/// the signal's future is polled again only after it has woken the task. (Polling a
/// cancellation future takes a lock, and a busy connection is polled several times a
/// request.)
pub(super) struct LazySignal<'a, F> {
    signal: Pin<&'a mut F>,
    woken: Option<Arc<SignalWaker>>,
}

struct SignalWaker {
    fired: AtomicBool,
    task: Waker,
}

impl Wake for SignalWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        self.task.wake_by_ref();
    }
}

impl<'a, F: Future<Output = ()>> LazySignal<'a, F> {
    /// Watches `signal`, pinned by the caller (on its stack, so no allocation).
    pub(super) fn new(signal: Pin<&'a mut F>) -> Self {
        Self {
            signal,
            woken: None,
        }
    }

    /// Whether the signal has completed; polls it only if it woke the task since last time.
    pub(super) fn fired(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(waker) = &self.woken
            && waker.task.will_wake(cx.waker())
            && !waker.fired.swap(false, Ordering::Acquire)
        {
            return false;
        }
        self.poll_now(cx)
    }

    /// Polls the signal now, registering to be woken through it.
    pub(super) fn poll_now(&mut self, cx: &mut Context<'_>) -> bool {
        let waker = match &self.woken {
            Some(waker) if waker.task.will_wake(cx.waker()) => waker.clone(),
            // First poll, or the task's waker changed: (re-)register.
            _ => {
                let waker = Arc::new(SignalWaker {
                    fired: AtomicBool::new(false),
                    task: cx.waker().clone(),
                });
                self.woken = Some(waker.clone());
                waker
            }
        };
        let waker = Waker::from(waker);
        self.signal
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
    }

    /// The signal itself, to change it (a timer's deadline) before `poll_now`.
    pub(super) fn signal_mut(&mut self) -> Pin<&mut F> {
        self.signal.as_mut()
    }
}
