//! The header-read timeout of an HTTP/1.1 connection, kept by the connection itself.
//!
//! hyper can enforce it, but does so with a new timer per request (an allocation, a timer
//! wheel insertion and removal): about 1,300 instructions of a 9,600-instruction
//! hello-world request. Here the connection keeps one timer for its whole life and two
//! counters: requests started, and requests whose response is still being produced or
//! sent. When the timer fires, a connection that started no request since the last firing
//! and has none open has been silent in both directions for a whole timeout — a slow
//! client that never finishes its head, or an idle keep-alive connection — and is closed.
//! So it closes between one and two timeouts after it went quiet.
//!
//! All of this happens in the connection's task: hyper calls the service, polls its future
//! and drops the response body there. The counters are atomics only so that the types are
//! `Send`; relaxed loads and stores, never read-modify-write, because there is one writer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters of one HTTP/1.1 connection.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    started: AtomicU64,
    open: AtomicU64,
}

impl Activity {
    fn add(counter: &AtomicU64, delta: i64) {
        let value = counter.load(Ordering::Relaxed);
        counter.store(value.wrapping_add_signed(delta), Ordering::Relaxed);
    }

    /// A snapshot to compare with at the next firing: `None` while a request is open.
    pub(super) fn quiet_since(&self) -> Option<u64> {
        if self.open.load(Ordering::Relaxed) > 0 {
            None
        } else {
            Some(self.started.load(Ordering::Relaxed))
        }
    }
}

/// One open request of a connection, from the service call until its response has been
/// produced and, for a streamed body, sent to the end (the body holds it).
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl InFlight {
    pub(crate) fn start(activity: &Arc<Activity>) -> Self {
        Activity::add(&activity.started, 1);
        Activity::add(&activity.open, 1);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        Activity::add(&self.0.open, -1);
    }
}
