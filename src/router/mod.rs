//! [`HttpRouter`]: maps a method and a path to a handler, with bareASGI's patterns.
//!
//! ```
//! use bareasgi::http::Method;
//! use bareasgi::{HttpRequest, HttpRouter, Resolution};
//!
//! async fn user(req: HttpRequest) -> String {
//!     format!("user {}", req.matches.get("id").unwrap())
//! }
//! async fn me(_req: HttpRequest) -> &'static str {
//!     "me"
//! }
//!
//! let mut router = HttpRouter::new();
//! router.add(["GET", "POST"], "/users/{id:int}", user);
//! router.add([Method::GET], "/users/me", me);
//!
//! match router.resolve(&Method::GET, "/users/42") {
//!     Resolution::Found { route, matches } => {
//!         assert_eq!(route.pattern(), "/users/{id:int}");
//!         assert_eq!(matches.parse::<i64>("id"), Ok(42));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//! // A typed capture only takes what it can parse.
//! assert!(matches!(router.resolve(&Method::GET, "/users/bob"), Resolution::NotFound));
//! assert!(matches!(router.resolve(&Method::DELETE, "/users/42"), Resolution::MethodNotAllowed { .. }));
//! ```
//!
//! # Rules
//! - Patterns: literal segments, `{name}` / `{name:str}` (one non-empty segment),
//!   `{name:int}` (fits `i64`), `{name:float}` (finite number), and `{name:path}` (the rest
//!   of the path, `/` included, possibly empty; last segment only).
//! - Precedence does not depend on the order of `add`: at each segment a literal is tried
//!   first, then `int`, `float`, `str`, and `path` last. If the preferred branch does not
//!   lead to a route for the whole path, the next one is tried.
//! - Two routes that would match exactly the same paths with the same method are refused
//!   when the second is added; so are malformed patterns, and patterns with a `.` or `..`
//!   segment, which no accepted path could reach.
//! - Captures are percent-decoded. A path with a malformed `%` escape, an encoded `/` or
//!   NUL, `.` or `..` segments, or invalid UTF-8 after decoding is refused with `400`
//!   before any route is tried.
//! - The trailing slash is significant: `/users` and `/users/` are different routes.
//! - [`HttpRouter::group`] adds routes under a prefix that share middlewares (a login
//!   check for `/admin`); they are ordinary routes, so all of the above holds for them.
//! - A lookup walks one tree node per path segment and finds literal children by hash, so
//!   its cost does not grow with the number of routes.

mod error;
mod group;
mod method;
mod mount;
mod mounted;
mod path;
mod pattern;
mod route_layer;
#[cfg(test)]
mod tests;
mod tree;

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Method};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

pub use error::RouteError;
pub use group::RouteGroup;
pub use method::{IntoMethod, IntoMethods};
pub(crate) use mounted::{BoxedService, Mount, Normalize, into_response};
use path::check_path;
pub use pattern::{CaptureKind, PatternError};
use pattern::{Pattern, Segment};
pub use route_layer::RouteService;
use tree::{Captures, Endpoint, Node, allow_header};

use crate::handler::Handler;
use crate::request::Matches;
/// The routes of an application: `app.http_router`.
#[derive(Default)]
pub struct HttpRouter {
    root: Node,
    /// The routes of all-literal patterns again, by their path: most requests to such
    /// routes are answered by one hash lookup instead of a walk of the tree. A literal
    /// always wins over a capture, so when this table has the path and the method, the
    /// tree could only agree.
    exact: FxHashMap<Box<str>, Endpoint>,
    len: usize,
}

/// One registered route: a method, a pattern and its handler.
#[derive(Clone)]
pub struct Route {
    method: Method,
    pattern: Arc<str>,
    names: Arc<[Arc<str>]>,
    handler: Arc<dyn Handler>,
    is_mount: bool,
}

impl Route {
    /// The pattern the route was added with.
    #[must_use]
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The pattern, shared: a metrics label without a copy.
    #[cfg(feature = "metrics")]
    pub(crate) fn shared_pattern(&self) -> &Arc<str> {
        &self.pattern
    }

    /// The method the route answers: `*` for a [mount](HttpRouter::mount), which answers
    /// every method.
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Whether this is a [mounted](HttpRouter::mount) service; its `pattern` is the prefix.
    #[must_use]
    pub fn is_mount(&self) -> bool {
        self.is_mount
    }

    /// The route's handler.
    #[must_use]
    pub fn handler(&self) -> &Arc<dyn Handler> {
        &self.handler
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Route({} {})", self.method, self.pattern)
    }
}

/// The outcome of [`HttpRouter::resolve`].
#[derive(Debug)]
pub enum Resolution<'r> {
    /// A route matched the method and path.
    Found {
        /// The route.
        route: &'r Route,
        /// Its captures, decoded.
        matches: Matches,
    },
    /// Routes exist for the path, but none for the method; `allow` lists their methods
    /// (with `HEAD` when `GET` is there, and `OPTIONS`).
    MethodNotAllowed {
        /// The value for the `Allow` header.
        allow: &'r HeaderValue,
    },
    /// No route has this path.
    NotFound,
    /// The path itself is unacceptable (see the module docs); the text says why.
    BadPath(&'static str),
}

impl HttpRouter {
    /// An empty router.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for `methods` on the path `pattern`.
    ///
    /// `methods` is one method or a list of them, each a `&str`, `String` or [`Method`]:
    /// `"GET"`, `["GET"]`, `["GET", "POST"]`, `[Method::GET]`, a `Vec` or a slice (see
    /// [`IntoMethods`]).
    ///
    /// # Panics
    /// When the pattern is malformed, a method is not a valid token, or a route with the
    /// same method already matches exactly the same paths. The message names the problem;
    /// use [`try_add`](Self::try_add) to handle it instead. The panic names the line that
    /// called `add`, not this library.
    #[track_caller]
    pub fn add<M, H>(&mut self, methods: M, pattern: &str, handler: H)
    where
        M: IntoMethods,
        H: Handler,
    {
        if let Err(error) = self.try_add(methods, pattern, handler) {
            panic!("{error}");
        }
    }

    /// Registers a route like [`add`](Self::add), returning the problem instead of panicking.
    ///
    /// # Errors
    /// [`RouteError`] for a malformed pattern, an invalid method, or a conflict with a route
    /// added before (the error names both patterns).
    pub fn try_add<M, H>(&mut self, methods: M, pattern: &str, handler: H) -> Result<(), RouteError>
    where
        M: IntoMethods,
        H: Handler,
    {
        let pattern = Pattern::parse(pattern).map_err(RouteError::Pattern)?;
        let mut parsed: Vec<Method> = Vec::new();
        for method in methods.into_methods()? {
            if !parsed.contains(&method) {
                parsed.push(method);
            }
        }
        if parsed.is_empty() {
            return Err(RouteError::NoMethods {
                pattern: pattern.source.to_string(),
            });
        }
        if let Some(existing) = self.root.find_endpoint(&pattern.segments) {
            if let Some(mount) = &existing.any {
                return Err(RouteError::MountConflict {
                    adding: format!("route {} {:?}", parsed[0], pattern.source),
                    existing: mount::describe(mount),
                });
            }
            for method in &parsed {
                if let Some(route) = existing.routes.iter().find(|route| route.method == *method) {
                    return Err(RouteError::Conflict {
                        method: method.clone(),
                        pattern: pattern.source.to_string(),
                        existing: route.pattern.to_string(),
                    });
                }
            }
        }
        let handler: Arc<dyn Handler> = Arc::new(handler);
        let names: Arc<[Arc<str>]> = pattern.names().into();
        let endpoint = self.root.endpoint_mut(&pattern.segments);
        for method in parsed {
            endpoint.routes.push(Route {
                method,
                pattern: pattern.source.clone(),
                names: names.clone(),
                handler: handler.clone(),
                is_mount: false,
            });
            self.len += 1;
        }
        endpoint.allow = allow_header(&endpoint.routes);
        let all_literal = pattern
            .segments
            .iter()
            .all(|segment| matches!(segment, Segment::Literal(_)));
        if all_literal {
            let endpoint = endpoint.clone();
            self.exact.insert(pattern.source.as_ref().into(), endpoint);
        }
        Ok(())
    }

    /// Finds the route for `method` and `path` (the raw, percent-encoded path).
    ///
    /// `HEAD` falls back to the `GET` route. `OPTIONS` without an `OPTIONS` route is
    /// [`Resolution::MethodNotAllowed`], whose `allow` the application answers with `204`.
    #[must_use]
    pub fn resolve(&self, method: &Method, path: &str) -> Resolution<'_> {
        let encoded = match check_path(path) {
            Ok(encoded) => encoded,
            Err(problem) => return Resolution::BadPath(problem),
        };
        // A percent-encoded path must be decoded segment by segment: the tree does that.
        if !encoded
            && let Some(endpoint) = self.exact.get(path)
            && let Some(route) = endpoint.pick(method, &mut None)
        {
            return Resolution::Found {
                route,
                matches: Matches::default(),
            };
        }
        let Some(rest) = path.strip_prefix('/') else {
            return Resolution::NotFound;
        };
        let mut captures: Captures<'_> = SmallVec::new();
        let mut allowed = None;
        match self
            .root
            .find(Some(rest), encoded, method, &mut captures, &mut allowed)
        {
            Some(route) => Resolution::Found {
                route,
                matches: Matches::new(&route.names, &captures),
            },
            None => match allowed {
                Some(endpoint) => Resolution::MethodNotAllowed {
                    allow: &endpoint.allow,
                },
                None => Resolution::NotFound,
            },
        }
    }

    /// The number of routes (one per method and pattern).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no route was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Debug for HttpRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRouter")
            .field("routes", &self.len)
            .finish()
    }
}
