//! [`RouteGroup::layer`]: a tower layer around the routes of a group, and
//! [`RouteService`], the service it wraps.

use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use ::tower::util::BoxCloneSyncService;
use ::tower::{Layer, Service};
use bytes::Bytes;
use http::{Request, Response};

use super::mounted::call_service;
use super::{BoxedService, Normalize, RouteGroup};
use crate::body::Body;
use crate::error::BoxError;
use crate::handler::{BoxFuture, Handler};
use crate::request::request_body;
use crate::request::{HttpRequest, RequestBody, RouteParts};
use crate::response::HttpResponse;

impl RouteGroup<'_> {
    /// Runs a tower [`Layer`] around every route added to the group after it (and around
    /// the group's [middlewares](Self::middleware)), as axum's `route_layer`: a
    /// tower-http timeout, compression or concurrency limit for one section of the site.
    /// The first layer added is the outermost.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bareasgi::{Application, HttpRequest};
    /// use bareasgi::http::StatusCode;
    /// use tower_http::timeout::TimeoutLayer;
    ///
    /// async fn report(_req: HttpRequest) -> &'static str {
    ///     "a slow report"
    /// }
    ///
    /// let mut app = Application::new();
    /// app.http_router
    ///     .group("/reports")
    ///     .layer(TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, Duration::from_secs(30)))
    ///     .add("GET", "/yearly", report);
    /// ```
    ///
    /// The layer's service sees an `http::Request<`[`RequestBody`]`>` and may change its
    /// line, headers and body (any `http_body::Body<Data = Bytes>`); the handler then
    /// gets them with the route's captures, the application's `info` and the request's
    /// `context` as they were. Its response may have any body of bytes. A layer that
    /// fails is logged and answered `500` (tower's `HandleErrorLayer` chooses another
    /// answer). Like the group's middlewares, it runs only for the group's routes, once
    /// the route is found: `404` and `405` are answered before it.
    ///
    /// # Panics
    /// When a route or an inner group was already added to the group: the layer would not
    /// run for them.
    #[track_caller]
    pub fn layer<L, B>(&mut self, layer: L) -> &mut Self
    where
        L: Layer<RouteService> + Send + Sync + 'static,
        L::Service:
            Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request<RequestBody>>>::Future: Send + 'static,
        <L::Service as Service<Request<RequestBody>>>::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.wrap(Arc::new(move |handler: Arc<dyn Handler>| {
            let service = layer.layer(RouteService { handler });
            Arc::new(Layered {
                service: BoxCloneSyncService::new(Normalize::new(service)),
            }) as Arc<dyn Handler>
        }));
        self
    }
}

/// A route's handler as a tower service, for the layers of a
/// [route group](RouteGroup::layer) to wrap. It takes a request with any body of bytes.
#[derive(Clone)]
pub struct RouteService {
    handler: Arc<dyn Handler>,
}

/// What the layers carry for the handler in the request's extensions (which need `Clone`):
/// taken once, by the [`RouteService`].
#[derive(Clone)]
struct Carried(Arc<Mutex<Option<RouteParts>>>);

impl<B> Service<Request<B>> for RouteService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let rest = request
            .extensions_mut()
            .remove::<Carried>()
            .and_then(|carried| carried.0.lock().ok()?.take());
        let Some(rest) = rest else {
            tracing::error!(
                "a route group's layer dropped the request's extensions; answering 500"
            );
            return Box::pin(std::future::ready(Ok(into_http(
                HttpResponse::internal_server_error(),
            ))));
        };
        let request = request.map(|body| request_body(body, None));
        let future = self.handler.call(HttpRequest::from_layered(request, rest));
        Box::pin(async move { Ok(into_http(future.await)) })
    }
}

impl fmt::Debug for RouteService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteService").finish_non_exhaustive()
    }
}

/// The handler of a route in a group with layers: the layers, then the route's handler.
struct Layered {
    service: BoxedService,
}

impl Handler for Layered {
    fn call(&self, req: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        let (mut request, rest) = req.into_layered();
        request
            .extensions_mut()
            .insert(Carried(Arc::new(Mutex::new(Some(rest)))));
        Box::pin(call_service(self.service.clone(), request))
    }
}

fn into_http(response: HttpResponse) -> Response<Body> {
    let HttpResponse {
        status,
        headers,
        body,
    } = response;
    let mut http = Response::new(body);
    *http.status_mut() = status;
    *http.headers_mut() = headers;
    http
}
