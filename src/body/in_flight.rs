//! What a response body holds of the connection it is sent on, without knowing the server:
//! the connection's [`Activity`], reached through the request's [`InFlight`] token, and in
//! it the [`Handoff`] where a long-lived HTTP/1.1 body gives itself to the connection (see
//! `server::handoff`). The server makes them; the body only holds and offers.
//!
//! What a connection has been doing, for its timeouts: requests (or HTTP/2 streams)
//! started and still open, bytes written to the socket, and whether the last write found
//! the socket full.
//!
//! hyper can enforce a header-read timeout, but does so with a new timer per request (an
//! allocation, a timer wheel insertion and removal): about 1,300 instructions of a
//! 9,600-instruction hello-world request. Here the connection keeps one timer for its whole
//! life (see `watchdog`) and these counters, which it samples each time the timer fires.
//!
//! On HTTP/1.1 everything happens in the connection's task: hyper calls the service, polls
//! its future, drops the response body and writes the socket there. The counters are
//! atomics only so that the types are `Send`; relaxed loads and stores, never
//! read-modify-write, because there is one writer. HTTP/2 runs each stream in a task of its
//! own, so its streams are counted with read-modify-write operations ([`StreamInFlight`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use std::sync::{Mutex, PoisonError};

use super::Body;

/// The counters of one connection.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    started: AtomicU64,
    open: AtomicU64,
    written: AtomicU64,
    /// The last write found the socket full (and nothing has been written since).
    write_blocked: AtomicBool,
    /// Where a long-lived HTTP/1.1 response body leaves hyper (see `handoff`).
    pub(crate) handoff: Handoff,
}

/// The counters at one instant; `watchdog` compares two of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Sample {
    pub(crate) started: u64,
    pub(crate) open: bool,
    pub(crate) written: u64,
    pub(crate) write_blocked: bool,
}

impl Activity {
    fn add(counter: &AtomicU64, delta: i64) {
        let value = counter.load(Ordering::Relaxed);
        counter.store(value.wrapping_add_signed(delta), Ordering::Relaxed);
    }

    pub(crate) fn sample(&self) -> Sample {
        Sample {
            started: self.started.load(Ordering::Relaxed),
            open: self.open.load(Ordering::Relaxed) > 0,
            written: self.written.load(Ordering::Relaxed),
            write_blocked: self.write_blocked.load(Ordering::Relaxed),
        }
    }

    /// A write of `bytes` went through (called by the connection's IO, its only writer).
    pub(crate) fn wrote(&self, bytes: usize) {
        Self::add(&self.written, bytes as i64);
        if self.write_blocked.load(Ordering::Relaxed) {
            self.write_blocked.store(false, Ordering::Relaxed);
        }
    }

    /// A write found the socket full.
    pub(crate) fn write_blocked(&self) {
        self.write_blocked.store(true, Ordering::Relaxed);
    }
}

/// One open request of an HTTP/1.1 connection, from the service call until its response
/// has been produced and, for a streamed body, sent to the end (the body holds it).
#[derive(Debug)]
pub(crate) struct InFlight {
    activity: Arc<Activity>,
    close_requested: bool,
}

impl InFlight {
    /// A request starts; `close_requested`: it asked to close the connection after its
    /// response (`Connection: close`).
    pub(crate) fn start(activity: &Arc<Activity>, close_requested: bool) -> Self {
        Activity::add(&activity.started, 1);
        Activity::add(&activity.open, 1);
        Self {
            activity: activity.clone(),
            close_requested,
        }
    }

    /// The connection's activity, whose handoff takes a body that sends itself.
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Whether the request asked to close the connection after its response: then its
    /// answer is not sent away from hyper (see `detachable`).
    pub(crate) fn close_requested(&self) -> bool {
        self.close_requested
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        Activity::add(&self.activity.open, -1);
    }
}

/// One open stream of an HTTP/2 connection, from the service call until its response
/// body has been handed to hyper to the end (or dropped). Streams start in the
/// connection's task but end in their own, so the counts are read-modify-write.
#[derive(Debug)]
pub(crate) struct StreamInFlight(Arc<Activity>);

impl StreamInFlight {
    pub(crate) fn start(activity: &Arc<Activity>) -> Self {
        activity.started.fetch_add(1, Ordering::Relaxed);
        activity.open.fetch_add(1, Ordering::Relaxed);
        Self(activity.clone())
    }
}

impl Drop for StreamInFlight {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a connection's long-lived response body waits to be taken from hyper.
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    has_offer: AtomicBool,
    offer: Mutex<Option<Body>>,
    /// Whether hyper has nothing left to write: its last call on the socket was a flush
    /// that completed (hyper flushes only once its own buffer is empty).
    flushed: AtomicBool,
}

impl Handoff {
    /// Gives the connection `body` to send by itself.
    pub(crate) fn offer(&self, body: Body) {
        *self.offer.lock().unwrap_or_else(PoisonError::into_inner) = Some(body);
        self.has_offer.store(true, Ordering::Release);
    }

    /// The offered body, once hyper has written everything before it.
    pub(crate) fn take(&self) -> Option<Body> {
        if !self.has_offer.load(Ordering::Acquire) || !self.flushed.load(Ordering::Acquire) {
            return None;
        }
        self.has_offer.store(false, Ordering::Release);
        self.offer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Drops the offered body, if any: called when the connection ends. The body holds the
    /// connection's [`Activity`] (through its in-flight token)
    /// and the activity holds this offer, so an offer the connection never took would
    /// otherwise keep itself, its stream and everything the stream holds (a hub
    /// subscription, a keep-alive registration) alive forever.
    pub(crate) fn withdraw(&self) -> Option<Body> {
        self.has_offer.store(false, Ordering::Release);
        self.offer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// hyper wrote (`false`) or completed a flush (`true`).
    pub(crate) fn set_flushed(&self, flushed: bool) {
        self.flushed.store(flushed, Ordering::Release);
    }
}
