//! A tower service mounted at a path prefix, as a route's handler, and what makes any tower
//! service the application's own ([`Normalize`]; the tower layers use it too).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tower::util::BoxCloneSyncService;
use ::tower::{Service, ServiceExt};
use bytes::Bytes;
use http::uri::{PathAndQuery, Uri};
use http::{Request, Response, StatusCode};

use crate::body::Body;
use crate::error::BoxError;
use crate::handler::{BoxFuture, Handler};
use crate::request::{BodyError, HttpRequest, RequestBody};
use crate::response::{HttpResponse, IntoResponse};

/// The handler of a mount's routes: strips the prefix and calls the service.
pub(crate) struct Mount {
    service: BoxedService,
    /// How many segments the prefix has (`/static` 1, `/` 0).
    depth: usize,
}

impl Mount {
    pub(crate) fn new<S, B>(service: S, depth: usize) -> Self
    where
        S: ::tower::Service<Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self {
            service: BoxCloneSyncService::new(Normalize::new(service)),
            depth,
        }
    }
}

impl Handler for Mount {
    fn call(&self, req: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        let mut request = req.into_http();
        let Some(uri) = strip_prefix(request.uri(), self.depth) else {
            // The router matched the prefix, so this cannot happen; answer rather than panic.
            tracing::error!(uri = %request.uri(), "could not strip a mount's prefix");
            return Box::pin(std::future::ready(HttpResponse::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
            )));
        };
        *request.uri_mut() = uri;
        Box::pin(call_service(self.service.clone(), request))
    }
}

/// Calls a normalized service (it never fails) and answers with its response: how a
/// mounted service, and a group's layers around its routes, are a route's handler.
pub(crate) async fn call_service(
    service: BoxedService,
    request: Request<RequestBody>,
) -> HttpResponse {
    let response = match service.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    HttpResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// `uri` without the first `depth` segments of its path: `/static/app.js` is `/app.js`,
/// `/static` and `/static/` are `/`. The query, scheme and authority are kept.
fn strip_prefix(uri: &Uri, depth: usize) -> Option<Uri> {
    if depth == 0 {
        return Some(uri.clone());
    }
    let rest = strip_segments(uri.path(), depth)?;
    let path_and_query = match uri.query() {
        Some(query) => PathAndQuery::try_from(format!("{rest}?{query}")),
        None => PathAndQuery::try_from(rest),
    }
    .ok()?;
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    Uri::from_parts(parts).ok()
}

/// The path after `depth` segments, starting with `/`.
fn strip_segments(path: &str, depth: usize) -> Option<&str> {
    let mut rest = path;
    for _ in 0..depth {
        let after_slash = rest.strip_prefix('/')?;
        match after_slash.find('/') {
            Some(slash) => rest = &after_slash[slash..],
            None => return Some("/"),
        }
    }
    Some(if rest.is_empty() { "/" } else { rest })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_whole_segments() {
        assert_eq!(strip_segments("/static/app.js", 1), Some("/app.js"));
        assert_eq!(strip_segments("/static", 1), Some("/"));
        assert_eq!(strip_segments("/static/", 1), Some("/"));
        assert_eq!(strip_segments("/a/b/c/d", 2), Some("/c/d"));
        assert_eq!(strip_segments("/st%61tic/x%20y", 1), Some("/x%20y"));
        assert_eq!(strip_segments("/", 0), Some("/"));
    }

    #[test]
    fn keeps_the_query_and_authority() {
        let uri: Uri = "http://example.com/static/app.js?v=3".parse().unwrap();
        let stripped = strip_prefix(&uri, 1).unwrap();
        assert_eq!(stripped.to_string(), "http://example.com/app.js?v=3");
        let uri: Uri = "/static?x".parse().unwrap();
        assert_eq!(strip_prefix(&uri, 1).unwrap().to_string(), "/?x");
    }
}

/// A tower service of the application's request and response types, type-erased.
pub(crate) type BoxedService =
    BoxCloneSyncService<Request<RequestBody>, Response<Body>, Infallible>;

/// A tower service as the application's own: any response body becomes a [`Body`], and an
/// error (from `poll_ready` or the call) becomes a logged `500`.
pub(crate) struct Normalize<S> {
    service: S,
    /// What `poll_ready` failed with, answered by the next call.
    unready: Option<BoxError>,
}

impl<S> Normalize<S> {
    pub(crate) fn new(service: S) -> Self {
        Self {
            service,
            unready: None,
        }
    }
}

impl<S: Clone> Clone for Normalize<S> {
    fn clone(&self) -> Self {
        Self::new(self.service.clone())
    }
}

impl<S, B> Service<Request<RequestBody>> for Normalize<S>
where
    S: Service<Request<RequestBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = NormalizeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        if self.unready.is_none()
            && let Err(error) = std::task::ready!(self.service.poll_ready(cx))
        {
            self.unready = Some(error.into());
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        match self.unready.take() {
            Some(error) => NormalizeFuture::Failed { error: Some(error) },
            None => NormalizeFuture::Called {
                future: self.service.call(request),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Normalize`].
    #[project = NormalizeProjection]
    pub(crate) enum NormalizeFuture<F> {
        Called { #[pin] future: F },
        Failed { error: Option<BoxError> },
    }
}

impl<F, B, E> Future for NormalizeFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = match self.project() {
            NormalizeProjection::Called { future } => std::task::ready!(future.poll(cx))
                .map(|response| response.map(Body::from_http_body))
                .map_err(Into::into),
            NormalizeProjection::Failed { error } => {
                Err(error.take().expect("polled after completion"))
            }
        };
        Poll::Ready(Ok(result.unwrap_or_else(|error| {
            match BodyError::from_service_error(error) {
                Ok(body_error) => into_response(body_error.into_response()),
                Err(error) => {
                    tracing::error!(%error, "a tower layer or mounted service failed; answering 500");
                    into_response(HttpResponse::internal_server_error())
                }
            }
        })))
    }
}

/// An [`HttpResponse`] as an `http::Response`, as is (no `HEAD` or length handling).
pub(crate) fn into_response(response: HttpResponse) -> Response<Body> {
    let HttpResponse {
        status,
        headers,
        body,
    } = response;
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
