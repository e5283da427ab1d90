//! [`AppService`]: the application as a tower and a hyper `Service` — the flow of one
//! request.
//!
//! ```text
//! Request --> [tower layers] --> HttpRequest --> middlewares --> router.resolve
//!         --> handler or mounted service --> HttpResponse --> Response
//! ```
//!
//! It can be called in-process, without a socket, as a tower `Service`:
//!
//! ```
//! use bareasgi::Application;
//! use bareasgi::http::Request;
//! use http_body_util::{BodyExt, Empty};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mut app = Application::new();
//! app.http_router.add(["GET"], "/", |_req| async { "hi" });
//! let request = Request::get("/").body(Empty::<bytes::Bytes>::new()).unwrap();
//! let response = app.into_service().oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hi");
//! # }
//! ```
//!
//! or as a hyper `Service` (`hyper::service::Service::call(&service, request)`), to serve it
//! with hyper-util yourself.

mod answer;
use answer::into_hyper;
pub mod tower;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::ALLOW;
use http::{Method, Request, Response, StatusCode};
use tokio_util::sync::CancellationToken;

use self::tower::{LayerFn, LayeredFuture, Layers};
use crate::body::Body;
use crate::body::in_flight::InFlight;
use crate::detachable::Framing;
use crate::error::BoxError;
use crate::handler::{BoxFuture, Handler};
use crate::limits::Limits;
use crate::middleware::{Middleware, Next};
use crate::request::request_body;
use crate::request::{BodyPace, HttpRequest};
use crate::response::{Head, HttpResponse};
use crate::router::{HttpRouter, Resolution};
use crate::typemap::TypeMap;
#[cfg(feature = "ws")]
use crate::ws::{WsRouter, WsRuntime};

/// The application as a cheaply cloneable tower [`Service`](::tower::Service) and hyper
/// [`Service`](hyper::service::Service), with its tower layers.
#[derive(Clone)]
pub struct AppService {
    shared: Arc<Shared>,
    /// The tower layers around the application (`app.layer`); `None` without layers, so
    /// that such an application calls its core directly. Behind an `Arc`, so that a
    /// connection's clone of the service does not copy the whole stack (each request clones
    /// it, as tower wants).
    layers: Option<Arc<Layers>>,
}

pub(crate) struct Shared {
    routes: Arc<Routes>,
    middlewares: Arc<[Arc<dyn Middleware>]>,
    /// Routing as the innermost link of the middleware chain.
    endpoint: Arc<dyn Handler>,
    info: Arc<TypeMap>,
    body_limit: usize,
    /// The body-read timeout and the minimum data rate.
    body_pace: BodyPace,
    request_timeout: Option<Duration>,
    pub(crate) shutdown: CancellationToken,
    /// Headers to make room for in each response before tower layers add theirs (CORS,
    /// `vary`, request ids): one allocation instead of the map growing once per layer.
    header_room: usize,
    #[cfg(feature = "ws")]
    pub(crate) ws: Arc<WsRuntime>,
}

/// Both routers; routing picks between them.
#[derive(Debug)]
struct Routes {
    http: HttpRouter,
    #[cfg(feature = "ws")]
    ws: WsRouter,
}

impl Shared {
    pub(crate) fn new(
        router: HttpRouter,
        #[cfg(feature = "ws")] (ws_router, ws): (WsRouter, Arc<WsRuntime>),
        middlewares: Vec<Arc<dyn Middleware>>,
        info: TypeMap,
        limits: &Limits,
        shutdown: CancellationToken,
    ) -> Self {
        let routes = Arc::new(Routes {
            http: router,
            #[cfg(feature = "ws")]
            ws: ws_router,
        });
        Self {
            endpoint: Arc::new(Dispatch(routes.clone())),
            routes,
            middlewares: middlewares.into(),
            info: Arc::new(info),
            body_limit: limits.body_limit,
            body_pace: BodyPace {
                read_timeout: limits.body_read_timeout,
                min_rate: limits.min_body_data_rate,
            },
            request_timeout: limits.request_timeout,
            shutdown,
            header_room: 0,
            #[cfg(feature = "ws")]
            ws,
        }
    }
}

impl AppService {
    /// The application with `layers` (first added, outermost) around it.
    pub(crate) fn new(mut shared: Shared, layers: Vec<LayerFn>) -> Self {
        if !layers.is_empty() {
            shared.header_room = 8;
        }
        let core = Self {
            shared: Arc::new(shared),
            layers: None,
        };
        let layers = self::tower::compose(&core, layers).map(Arc::new);
        Self { layers, ..core }
    }

    pub(crate) fn body_pace(&self) -> BodyPace {
        self.shared.body_pace
    }

    pub(crate) fn info(&self) -> Arc<TypeMap> {
        self.shared.info.clone()
    }

    pub(crate) fn shutdown_token(&self) -> &CancellationToken {
        &self.shared.shutdown
    }

    #[cfg(feature = "ws")]
    pub(crate) fn ws_runtime(&self) -> &WsRuntime {
        &self.shared.ws
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        match self.respond(request, None).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    /// A response future that is already answered with `response` (the server's own
    /// refusals, such as a bad `Host`, which no handler or layer sees).
    pub(crate) fn answer(&self, response: HttpResponse) -> ResponseFuture {
        ResponseFuture {
            kind: Kind::App(AppFuture {
                state: State::Ready(Box::new(response)),
                timeout: None,
                head: Head::No,
                framing: Framing::Other,
                shared: self.shared.clone(),
                in_flight: None,
                traced: None,
                #[cfg(feature = "metrics")]
                meter: None,
            }),
        }
    }

    /// Starts answering, through the tower layers if there are any. `in_flight` is the
    /// HTTP/1.1 connection's record of an open request, held until the response is sent.
    pub(crate) fn respond<B>(
        &self,
        request: Request<B>,
        in_flight: Option<InFlight>,
    ) -> ResponseFuture
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let kind = match &self.layers {
            None => Kind::App(self.respond_directly(request, in_flight, Head::Here)),
            Some(layers) => Kind::Layered(layers.start(request, in_flight)),
        };
        ResponseFuture { kind }
    }

    /// Answers a request that came through the application's tower layers, which see the
    /// response `GET` would get even for `HEAD` (the outermost answers `HEAD`).
    pub(crate) fn respond_within_layers<B>(&self, request: Request<B>) -> ResponseFuture
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        ResponseFuture {
            kind: Kind::App(self.respond_directly(request, None, Head::Outside)),
        }
    }

    /// Builds the [`HttpRequest`], runs the middlewares and the routed handler up to their
    /// first await, and returns the future of the rest. `head` says where a `HEAD` request
    /// is answered.
    fn respond_directly<B>(
        &self,
        request: Request<B>,
        in_flight: Option<InFlight>,
        head: Head,
    ) -> AppFuture
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let shared = &self.shared;
        let (parts, body) = request.into_parts();
        let head = if parts.method == Method::HEAD {
            head
        } else {
            Head::No
        };
        let framing = Framing::of(&parts.method, parts.version, in_flight.as_ref(), &body);
        // An INFO span, so that errors logged inside a handler carry the method and path with
        // the usual subscriber settings; with no subscriber it costs one relaxed load. Not
        // made at all unless a subscriber wants it: with `tracing`'s `log` feature on (axum's
        // default `tower-log` turns it on for the whole build) and no subscriber, `info_span!`
        // would hand its fields to `log` on every request, and its enter, exit and drop too
        // (about 2% of an HTTP/2 request).
        // Boxed, and only when a subscriber wants either: the future stays small (it is
        // moved a few times per request) when nobody listens.
        let wants_span = tracing::span_enabled!(tracing::Level::INFO);
        let wants_timing = tracing::enabled!(tracing::Level::DEBUG);
        let traced = (wants_span || wants_timing).then(|| {
            Box::new(Traced {
                span: if wants_span {
                    tracing::info_span!("request", method = %parts.method, path = %parts.uri.path())
                } else {
                    tracing::Span::none()
                },
                started: wants_timing.then(Instant::now),
            })
        });
        #[cfg(feature = "metrics")]
        let mut meter = crate::telemetry::RequestMeter::start(
            &parts.method,
            // hyper's body knows its `content-length` without a header lookup.
            (!body.is_end_stream())
                .then(|| body.size_hint().exact())
                .flatten(),
        );
        let req = HttpRequest::new(
            parts,
            request_body(body, Some(shared.body_pace)),
            shared.info.clone(),
            shared.body_limit,
        );
        let state = {
            let _entered = traced.as_ref().map(|traced| traced.span.enter());
            // The synchronous part of a handler or middleware may panic too.
            match catch_unwind(AssertUnwindSafe(|| shared.start(req))) {
                Ok(state) => state,
                Err(panic) => State::Ready(Box::new(panicked(&*panic))),
            }
        };
        #[cfg(feature = "metrics")]
        if let Some(meter) = &mut meter {
            meter.pick_route();
        }
        let timeout = match (&state, shared.request_timeout) {
            (State::Running(_), Some(limit)) => Some(Box::pin(tokio::time::sleep(limit))),
            _ => None,
        };
        AppFuture {
            state,
            timeout,
            head,
            framing,
            shared: shared.clone(),
            in_flight,
            traced,
            #[cfg(feature = "metrics")]
            meter,
        }
    }
}

impl Shared {
    fn start(&self, req: HttpRequest) -> State {
        if self.middlewares.is_empty() {
            dispatch(&self.routes, req)
        } else {
            State::Running(
                Next::new(self.middlewares.clone(), self.endpoint.clone()).into_future(req),
            )
        }
    }
}

impl fmt::Debug for AppService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppService")
            .field("routes", &self.shared.routes)
            .field("middlewares", &self.shared.middlewares.len())
            .field("layered", &self.layers.is_some())
            .finish_non_exhaustive()
    }
}

/// For hyper's connections (`serve_connection(io, service)`): takes any request body.
impl<B> hyper::service::Service<Request<B>> for AppService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: Request<B>) -> ResponseFuture {
        self.respond(request, None)
    }
}

/// For the tower ecosystem: nest the application in axum
/// (`Router::new().nest_service("/legacy", app.into_service())`), wrap it in a
/// `ServiceBuilder`, or call it with `ServiceExt::oneshot`. Always ready: the layers'
/// readiness is awaited inside each request's future. The body need not be `Sync`.
impl<B> ::tower::Service<Request<B>> for AppService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> ResponseFuture {
        self.respond(request, None)
    }
}

/// The end of the application's middleware chain: routing.
struct Dispatch(Arc<Routes>);

impl Handler for Dispatch {
    fn call(&self, req: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        match dispatch(&self.0, req) {
            State::Running(future) => future,
            State::Ready(response) => Box::pin(std::future::ready(*response)),
            State::Done => unreachable!("dispatch answers or runs the handler"),
        }
    }
}

/// Routes a request: a WebSocket handshake to `ws_router` when it has the path, anything
/// else to `http_router`, with `426` for a plain request to a WebSocket-only path (see the
/// `ws` module's docs).
fn dispatch(routes: &Routes, mut req: HttpRequest) -> State {
    #[cfg(feature = "ws")]
    if !routes.ws.is_empty()
        && crate::ws::asks_for_websocket(&req)
        && let Resolution::Found { route, matches } = routes.ws.resolve(req.path())
    {
        req.matches = matches;
        #[cfg(feature = "metrics")]
        crate::telemetry::note_route(route.shared_pattern());
        return State::Running(route.handler().call(req));
    }
    let response = match routes.http.resolve(req.method(), req.path()) {
        Resolution::Found { route, matches } => {
            req.matches = matches;
            #[cfg(feature = "metrics")]
            crate::telemetry::note_route(route.shared_pattern());
            return State::Running(route.handler().call(req));
        }
        #[cfg(feature = "ws")]
        Resolution::NotFound if routes.ws.matches(req.path()) => {
            crate::ws::upgrade_required(req.version())
        }
        #[cfg(feature = "ws")]
        Resolution::MethodNotAllowed { .. }
            if (req.method() == Method::GET || req.method() == Method::HEAD)
                && routes.ws.matches(req.path()) =>
        {
            crate::ws::upgrade_required(req.version())
        }
        Resolution::MethodNotAllowed { allow } => {
            let mut response = if req.method() == Method::OPTIONS {
                HttpResponse::with_status(StatusCode::NO_CONTENT)
            } else {
                HttpResponse::text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            };
            response.headers.insert(ALLOW, allow.clone());
            response
        }
        Resolution::NotFound => HttpResponse::text(StatusCode::NOT_FOUND, "Not Found"),
        Resolution::BadPath(problem) => {
            tracing::debug!(problem, "refused the request path");
            HttpResponse::text(StatusCode::BAD_REQUEST, format!("Bad Request: {problem}"))
        }
    };
    State::Ready(Box::new(response))
}

pub(crate) fn panicked(panic: &(dyn std::any::Any + Send)) -> HttpResponse {
    let message = crate::panic_message(panic);
    tracing::error!(panic = %message, "handler panicked; answering 500");
    #[cfg(feature = "metrics")]
    crate::telemetry::panicked("http");
    HttpResponse::internal_server_error()
}

/// Where a request is: answered already (by the router, or by a panic), waiting on the
/// handler's future, or done.
enum State {
    /// Boxed, so that the state is as small as the common variant: every request's future
    /// holds it and is moved a few times, while these answers (404, 405, a panic) are rarer.
    Ready(Box<HttpResponse>),
    Running(BoxFuture<'static, HttpResponse>),
    Done,
}

/// The future [`AppService`] returns for each request.
pub struct ResponseFuture {
    kind: Kind,
}

// The common variant stays inline: boxing it would cost an allocation on every request.
#[allow(clippy::large_enum_variant)]
enum Kind {
    /// No layers: the application itself.
    App(AppFuture),
    /// Through the tower layers (a small future: it does not make the other variant's
    /// requests pay for it).
    Layered(LayeredFuture),
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::App(future) => f
                .debug_struct("ResponseFuture")
                .field("span", &future.traced.as_ref().map(|traced| &traced.span))
                .finish_non_exhaustive(),
            Kind::Layered(_) => f.write_str("ResponseFuture(layered)"),
        }
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().kind {
            Kind::App(future) => future.poll_response(cx).map(Ok),
            Kind::Layered(future) => future.poll_response(cx).map(Ok),
        }
    }
}

/// The application answering one request. It is small and moved once: the handler's own
/// future is the only allocation it holds.
struct AppFuture {
    state: State,
    /// The request timeout's timer (its length is `shared.request_timeout`).
    timeout: Option<Pin<Box<tokio::time::Sleep>>>,
    head: Head,
    framing: Framing,
    // For the shutdown token, which a streamed body may need; cloning the token itself
    // would take a lock on every request.
    shared: Arc<Shared>,
    /// For the server's header-read timeout: this request is open until its response is
    /// produced, or sent to the end when streamed.
    in_flight: Option<InFlight>,
    traced: Option<Box<Traced>>,
    /// The request's metrics, when they are on.
    #[cfg(feature = "metrics")]
    meter: Option<crate::telemetry::RequestMeter>,
}

/// What a request's future keeps for a subscriber: its span, and when it started (for the
/// DEBUG line that says how long it took).
struct Traced {
    span: tracing::Span,
    started: Option<Instant>,
}

impl AppFuture {
    fn poll_response(&mut self, cx: &mut Context<'_>) -> Poll<Response<Body>> {
        let this = self;
        let _entered = this.traced.as_ref().map(|traced| traced.span.enter());
        let response = match &mut this.state {
            State::Done => panic!("polled after completion"),
            State::Ready(_) => match std::mem::replace(&mut this.state, State::Done) {
                State::Ready(response) => *response,
                _ => unreachable!("matched State::Ready above"),
            },
            State::Running(future) => {
                let polled = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)));
                // The router, behind middlewares, may have chosen a route during the poll.
                #[cfg(feature = "metrics")]
                if let Some(meter) = &mut this.meter {
                    meter.pick_route();
                }
                match polled {
                    Ok(Poll::Ready(response)) => response,
                    Err(panic) => panicked(&*panic),
                    Ok(Poll::Pending) => {
                        let Some(sleep) = &mut this.timeout else {
                            return Poll::Pending;
                        };
                        if sleep.as_mut().poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                        // Set: the timer exists only with a request timeout.
                        let limit = this.shared.request_timeout.unwrap_or_default();
                        tracing::warn!(timeout = ?limit, "handler timed out; answering 503");
                        #[cfg(feature = "metrics")]
                        crate::telemetry::limit_hit(crate::telemetry::Limit::RequestTimeout);
                        HttpResponse::text(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "Service Unavailable: request timed out",
                        )
                    }
                }
            }
        };
        // Release the handler's future (and what it holds) before the body is sent.
        this.state = State::Done;
        if let Some(started) = this.traced.as_ref().and_then(|traced| traced.started) {
            tracing::debug!(status = response.status.as_u16(), elapsed = ?started.elapsed(), "answered");
        }
        #[cfg(feature = "metrics")]
        if let Some(meter) = this.meter.take() {
            let size = http_body::Body::size_hint(&response.body).exact();
            meter.finish(response.status, size);
        }
        let in_flight = this.in_flight.take();
        Poll::Ready(into_hyper(
            response,
            this.head,
            this.framing,
            &this.shared,
            in_flight,
        ))
    }
}

#[cfg(test)]
mod tests {
    /// hyper moves each request's future a few times; the layered variant must not make the
    /// future of an application without layers any bigger than its core (a 32-byte growth
    /// cost 1% more instructions per request).
    #[test]
    fn layers_do_not_grow_the_future_of_an_application_without_them() {
        let core = std::mem::size_of::<super::AppFuture>();
        let whole = std::mem::size_of::<super::ResponseFuture>();
        assert!(
            whole <= core + 8,
            "ResponseFuture {whole} bytes, AppFuture {core}"
        );
    }
}
