//! HTTP/2 streams as the connection sees them: each one counted while open (for the idle
//! timeout), and every response body held to the connection's send budget.
//!
//! hyper hands a response chunk to h2 as soon as the stream has a byte of send capacity,
//! and h2 keeps it until it is written to the socket. A client that opens its flow-control
//! windows and then stops reading makes h2 hold up to its per-stream send buffer plus one
//! chunk for every open stream: with hyper's defaults, 80 MiB per connection. The budget
//! bounds the sum: a stream's body is polled for its next chunk only while the
//! connection's unsent chunks add up to less than the budget, and each chunk is charged
//! until h2 lets go of it (its [`Bytes`] owner is dropped). Streams over the budget wait,
//! without producing anything, until the socket drains.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::body::Body;
use crate::body::in_flight::{Activity, StreamInFlight};
use crate::service::{AppService, ResponseFuture};

/// The bytes of response bodies a connection has handed to h2 and h2 has not yet written.
#[derive(Debug)]
pub(super) struct SendBudget {
    limit: usize,
    unsent: AtomicUsize,
    has_waiting: AtomicBool,
    waiting: Mutex<Vec<Waker>>,
}

impl SendBudget {
    pub(super) fn new(limit: usize) -> Self {
        Self {
            limit,
            unsent: AtomicUsize::new(0),
            has_waiting: AtomicBool::new(false),
            waiting: Mutex::new(Vec::new()),
        }
    }

    /// Whether any response bytes are still waiting to be written.
    pub(super) fn has_unsent(&self) -> bool {
        self.unsent.load(Ordering::Relaxed) > 0
    }

    /// Ready while the connection is under its budget; otherwise wakes the task once it is.
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.unsent.load(Ordering::SeqCst) < self.limit {
            return Poll::Ready(());
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        self.has_waiting.store(true, Ordering::SeqCst);
        // Released between the first check and the registration: no wake-up would come.
        if self.unsent.load(Ordering::SeqCst) < self.limit {
            return Poll::Ready(());
        }
        if !waiting.iter().any(|waker| waker.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Charges `chunk` to the budget until h2 drops it.
    fn charge(self: &Arc<Self>, chunk: Bytes) -> Bytes {
        self.unsent.fetch_add(chunk.len(), Ordering::SeqCst);
        Bytes::from_owner(Charged {
            chunk,
            budget: self.clone(),
        })
    }

    fn release(&self, bytes: usize) {
        let before = self.unsent.fetch_sub(bytes, Ordering::SeqCst);
        if before - bytes < self.limit && self.has_waiting.load(Ordering::SeqCst) {
            let woken = {
                let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
                self.has_waiting.store(false, Ordering::SeqCst);
                std::mem::take(&mut *waiting)
            };
            woken.into_iter().for_each(Waker::wake);
        }
    }
}

/// A chunk on its way to the socket, charged to its connection's budget.
struct Charged {
    chunk: Bytes,
    budget: Arc<SendBudget>,
}

impl AsRef<[u8]> for Charged {
    fn as_ref(&self) -> &[u8] {
        &self.chunk
    }
}

impl Drop for Charged {
    fn drop(&mut self) {
        self.budget.release(self.chunk.len());
    }
}

/// The application as an HTTP/2 connection's service.
#[derive(Clone)]
pub(super) struct Http2Service {
    pub(super) app: AppService,
    pub(super) activity: Arc<Activity>,
    pub(super) budget: Arc<SendBudget>,
}

impl hyper::service::Service<Request<Incoming>> for Http2Service {
    type Response = Response<BudgetedBody>;
    type Error = Infallible;
    type Future = Http2ResponseFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        #[cfg(feature = "ws")]
        let request = hold_extended_connect(request, &self.activity);
        Http2ResponseFuture {
            stream: Some(StreamInFlight::start(&self.activity)),
            inner: self.app.respond(request, None),
            budget: self.budget.clone(),
        }
    }
}

/// An extended `CONNECT` (RFC 8441) becomes a WebSocket that outlives its response: it
/// holds a count of its stream among the connection's open ones (dropped with the
/// WebSocket), so that the idle timeout does not close a connection a quiet WebSocket uses.
#[cfg(feature = "ws")]
fn hold_extended_connect(
    mut request: Request<Incoming>,
    activity: &Arc<Activity>,
) -> Request<Incoming> {
    if request.method() == hyper::Method::CONNECT
        && request.extensions().get::<hyper::ext::Protocol>().is_some()
    {
        let hold = crate::ws::StreamHold::new(StreamInFlight::start(activity));
        request.extensions_mut().insert(hold);
    }
    request
}

pub(super) struct Http2ResponseFuture {
    inner: ResponseFuture,
    stream: Option<StreamInFlight>,
    budget: Arc<SendBudget>,
}

impl Future for Http2ResponseFuture {
    type Output = Result<Response<BudgetedBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Ok(response) = ready!(Pin::new(&mut this.inner).poll(cx));
        let stream = this.stream.take().expect("polled after completion");
        Poll::Ready(Ok(response.map(|body| BudgetedBody {
            body,
            budget: this.budget.clone(),
            _stream: stream,
        })))
    }
}

/// A response body whose chunks are charged to the connection's send budget; it keeps
/// its stream counted as open until it is done.
pub(super) struct BudgetedBody {
    body: Body,
    budget: Arc<SendBudget>,
    _stream: StreamInFlight,
}

impl http_body::Body for BudgetedBody {
    type Data = Bytes;
    type Error = <Body as http_body::Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        ready!(this.budget.poll_room(cx));
        let frame = ready!(Pin::new(&mut this.body).poll_frame(cx));
        Poll::Ready(frame.map(|frame| {
            frame.map(|frame| match frame.into_data() {
                Ok(chunk) => Frame::data(this.budget.charge(chunk)),
                Err(other) => other,
            })
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_chunk_is_charged_until_dropped_and_waiters_wake_when_there_is_room() {
        let budget = Arc::new(SendBudget::new(100));
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(budget.poll_room(&mut cx).is_ready());
        let first = budget.charge(Bytes::from(vec![1u8; 60]));
        let second = budget.charge(Bytes::from(vec![2u8; 60]));
        assert_eq!(
            &first[..],
            &[1u8; 60][..],
            "the chunk's bytes are unchanged"
        );
        assert!(budget.has_unsent());
        assert!(
            budget.poll_room(&mut cx).is_pending(),
            "120 of 100 bytes unsent"
        );
        // h2 splits a chunk into frames: the charge lasts until the last piece goes.
        let mut rest = first.clone();
        let piece = rest.split_to(30);
        drop(first);
        drop(rest);
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        drop(piece);
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            1,
            "woken once under the budget"
        );
        assert!(budget.poll_room(&mut cx).is_ready());
        drop(second);
        assert!(!budget.has_unsent());
    }
}
