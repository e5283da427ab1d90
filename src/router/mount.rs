//! [`HttpRouter::mount`]: a tower service answering every method on a prefix and under it.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response};

use super::Mount;
use super::pattern::{CaptureKind, Pattern, PatternError, Segment};
use super::{HttpRouter, Route, RouteError};
use crate::error::BoxError;
use crate::handler::Handler;
use crate::request::RequestBody;

/// The capture that takes what is under a mount's prefix; not a name a pattern can use.
const REST: &str = "*";

impl HttpRouter {
    /// Mounts a tower `Service` at `prefix`: every method, on the path `prefix` and on every
    /// path under `prefix/`, goes to `service`, which sees the path with the prefix
    /// stripped (`/static/app.js` as `/app.js`, `/static` and `/static/` as `/`; the query
    /// is kept). `"/"` mounts it under everything the routes do not answer.
    ///
    /// ```no_run
    /// use bareasgi::Application;
    /// use tower_http::services::ServeDir;
    ///
    /// # #[tokio::main] async fn main() -> Result<(), bareasgi::Error> {
    /// let mut app = Application::new();
    /// app.http_router.add(["GET"], "/static/version", |_req| async { "1.0" }); // wins
    /// // Range, ETag / If-None-Match, If-Modified-Since, HEAD, precompressed files.
    /// // With the prefix for the redirects ServeDir sends (`/static/docs` to `/static/docs/`).
    /// app.http_router.mount(
    ///     "/static",
    ///     ServeDir::new("static").precompressed_gzip().redirect_path_prefix("/static"),
    /// );
    /// app.serve("127.0.0.1:9009").await
    /// # }
    /// ```
    ///
    /// A mount takes part in routing as a `{rest:path}` route would: routes added for paths
    /// under the prefix win for their methods. The router refuses paths with `.` or `..`
    /// segments or an encoded `/` with `400` before any route is tried, so such a path
    /// never reaches the service. The prefix may hold captures (`/users/{id:int}/files`);
    /// the service sees what follows them.
    ///
    /// The service is called after the [middlewares](crate::middleware) with an
    /// `http::Request<`[`RequestBody`]`>`, whose body streams from the client without the
    /// application's [`body_limit`](crate::Application::body_limit). Its response body
    /// (any `http_body::Body<Data = Bytes>`) is streamed as it is produced, with its
    /// length when known; an error it returns is logged and answered `500`.
    ///
    /// # Panics
    /// When the prefix is malformed (as a pattern), ends with `/`, holds a `{name:path}`
    /// capture, or conflicts with a route or mount added before (a route answering any
    /// method on exactly the prefix, or a `{name:path}` route right under it). The message
    /// names the problem; use [`try_mount`](Self::try_mount) to handle it instead.
    #[track_caller]
    pub fn mount<S, B>(&mut self, prefix: &str, service: S)
    where
        S: tower::Service<Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if let Err(error) = self.try_mount(prefix, service) {
            panic!("{error}");
        }
    }

    /// Mounts a service like [`mount`](Self::mount), returning the problem instead of
    /// panicking.
    ///
    /// # Errors
    /// [`RouteError::Pattern`] for a malformed prefix, [`RouteError::MountConflict`] when a
    /// route or mount added before answers the same requests (the error names both).
    pub fn try_mount<S, B>(&mut self, prefix: &str, service: S) -> Result<(), RouteError>
    where
        S: tower::Service<Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.mount_wrapped(prefix, service, |mount| mount)
    }

    /// [`try_mount`](Self::try_mount) with the mount's handler passed through `wrap` (a
    /// route group's middlewares) before it is registered.
    pub(super) fn mount_wrapped<S, B>(
        &mut self,
        prefix: &str,
        service: S,
        wrap: impl FnOnce(Arc<dyn Handler>) -> Arc<dyn Handler>,
    ) -> Result<(), RouteError>
    where
        S: tower::Service<Request<RequestBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let pattern = parse_prefix(prefix)?;
        let handler = wrap(Arc::new(Mount::new(service, pattern.segments.len())));
        self.insert_mount(pattern, handler)
    }

    fn insert_mount(
        &mut self,
        prefix: Pattern,
        handler: Arc<dyn Handler>,
    ) -> Result<(), RouteError> {
        let mut under = prefix.segments.clone();
        under.push(Segment::Capture {
            name: REST.into(),
            kind: CaptureKind::Path,
        });
        // The root mount has no path of its own: `/` is an empty rest under it.
        let own_path = (!prefix.segments.is_empty()).then_some(&prefix.segments);
        for segments in own_path.into_iter().chain([&under]) {
            if let Some(existing) = self.root.find_endpoint(segments) {
                let existing = existing
                    .any
                    .as_ref()
                    .or(existing.routes.first())
                    .map(describe)
                    .unwrap_or_default();
                return Err(RouteError::MountConflict {
                    adding: format!("mount {:?}", prefix.source),
                    existing,
                });
            }
        }
        let names: Vec<Arc<str>> = prefix.names();
        let route = |names: Vec<Arc<str>>| Route {
            method: any_method(),
            pattern: prefix.source.clone(),
            names: names.into(),
            handler: handler.clone(),
            is_mount: true,
        };
        let mut under_names = names.clone();
        under_names.push(REST.into());
        self.root.endpoint_mut(&under).any = Some(route(under_names));
        if let Some(segments) = own_path {
            let endpoint = self.root.endpoint_mut(segments);
            endpoint.any = Some(route(names));
            let all_literal = segments
                .iter()
                .all(|segment| matches!(segment, Segment::Literal(_)));
            if all_literal {
                let endpoint = endpoint.clone();
                self.exact.insert(prefix.source.as_ref().into(), endpoint);
            }
        }
        self.len += 1;
        Ok(())
    }
}

/// A mount's prefix: a pattern without a trailing `/` or a `{name:path}` capture; `/` is
/// the root, with no segments.
fn parse_prefix(prefix: &str) -> Result<Pattern, RouteError> {
    let fail = |problem: &str| RouteError::Pattern(PatternError::new(prefix, problem));
    let mut pattern = Pattern::parse(prefix).map_err(RouteError::Pattern)?;
    if prefix == "/" {
        pattern.segments.clear();
        return Ok(pattern);
    }
    match pattern.segments.last() {
        Some(Segment::Literal(text)) if text.is_empty() => Err(fail(
            "a mount prefix must not end with '/' (the mount answers the prefix and every \
             path under it)",
        )),
        Some(Segment::Capture {
            kind: CaptureKind::Path,
            ..
        }) => Err(fail(
            "a mount prefix cannot end with a '{name:path}' capture: the mount takes the rest \
             of the path itself",
        )),
        _ => Ok(pattern),
    }
}

/// The method a mount's routes report: `*`, every method.
fn any_method() -> Method {
    Method::from_bytes(b"*").expect("'*' is a valid method token")
}

/// A route or mount, for a conflict's message.
pub(super) fn describe(route: &Route) -> String {
    if route.is_mount {
        format!("mount {:?}", route.pattern)
    } else {
        format!("route {} {:?}", route.method, route.pattern)
    }
}
