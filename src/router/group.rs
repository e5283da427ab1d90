//! [`RouteGroup`]: routes under one prefix that share middlewares, made by
//! [`HttpRouter::group`].

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};

use super::method::IntoMethods;
use super::pattern::{CaptureKind, Pattern, PatternError, Segment};
use super::{HttpRouter, RouteError};
use crate::error::BoxError;
use crate::handler::{BoxFuture, Handler};
use crate::middleware::{Middleware, MiddlewareChain};
use crate::request::{HttpRequest, RequestBody};
use crate::response::HttpResponse;

impl HttpRouter {
    /// A group of routes under `prefix` (`"/admin"`; `"/"` for no prefix) whose handlers
    /// all run inside the same [middlewares](crate::middleware), outermost first: the
    /// bareASGI way to protect a section of a site, instead of a
    /// [`make_middleware_chain`](crate::make_middleware_chain) around each handler.
    ///
    /// ```
    /// use bareasgi::http::StatusCode;
    /// use bareasgi::{Application, HttpRequest, HttpResponse, Next};
    ///
    /// async fn require_login(req: HttpRequest, next: Next) -> HttpResponse {
    ///     match req.cookie("session") {
    ///         Some(_) => next.run(req).await,
    ///         None => HttpResponse::text(StatusCode::UNAUTHORIZED, "log in first"),
    ///     }
    /// }
    /// async fn users(_req: HttpRequest) -> &'static str { "alice, bob" }
    /// async fn home(_req: HttpRequest) -> &'static str { "admin home" }
    /// async fn about(_req: HttpRequest) -> &'static str { "public" }
    ///
    /// let mut app = Application::new();
    /// app.http_router
    ///     .group("/admin")
    ///     .middleware(require_login)
    ///     .add("GET", "", home)           // GET /admin
    ///     .add("GET", "/users", users);   // GET /admin/users
    /// app.http_router.add("GET", "/about", about); // outside the group: no login
    /// ```
    ///
    /// The routes are ordinary routes of this router, so routing is unchanged: the same
    /// precedence and conflicts, and a path or method no route answers is a `404` or `405`
    /// before any of the group's middlewares runs (as axum's `route_layer`). A group can
    /// hold groups ([`RouteGroup::group`]), which run the outer group's middlewares first,
    /// tower services ([`RouteGroup::mount`]), and tower layers around its routes
    /// ([`RouteGroup::layer`]).
    ///
    /// # Panics
    /// When `prefix` is not a pattern, ends with `/` (other than `"/"` itself), or holds a
    /// `{name:path}` capture, which would leave nothing for the routes; the message names
    /// the problem and the panic points at the caller's line.
    #[track_caller]
    pub fn group(&mut self, prefix: &str) -> RouteGroup<'_> {
        if let Err(error) = check_prefix(prefix) {
            panic!("{error}");
        }
        let prefix = if prefix == "/" { "" } else { prefix };
        RouteGroup::new(self, prefix.to_owned(), Vec::new(), Vec::new())
    }
}

/// Wraps a group's handler (after its middlewares) in something more: a tower layer.
pub(crate) type HandlerWrap = Arc<dyn Fn(Arc<dyn Handler>) -> Arc<dyn Handler> + Send + Sync>;

/// Routes under one prefix, sharing middlewares: see [`HttpRouter::group`].
///
/// Add the middlewares first, then the routes: a middleware added after a route would not
/// run for it, so that is refused with a panic.
pub struct RouteGroup<'r> {
    router: &'r mut HttpRouter,
    prefix: String,
    middlewares: Vec<Arc<dyn Middleware>>,
    /// The tower layers ([`layer`](Self::layer)), outermost first, around the middlewares.
    wraps: Vec<HandlerWrap>,
    /// The middlewares as every route of the group shares them, made at the first route.
    chain: Option<Arc<[Arc<dyn Middleware>]>>,
}

impl<'r> RouteGroup<'r> {
    fn new(
        router: &'r mut HttpRouter,
        prefix: String,
        middlewares: Vec<Arc<dyn Middleware>>,
        wraps: Vec<HandlerWrap>,
    ) -> Self {
        Self {
            router,
            prefix,
            middlewares,
            wraps,
            chain: None,
        }
    }

    /// The prefix the group's routes are under (`""` for the root).
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Runs `middleware` around every route added to the group after it; middlewares added
    /// earlier are outside it.
    ///
    /// # Panics
    /// When a route or an inner group was already added to the group: the middleware
    /// would not protect them.
    #[track_caller]
    pub fn middleware(&mut self, middleware: impl Middleware) -> &mut Self {
        self.refuse_when_frozen("a middleware");
        self.middlewares.push(Arc::new(middleware));
        self
    }

    /// Adds a wrapper around every handler added after it (a tower layer, see
    /// [`layer`](Self::layer)); the first added is the outermost.
    #[track_caller]
    pub(crate) fn wrap(&mut self, wrap: HandlerWrap) {
        self.refuse_when_frozen("a layer");
        self.wraps.push(wrap);
    }

    #[track_caller]
    fn refuse_when_frozen(&self, what: &str) {
        if self.chain.is_some() {
            panic!(
                "{what} was added to the route group {:?} after its routes or inner groups; \
                 it would not run for them: add the group's middlewares and layers first",
                self.display_prefix()
            );
        }
    }

    /// `handler` inside the group's middlewares, inside its layers.
    fn wrapped(&mut self, handler: Arc<dyn Handler>) -> Arc<dyn Handler> {
        let chain = self.frozen_chain();
        let mut handler = if chain.is_empty() {
            handler
        } else {
            Arc::new(MiddlewareChain::from_parts(chain, handler))
        };
        for wrap in self.wraps.iter().rev() {
            handler = wrap(handler);
        }
        handler
    }

    /// Registers `handler` for `methods` on `prefix + path`, inside the group's
    /// middlewares. `path` starts with `/`, or is `""` for the prefix itself; it may hold
    /// captures as any pattern does. `methods` is as for [`HttpRouter::add`].
    ///
    /// # Panics
    /// As [`HttpRouter::add`], naming the whole pattern; and when `path` is neither empty
    /// nor starts with `/`. Use [`try_add`](Self::try_add) to handle the problem instead.
    #[track_caller]
    pub fn add<M, H>(&mut self, methods: M, path: &str, handler: H) -> &mut Self
    where
        M: IntoMethods,
        H: Handler,
    {
        if let Err(error) = self.try_add(methods, path, handler) {
            panic!("{error}");
        }
        self
    }

    /// Registers a route like [`add`](Self::add), returning the problem instead of
    /// panicking.
    ///
    /// # Errors
    /// As [`HttpRouter::try_add`] for the whole pattern, and [`RouteError::Pattern`] when
    /// `path` is neither empty nor starts with `/`.
    pub fn try_add<M, H>(
        &mut self,
        methods: M,
        path: &str,
        handler: H,
    ) -> Result<&mut Self, RouteError>
    where
        M: IntoMethods,
        H: Handler,
    {
        let pattern = self.pattern(path)?;
        if self.chain.is_none() && self.middlewares.is_empty() && self.wraps.is_empty() {
            // Nothing to wrap it in: registered as `HttpRouter::add` would.
            self.frozen_chain();
            self.router.try_add(methods, &pattern, handler)?;
        } else {
            let handler = Wrapped(self.wrapped(Arc::new(handler)));
            self.router.try_add(methods, &pattern, handler)?;
        }
        Ok(self)
    }

    /// Mounts a tower `Service` at `prefix + path` as [`HttpRouter::mount`] does, behind
    /// the group's middlewares: a directory of files only logged-in users may read.
    ///
    /// ```no_run
    /// use bareasgi::http::StatusCode;
    /// use bareasgi::{Application, HttpRequest, HttpResponse, Next};
    /// use tower_http::services::ServeDir;
    ///
    /// async fn require_login(req: HttpRequest, next: Next) -> HttpResponse {
    ///     match req.cookie("session") {
    ///         Some(_) => next.run(req).await,
    ///         None => HttpResponse::text(StatusCode::UNAUTHORIZED, "log in first"),
    ///     }
    /// }
    ///
    /// let mut app = Application::new();
    /// app.http_router
    ///     .group("/members")
    ///     .middleware(require_login)
    ///     .mount("/files", ServeDir::new("member-files")); // /members/files/...
    /// ```
    ///
    /// # Panics
    /// As [`HttpRouter::mount`] for the whole prefix, and when `path` is neither empty nor
    /// starts with `/`; [`try_mount`](Self::try_mount) returns the problem instead.
    #[track_caller]
    pub fn mount<S, B>(&mut self, path: &str, service: S) -> &mut Self
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
        if let Err(error) = self.try_mount(path, service) {
            panic!("{error}");
        }
        self
    }

    /// Mounts a service like [`mount`](Self::mount), returning the problem instead of
    /// panicking.
    ///
    /// # Errors
    /// As [`HttpRouter::try_mount`] for the whole prefix, and [`RouteError::Pattern`] when
    /// `path` is neither empty nor starts with `/`.
    pub fn try_mount<S, B>(&mut self, path: &str, service: S) -> Result<&mut Self, RouteError>
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
        let prefix = self.pattern(path)?;
        self.frozen_chain();
        let router = &mut *self.router;
        let (chain, wraps) = (self.chain.clone(), &self.wraps);
        router.mount_wrapped(&prefix, service, |mount| {
            let mut handler = match chain {
                Some(chain) if !chain.is_empty() => {
                    Arc::new(MiddlewareChain::from_parts(chain, mount))
                }
                _ => mount,
            };
            for wrap in wraps.iter().rev() {
                handler = wrap(handler);
            }
            handler
        })?;
        Ok(self)
    }

    /// A group under `self.prefix() + prefix` whose routes run inside this group's
    /// middlewares and then its own.
    ///
    /// # Panics
    /// As [`HttpRouter::group`].
    #[track_caller]
    pub fn group(&mut self, prefix: &str) -> RouteGroup<'_> {
        let joined = format!("{}{prefix}", self.prefix);
        if let Err(error) = check_prefix(prefix).and_then(|()| check_prefix(&joined)) {
            panic!("{error}");
        }
        let prefix = if prefix == "/" { "" } else { prefix };
        let prefix = format!("{}{prefix}", self.prefix);
        // From here on a middleware added to this group would miss the inner group's routes.
        self.frozen_chain();
        let middlewares = self.middlewares.clone();
        let wraps = self.wraps.clone();
        RouteGroup::new(self.router, prefix, middlewares, wraps)
    }

    /// The group's middlewares as its routes share them; from the first route (or inner
    /// group) on, no middleware can be added.
    fn frozen_chain(&mut self) -> Arc<[Arc<dyn Middleware>]> {
        self.chain
            .get_or_insert_with(|| self.middlewares.clone().into())
            .clone()
    }

    fn pattern(&self, path: &str) -> Result<String, RouteError> {
        let pattern = format!("{}{path}", self.prefix);
        if !(path.is_empty() || path.starts_with('/')) {
            return Err(RouteError::Pattern(PatternError::new(
                &pattern,
                format!(
                    "a route of the group {:?} must start with '/' (or be \"\" for the \
                     prefix itself), not {path:?}",
                    self.display_prefix()
                ),
            )));
        }
        if pattern.is_empty() {
            return Ok("/".to_owned());
        }
        Ok(pattern)
    }

    fn display_prefix(&self) -> &str {
        if self.prefix.is_empty() {
            "/"
        } else {
            &self.prefix
        }
    }
}

/// A group's prefix: `/`, or a pattern without a trailing `/` or a `{name:path}` capture.
fn check_prefix(prefix: &str) -> Result<(), RouteError> {
    check_prefix_pattern(prefix).map_err(RouteError::Pattern)
}

fn check_prefix_pattern(prefix: &str) -> Result<(), PatternError> {
    if prefix == "/" {
        return Ok(());
    }
    let pattern = Pattern::parse(prefix)?;
    let fail = |problem: &str| Err(PatternError::new(prefix, problem));
    match pattern.segments.last() {
        Some(Segment::Literal(text)) if text.is_empty() => fail(
            "a route group's prefix must not end with '/': its routes add their own \
             ('/users', or \"\" for the prefix itself)",
        ),
        Some(Segment::Capture {
            kind: CaptureKind::Path,
            ..
        }) => fail("a route group's prefix cannot end with a '{name:path}' capture"),
        _ => Ok(()),
    }
}

/// A group's handler, already wrapped, registered as any handler is.
struct Wrapped(Arc<dyn Handler>);

impl Handler for Wrapped {
    fn call(&self, req: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        self.0.call(req)
    }
}

impl fmt::Debug for RouteGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteGroup")
            .field("prefix", &self.display_prefix())
            .field("middlewares", &self.middlewares.len())
            .field("layers", &self.wraps.len())
            .finish_non_exhaustive()
    }
}
