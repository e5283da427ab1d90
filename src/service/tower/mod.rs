//! The tower door: any tower [`Layer`](::tower::Layer) around the application, any tower
//! [`Service`] mounted at a path, and the application itself a tower `Service`.
//!
//! ```no_run
//! use std::time::Duration;
//! use bareasgi::{Application, HttpRequest};
//! use http::StatusCode;
//! use tower_http::compression::CompressionLayer;
//! use tower_http::cors::CorsLayer;
//! use tower_http::services::ServeDir;
//! use tower_http::timeout::TimeoutLayer;
//!
//! async fn hello(_req: HttpRequest) -> &'static str {
//!     "Hello, World!"
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), bareasgi::Error> {
//!     let mut app = Application::new();
//!     app.http_router.add(["GET"], "/", hello);
//!     // `/static/app.js` is `static/app.js`, with Range, ETag, 304 and HEAD.
//!     app.http_router.mount("/static", ServeDir::new("static"));
//!     app.layer(CorsLayer::permissive()) // the outermost: sees every request first
//!         .layer(CompressionLayer::new())
//!         .layer(TimeoutLayer::with_status_code(
//!             StatusCode::REQUEST_TIMEOUT,
//!             Duration::from_secs(10),
//!         ));
//!     app.serve("127.0.0.1:9009").await
//! }
//! ```
//!
//! # Layers: [`Application::layer`](crate::Application::layer)
//! A layer wraps the whole application: every HTTP request, including those answered
//! `404` or `405`, and WebSocket handshakes (hyper's upgrade travels in the request's
//! extensions, which layers pass on). The first layer added is the outermost, and all of
//! them run outside the bareASGI-style [middlewares](crate::middleware):
//!
//! ```text
//! connection ──> layer 1 ──> layer 2 ──> … ──> middlewares ──> router ──> handler
//!                (first added)                                      └──> mounted Service
//! ```
//!
//! - **Requests.** A layer's service receives `http::Request<`[`RequestBody`](crate::RequestBody)`>`. The service
//!   it wraps ([`Inner`]) takes a request with *any* body (`http_body::Body<Data = Bytes>`,
//!   `Send`, error convertible into [`BoxError`]), so layers that change the body, such as
//!   tower-http's `RequestBodyLimitLayer` (which hands on `Limited<RequestBody>`), fit
//!   anywhere in the stack. A layer that reads the body itself waits on the client under
//!   the application's body-read timeout and minimum data rate, and failing on them (or
//!   on a limit) answers `408` (or `413`) as a handler would; once the request reaches the
//!   application, the handler's own limits govern the body.
//! - **Responses.** A layer may answer with any `http_body::Body<Data = Bytes>` whose error
//!   converts into [`BoxError`]; it is sent frame by frame as it is produced (see
//!   [`Body::from_http_body`]). An error from a layer is logged and answered
//!   `500 Internal Server Error` (use tower's `HandleErrorLayer` to choose another answer);
//!   so is a panic. For `HEAD` the layers see the response `GET` would get (so a
//!   compression layer's `content-encoding` is there for both); its body is dropped after
//!   the outermost layer.
//! - **What stays.** `serve` keeps all it does with layers: graceful shutdown (event streams
//!   marked [`end_on_shutdown`](Body::end_on_shutdown) still end at once), the header-read
//!   timeout (a response streamed through layers keeps its connection busy), limits,
//!   lifespan handlers and WebSocket upgrades.
//! - **Cost.** An application without layers calls its core directly, as before. With
//!   layers, each request clones the layer stack (one allocation) and boxes its future,
//!   as axum's router does.
//!
//! # Mounts: [`HttpRouter::mount`](crate::HttpRouter::mount)
//! A mounted service answers every method on its prefix and everything under it, and sees
//! the path with the prefix stripped (as axum's `nest_service`). It takes part in routing
//! as a `{rest:path}` route would, so explicit routes under the prefix win, and it never
//! sees a path the router refuses (`.` or `..` segments, encoded `/`). It is called with
//! `http::Request<RequestBody>` after the middlewares, and its body (unlimited: the
//! [`body_limit`](crate::Application::body_limit) applies to `req.bytes()` only) is the
//! client's stream.
//!
//! # Layers on a group of routes: [`RouteGroup::layer`](crate::RouteGroup::layer)
//! A layer added to a [route group](crate::HttpRouter::group) runs around each of the
//! group's routes only, once the route is found (as axum's `route_layer`), and outside the
//! group's middlewares; the handler behind it still gets the route's captures, `info` and
//! `context`. It wraps a [`RouteService`].
//!
//! # The application as a service: [`Application::into_service`](crate::Application::into_service)
//! [`AppService`] implements `tower::Service<http::Request<B>>` for any
//! body `B` (no `Sync` needed), with its layers, so it can be nested in axum
//! (`Router::new().nest_service("/legacy", app.into_service())`) or called in-process with
//! `tower::ServiceExt::oneshot`.

mod layered;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tower::Service;
use bytes::Bytes;
use http::{Request, Response};

pub(crate) use self::layered::{LayerFn, LayeredFuture, Layers, boxed_layer, compose};
use super::{AppService, ResponseFuture};
use crate::body::Body;
use crate::error::BoxError;
use crate::request::request_body;
use crate::router::BoxedService;
pub use crate::router::RouteService;

type BoxedFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

/// What a layer given to [`Application::layer`](crate::Application::layer) wraps: the rest
/// of the application (the layers added after it, then the middlewares and the router).
///
/// It takes a request with any body — `Request<RequestBody>`, or whatever a layer turned
/// it into, such as tower-http's `Limited<RequestBody>` — and never fails.
#[derive(Clone)]
pub struct Inner {
    service: InnerService,
}

#[derive(Clone)]
enum InnerService {
    /// The application itself, unboxed: the innermost layer calls it directly.
    App(AppService),
    /// The layers added later.
    Layers(BoxedService),
}

impl Inner {
    pub(crate) fn app(app: AppService) -> Self {
        Self {
            service: InnerService::App(app),
        }
    }

    pub(crate) fn layers(service: BoxedService) -> Self {
        Self {
            service: InnerService::Layers(service),
        }
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner").finish_non_exhaustive()
    }
}

impl<B> Service<Request<B>> for Inner
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = InnerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match &mut self.service {
            InnerService::App(_) => Poll::Ready(Ok(())),
            InnerService::Layers(service) => service.poll_ready(cx),
        }
    }

    fn call(&mut self, request: Request<B>) -> InnerFuture {
        // A body the layers wrapped is still timed by the `RequestBody` inside it, until the
        // application's core holds the wrapper to the handler's pace.
        let request = request.map(|body| request_body(body, None));
        InnerFuture {
            kind: match &mut self.service {
                InnerService::App(app) => InnerFutureKind::App(app.respond_within_layers(request)),
                InnerService::Layers(service) => InnerFutureKind::Layers(service.call(request)),
            },
        }
    }
}

/// The future of [`Inner`].
pub struct InnerFuture {
    kind: InnerFutureKind,
}

// Both are boxed by the layer above (its future is); boxing `App` here would add one more.
#[allow(clippy::large_enum_variant)]
enum InnerFutureKind {
    App(ResponseFuture),
    Layers(BoxedFuture),
}

impl fmt::Debug for InnerFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InnerFuture").finish_non_exhaustive()
    }
}

impl Future for InnerFuture {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().kind {
            InnerFutureKind::App(future) => Pin::new(future).poll(cx),
            InnerFutureKind::Layers(future) => future.as_mut().poll(cx),
        }
    }
}
