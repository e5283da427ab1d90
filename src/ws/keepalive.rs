//! [`KeepAlive`]: the server's pings on an open WebSocket, so that a peer that vanished
//! without a word (a laptop closed, a network gone) does not hold its socket and its
//! handler forever.
//!
//! While the handler waits in `receive`, a socket from which nothing has been heard for
//! the ping interval is sent a ping; if nothing at all (a pong, a message, a ping) comes
//! back within the ping timeout, the peer is taken for gone. Anything heard restarts the
//! interval, so a busy socket is never pinged. The timer exists only while the socket is
//! open, and frames already received are read before it is looked at, so a handler that
//! was busy elsewhere does not take its own delay for the peer's.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Sink, SinkExt};
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A socket's ping schedule.
pub(super) struct KeepAlive {
    interval: Duration,
    timeout: Duration,
    timer: Pin<Box<Sleep>>,
    /// Something arrived from the peer since the timer was set.
    heard: bool,
    /// A ping is out and unanswered.
    awaiting: bool,
    /// The ping is queued but not yet flushed to the socket.
    flushing: bool,
}

impl KeepAlive {
    pub(super) fn new(interval: Duration, timeout: Duration) -> Self {
        Self {
            interval,
            timeout,
            timer: Box::pin(tokio::time::sleep(interval)),
            heard: false,
            awaiting: false,
            flushing: false,
        }
    }

    /// The peer sent something.
    pub(super) fn heard(&mut self) {
        self.heard = true;
    }

    /// Runs the schedule on `socket` (a sink of messages) once nothing is left to read:
    /// sends a ping when one is due, and is ready, with the peer taken for gone, when a
    /// ping went unanswered for the timeout.
    pub(super) fn poll_gone<S>(&mut self, socket: &mut S, cx: &mut Context<'_>) -> Poll<()>
    where
        S: Sink<WsMessage> + Unpin,
    {
        if self.flushing && socket.poll_flush_unpin(cx).is_ready() {
            self.flushing = false;
        }
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if std::mem::take(&mut self.heard) {
                self.awaiting = false;
                self.reset(self.interval);
                continue;
            }
            if self.awaiting {
                return Poll::Ready(());
            }
            // A socket whose peer does not read may have no room for the ping: then it
            // is as unanswered as one sent.
            if let Poll::Ready(Ok(())) = socket.poll_ready_unpin(cx)
                && socket
                    .start_send_unpin(WsMessage::Ping(Bytes::new()))
                    .is_ok()
            {
                self.flushing = socket.poll_flush_unpin(cx).is_pending();
            }
            self.awaiting = true;
            self.reset(self.timeout);
        }
    }

    fn reset(&mut self, after: Duration) {
        self.timer.as_mut().reset(Instant::now() + after);
    }
}
