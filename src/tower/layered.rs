//! The application's tower layers: kept as they are added, composed once when it is served,
//! and the future of a request that goes through them.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tower::util::{BoxCloneSyncService, Oneshot};
use ::tower::{Layer, Service, ServiceExt};
use bytes::Bytes;
use http::{Request, Response};

use super::{BoxedService, Inner, Normalize, into_response, request_body};
use crate::body::Body;
use crate::error::BoxError;
use crate::request::RequestBody;
use crate::server::InFlight;

/// A layer given to `app.layer`, waiting for the service it will wrap.
pub(crate) type LayerFn = Box<dyn FnOnce(Inner) -> Inner + Send + Sync>;

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
    Box::new(move |inner| Inner::new(BoxCloneSyncService::new(Normalize::new(layer.layer(inner)))))
}

/// Wraps `core` in `layers`, the first the outermost; `None` when there are none.
pub(crate) fn compose(core: BoxedService, layers: Vec<LayerFn>) -> Option<Inner> {
    if layers.is_empty() {
        return None;
    }
    let core = Inner::new(core);
    Some(
        layers
            .into_iter()
            .rev()
            .fold(core, |inner, layer| layer(inner)),
    )
}

impl Inner {
    /// Starts a request through the layers. `in_flight`, the HTTP/1.1 connection's record of
    /// an open request, goes to the body that comes out of the outermost layer.
    pub(crate) fn start<B>(&self, request: Request<B>, in_flight: Option<InFlight>) -> LayeredFuture
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        LayeredFuture {
            // A clone per request, so that each waits for readiness on its own.
            future: self.service.clone().oneshot(request.map(request_body)),
            in_flight,
        }
    }
}

/// A request going through the application's layers.
pub(crate) struct LayeredFuture {
    future: Oneshot<BoxedService, Request<RequestBody>>,
    in_flight: Option<InFlight>,
}

impl LayeredFuture {
    pub(crate) fn poll_response(&mut self, cx: &mut Context<'_>) -> Poll<Response<Body>> {
        // A layer's panic must not take the connection (and its other requests) down.
        let polled = catch_unwind(AssertUnwindSafe(|| Pin::new(&mut self.future).poll(cx)));
        let mut response = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(response))) => response,
            Ok(Poll::Ready(Err(never))) => match never {},
            Err(panic) => into_response(crate::service::panicked(&*panic)),
        };
        response.body_mut().hold_open(self.in_flight.take());
        Poll::Ready(response)
    }
}
