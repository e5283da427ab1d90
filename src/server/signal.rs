//! [`LazySignal`]: a signal (shutdown, a timer) a connection checks on every poll for the
//! price of one atomic load.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use crate::lazy_poll::LazyPoll;

/// A shutdown signal checked on every poll of a connection at the cost of one atomic load:
/// the signal's future is polled again only after it has woken the task. (Polling a
/// cancellation future takes a lock, and a busy connection is polled several times a
/// request.)
pub(super) struct LazySignal<'a, F> {
    signal: Pin<&'a mut F>,
    lazy: LazyPoll,
}

impl<'a, F: Future<Output = ()>> LazySignal<'a, F> {
    /// Watches `signal`, pinned by the caller (on its stack, so no allocation).
    pub(super) fn new(signal: Pin<&'a mut F>) -> Self {
        Self {
            signal,
            lazy: LazyPoll::default(),
        }
    }

    /// Whether the signal has completed; polls it only if it woke the task since last time.
    pub(super) fn fired(&mut self, cx: &mut Context<'_>) -> bool {
        let signal = &mut self.signal;
        self.lazy.poll(cx, |cx| signal.as_mut().poll(cx)).is_ready()
    }

    /// Polls the signal now, registering to be woken through it.
    pub(super) fn poll_now(&mut self, cx: &mut Context<'_>) -> bool {
        let signal = &mut self.signal;
        self.lazy
            .poll_now(cx, |cx| signal.as_mut().poll(cx))
            .is_ready()
    }

    /// The signal itself, to change it (a timer's deadline) before `poll_now`.
    pub(super) fn signal_mut(&mut self) -> Pin<&mut F> {
        self.signal.as_mut()
    }
}
