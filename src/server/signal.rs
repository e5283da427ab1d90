//! [`LazySignal`]: a shutdown signal a connection checks on every poll for the price of one
//! atomic swap.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Wake, Waker};

/// A shutdown signal checked on every poll of a connection at the cost of one atomic swap:
/// the signal's future is polled again only after it has woken the task. (Polling a
/// cancellation future takes a lock, and a busy connection is polled several times a
/// request.)
pub(super) struct LazySignal<F> {
    signal: Pin<Box<F>>,
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

impl<F: Future<Output = ()>> LazySignal<F> {
    pub(super) fn new(signal: F) -> Self {
        Self {
            signal: Box::pin(signal),
            woken: None,
        }
    }

    pub(super) fn fired(&mut self, cx: &mut Context<'_>) -> bool {
        let waker = match &self.woken {
            Some(waker) if waker.task.will_wake(cx.waker()) => {
                if !waker.fired.swap(false, Ordering::Acquire) {
                    return false;
                }
                waker.clone()
            }
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
}
