//! The application's tower layers: kept as they are added, composed once when it is served,
//! and the future of a request that goes through them.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use ::tower::util::{BoxCloneSyncService, Oneshot};
use ::tower::{Layer, Service, ServiceExt};
use bytes::Bytes;
use http::{Method, Request, Response};

use super::{BoxedFuture, Inner};
use crate::body::Body;
use crate::body::in_flight::InFlight;
use crate::detachable::{Framing, sent_chunked};
use crate::error::BoxError;
use crate::request::request_body;
use crate::request::{BodyPace, RequestBody};
use crate::response::{HttpResponse, answer_head};
use crate::router::{BoxedService, Normalize, into_response};
use crate::service::AppService;

/// A layer given to `app.layer`, waiting for the service it will wrap.
pub(crate) type LayerFn = Box<dyn FnOnce(Inner) -> BoxedService + Send + Sync>;

/// Boxes `layer` until the application is composed.
pub(crate) fn boxed_layer<L, B>(layer: L) -> LayerFn
where
    L: Layer<Inner> + Send + Sync + 'static,
    L::Service:
        Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request<RequestBody>>>::Future: Send + 'static,
    <L::Service as Service<Request<RequestBody>>>::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Box::new(move |inner| BoxCloneSyncService::new(Normalize::new(layer.layer(inner))))
}

/// The tower layers around an application, composed.
pub(crate) struct Layers {
    /// The outermost layer, with the others inside it and the application innermost.
    service: BoxedService,
    /// The application's body-read timeout and minimum data rate, for the layers' reads.
    body_pace: BodyPace,
}

/// Wraps `app` (an application without layers) in `layers`, the first added the outermost;
/// `None` when there are none.
pub(crate) fn compose(app: &AppService, layers: Vec<LayerFn>) -> Option<Layers> {
    let mut stack: Option<BoxedService> = None;
    for layer in layers.into_iter().rev() {
        let inner = match stack.take() {
            None => Inner::app(app.clone()),
            Some(service) => Inner::layers(service),
        };
        stack = Some(layer(inner));
    }
    stack.map(|service| Layers {
        service,
        body_pace: app.body_pace(),
    })
}

impl Layers {
    /// Starts a request through the layers. `in_flight`, the HTTP/1.1 connection's record of
    /// an open request, goes to the body that comes out of the outermost layer.
    pub(crate) fn start<B>(&self, request: Request<B>, in_flight: Option<InFlight>) -> LayeredFuture
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let framing = Framing::of(
            request.method(),
            request.version(),
            in_flight.as_ref(),
            request.body(),
        );
        // A clone per request, so that each waits for readiness on its own (as tower wants).
        let mut service = self.service.clone();
        // A layer may read the body before the application does (to check a signature,
        // say): it waits on the client under the application's pace too.
        let request = request.map(|body| request_body(body, Some(self.body_pace)));
        let is_head = request.method() == Method::HEAD;
        // Most stacks are ready at once: then the request is handed over now and only the
        // response future is kept, which saves boxing a future that holds the request.
        let started = catch_unwind(AssertUnwindSafe(move || {
            let mut cx = Context::from_waker(Waker::noop());
            match service.poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => State::Called(service.call(request)),
                Poll::Ready(Err(never)) => match never {},
                // Polled again, with the real waker, by the `Oneshot`.
                Poll::Pending => State::Waiting(Box::new(service.oneshot(request))),
            }
        }));
        // A layer's panic must not take the connection (and its other requests) down.
        let state = started.unwrap_or_else(|panic| {
            State::Failed(Some(Box::new(crate::service::panicked(&*panic))))
        });
        LayeredFuture {
            state,
            in_flight,
            is_head,
            framing,
        }
    }
}

/// A request going through the application's layers: small, so that it does not make the
/// future of every request bigger.
pub(crate) struct LayeredFuture {
    state: State,
    in_flight: Option<InFlight>,
    /// The layers saw the response `GET` would get; `HEAD` is answered here.
    is_head: bool,
    /// Whether a long-lived answer may leave hyper, or ends with the connection.
    framing: Framing,
}

enum State {
    /// The layers were ready and have the request.
    Called(BoxedFuture),
    /// Waiting for the layers to be ready (a concurrency limit, say).
    Waiting(Box<Oneshot<BoxedService, Request<RequestBody>>>),
    /// Calling the layers panicked: the answer is this `500` (boxed, so that this rare
    /// case does not make every layered request's future bigger).
    Failed(Option<Box<HttpResponse>>),
}

impl LayeredFuture {
    pub(crate) fn poll_response(&mut self, cx: &mut Context<'_>) -> Poll<Response<Body>> {
        let polled = catch_unwind(AssertUnwindSafe(|| match &mut self.state {
            State::Called(future) => future.as_mut().poll(cx),
            State::Waiting(oneshot) => Pin::new(oneshot.as_mut()).poll(cx),
            State::Failed(response) => Poll::Ready(Ok(into_response(
                *response.take().expect("polled after completion"),
            ))),
        }));
        let mut response = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(response))) => response,
            Ok(Poll::Ready(Err(never))) => match never {},
            Err(panic) => into_response(crate::service::panicked(&*panic)),
        };
        if self.is_head {
            let (mut parts, mut body) = response.into_parts();
            answer_head(&mut parts.headers, &mut body);
            response = Response::from_parts(parts, body);
        }
        // The core readied its body without the connection (it is called with no
        // `in_flight`), so it never leaves hyper from inside a layer's body: that would
        // bypass the layer (TraceLayer's end-of-stream callback, a transformation). Only a
        // long-lived `Body` that reaches hyper as itself — no layer wrapped it, which would
        // have made it an `http_body::Body` of the layer's — may leave hyper here.
        if !self.is_head && self.framing == Framing::UntilClose {
            let exact_len = response.body().exact_len();
            let (mut parts, body) = response.into_parts();
            self.framing
                .declare_close(&mut parts.version, &mut parts.headers, exact_len);
            response = Response::from_parts(parts, body);
        }
        let detach = self.framing == Framing::Detachable
            && response.body().is_long_lived()
            && sent_chunked(response.status(), response.headers());
        response.body_mut().hold_open(self.in_flight.take(), detach);
        Poll::Ready(response)
    }
}
