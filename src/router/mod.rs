//! [`HttpRouter`]: maps a method and a path to a handler, with bareASGI's patterns.
//!
//! ```
//! use bareasgi::{HttpRequest, HttpRouter, Resolution};
//! use http::Method;
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
//! - A lookup walks one tree node per path segment and finds literal children by hash, so
//!   its cost does not grow with the number of routes.

mod pattern;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Method};
use percent_encoding::percent_decode_str;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

pub use pattern::{CaptureKind, PatternError};
use pattern::{Pattern, Segment};

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
}

impl Route {
    /// The pattern the route was added with.
    #[must_use]
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The method the route answers.
    #[must_use]
    pub fn method(&self) -> &Method {
        &self.method
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

/// The values captured on the way down the tree; most patterns have at most four.
type Captures<'p> = SmallVec<[Cow<'p, str>; 4]>;

#[derive(Default)]
struct Node {
    // FxHash: the keys are the application's own literals, so a client cannot choose
    // colliding ones; it only picks which key to look up.
    statics: FxHashMap<Box<str>, Node>,
    int: Option<Box<Node>>,
    float: Option<Box<Node>>,
    string: Option<Box<Node>>,
    // A `path` capture takes everything left, so it leads straight to an endpoint.
    rest: Option<Box<Endpoint>>,
    endpoint: Option<Endpoint>,
}

#[derive(Clone)]
struct Endpoint {
    routes: Vec<Route>,
    allow: HeaderValue,
}

impl HttpRouter {
    /// An empty router.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for `methods` on the path `pattern`.
    ///
    /// `methods` is anything iterable of `&str`, `String` or [`Method`]: `["GET"]`,
    /// `["GET", "POST"]`, `[Method::GET]`.
    ///
    /// # Panics
    /// When the pattern is malformed, a method is not a valid token, or a route with the
    /// same method already matches exactly the same paths. The message names the problem;
    /// use [`try_add`](Self::try_add) to handle it instead.
    pub fn add<M, H>(&mut self, methods: M, pattern: &str, handler: H)
    where
        M: IntoIterator,
        M::Item: IntoMethod,
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
        M: IntoIterator,
        M::Item: IntoMethod,
        H: Handler,
    {
        let pattern = Pattern::parse(pattern).map_err(RouteError::Pattern)?;
        let mut parsed: Vec<Method> = Vec::new();
        for method in methods {
            let method = method.into_method()?;
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
            .find(Some(rest), method, &mut captures, &mut allowed)
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

impl Node {
    fn find_endpoint(&self, segments: &[Segment]) -> Option<&Endpoint> {
        let Some((first, rest)) = segments.split_first() else {
            return self.endpoint.as_ref();
        };
        match first {
            Segment::Literal(text) => self.statics.get(text)?.find_endpoint(rest),
            Segment::Capture {
                kind: CaptureKind::Path,
                ..
            } => self.rest.as_deref(),
            Segment::Capture { kind, .. } => self.capture_child(*kind)?.find_endpoint(rest),
        }
    }

    fn capture_child(&self, kind: CaptureKind) -> Option<&Node> {
        match kind {
            CaptureKind::Int => self.int.as_deref(),
            CaptureKind::Float => self.float.as_deref(),
            CaptureKind::Str => self.string.as_deref(),
            CaptureKind::Path => None,
        }
    }

    fn endpoint_mut(&mut self, segments: &[Segment]) -> &mut Endpoint {
        let Some((first, rest)) = segments.split_first() else {
            return self.endpoint.get_or_insert_with(Endpoint::new);
        };
        let child = match first {
            Segment::Literal(text) => self.statics.entry(text.clone()).or_default(),
            Segment::Capture {
                kind: CaptureKind::Path,
                ..
            } => {
                return self.rest.get_or_insert_with(|| Box::new(Endpoint::new()));
            }
            Segment::Capture {
                kind: CaptureKind::Int,
                ..
            } => self.int.get_or_insert_default(),
            Segment::Capture {
                kind: CaptureKind::Float,
                ..
            } => self.float.get_or_insert_default(),
            Segment::Capture {
                kind: CaptureKind::Str,
                ..
            } => self.string.get_or_insert_default(),
        };
        child.endpoint_mut(rest)
    }

    /// Depth-first search in precedence order. `rest` is what is left of the path after a
    /// `/` (`None` once the path is used up); `allowed` remembers the first endpoint whose
    /// path matched but whose methods did not, for the `405`.
    fn find<'n, 'p>(
        &'n self,
        rest: Option<&'p str>,
        method: &Method,
        captures: &mut Captures<'p>,
        allowed: &mut Option<&'n Endpoint>,
    ) -> Option<&'n Route> {
        let Some(rest) = rest else {
            return self.endpoint.as_ref()?.pick(method, allowed);
        };
        let (raw, next) = match rest.bytes().position(|byte| byte == b'/') {
            Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
            None => (rest, None),
        };
        let segment = decode(raw);
        if !self.statics.is_empty()
            && let Some(child) = self.statics.get(&*segment)
            && let Some(route) = child.find(next, method, captures, allowed)
        {
            return Some(route);
        }
        let typed = [
            (&self.int, CaptureKind::Int),
            (&self.float, CaptureKind::Float),
            (&self.string, CaptureKind::Str),
        ];
        for (child, kind) in typed {
            if let Some(child) = child
                && kind.accepts(&segment)
            {
                captures.push(segment.clone());
                if let Some(route) = child.find(next, method, captures, allowed) {
                    return Some(route);
                }
                captures.pop();
            }
        }
        if let Some(endpoint) = &self.rest {
            captures.push(decode(rest));
            if let Some(route) = endpoint.pick(method, allowed) {
                return Some(route);
            }
            captures.pop();
        }
        None
    }
}

impl Endpoint {
    fn new() -> Self {
        Self {
            routes: Vec::new(),
            allow: HeaderValue::from_static(""),
        }
    }

    fn pick<'n>(
        &'n self,
        method: &Method,
        allowed: &mut Option<&'n Endpoint>,
    ) -> Option<&'n Route> {
        let route = self
            .routes
            .iter()
            .find(|route| route.method == *method)
            .or_else(|| {
                if *method == Method::HEAD {
                    self.routes.iter().find(|route| route.method == Method::GET)
                } else {
                    None
                }
            });
        if route.is_none() && allowed.is_none() {
            *allowed = Some(self);
        }
        route
    }
}

fn allow_header(routes: &[Route]) -> HeaderValue {
    let mut methods: Vec<&str> = routes.iter().map(|route| route.method.as_str()).collect();
    if methods.contains(&"GET") && !methods.contains(&"HEAD") {
        methods.push("HEAD");
    }
    if !methods.contains(&"OPTIONS") {
        methods.push("OPTIONS");
    }
    HeaderValue::from_str(&methods.join(", ")).expect("method tokens are valid header text")
}

/// Decodes one segment; `check_path` has already refused what would not decode to UTF-8.
fn decode(raw: &str) -> Cow<'_, str> {
    if raw.contains('%') {
        percent_decode_str(raw).decode_utf8_lossy()
    } else {
        Cow::Borrowed(raw)
    }
}

/// Refuses paths that would make captures ambiguous or unsafe to use as file names.
/// Returns whether the path has `%` escapes.
fn check_path(path: &str) -> Result<bool, &'static str> {
    let (mut encoded, mut dotted) = (false, false);
    for byte in path.bytes() {
        encoded |= byte == b'%';
        dotted |= byte == b'.';
    }
    if !encoded && !dotted {
        return Ok(false);
    }
    for raw in path.split('/') {
        if !raw.contains('%') {
            // Nothing to decode: only a dot segment could be wrong.
            if raw == "." || raw == ".." {
                return Err("'.' and '..' segments are not allowed in the path");
            }
            continue;
        }
        if !is_well_encoded(raw) {
            return Err("invalid percent-encoding in the path");
        }
        let decoded: Cow<'_, [u8]> = percent_decode_str(raw).into();
        if decoded.contains(&b'/') {
            return Err("encoded '/' in the path");
        }
        if decoded.contains(&0) {
            return Err("encoded NUL in the path");
        }
        if std::str::from_utf8(&decoded).is_err() {
            return Err("the path is not UTF-8 after percent-decoding");
        }
        if &*decoded == b"." || &*decoded == b".." {
            return Err("'.' and '..' segments are not allowed in the path");
        }
    }
    Ok(encoded)
}

/// Whether every `%` starts a two-digit hex escape.
fn is_well_encoded(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|&b| b == b'%') {
        let escape = at + offset;
        match bytes.get(escape + 1..escape + 3) {
            Some([high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                at = escape + 3
            }
            _ => return false,
        }
    }
    true
}

/// A method given to [`HttpRouter::add`]: `&str`, `String` or [`Method`].
pub trait IntoMethod {
    /// The method.
    ///
    /// # Errors
    /// [`RouteError::Method`] when the text is not an HTTP method token.
    fn into_method(self) -> Result<Method, RouteError>;
}

impl IntoMethod for Method {
    fn into_method(self) -> Result<Method, RouteError> {
        Ok(self)
    }
}

impl IntoMethod for &Method {
    fn into_method(self) -> Result<Method, RouteError> {
        Ok(self.clone())
    }
}

impl IntoMethod for &str {
    fn into_method(self) -> Result<Method, RouteError> {
        let method = Method::from_bytes(self.as_bytes()).map_err(|_| RouteError::Method {
            method: self.to_owned(),
            problem: "not a valid HTTP method token".into(),
        })?;
        // Methods are case-sensitive: "get" would be a different, never-used method.
        let upper = self.to_ascii_uppercase();
        if upper != self && Method::from_bytes(upper.as_bytes()).is_ok_and(|m| is_standard(&m)) {
            return Err(RouteError::Method {
                method: self.to_owned(),
                problem: format!("methods are case-sensitive; did you mean {upper:?}?"),
            });
        }
        Ok(method)
    }
}

impl IntoMethod for String {
    fn into_method(self) -> Result<Method, RouteError> {
        self.as_str().into_method()
    }
}

fn is_standard(method: &Method) -> bool {
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::PATCH,
        Method::TRACE,
    ]
    .contains(method)
}

/// Why a route could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteError {
    /// The pattern is malformed.
    Pattern(PatternError),
    /// A method is not a valid HTTP method token.
    Method {
        /// The method as given.
        method: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The method list is empty.
    NoMethods {
        /// The pattern.
        pattern: String,
    },
    /// A route added earlier answers the same method on exactly the same paths.
    Conflict {
        /// The method both routes answer.
        method: Method,
        /// The pattern being added.
        pattern: String,
        /// The pattern added before.
        existing: String,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pattern(error) => error.fmt(f),
            Self::Method { method, problem } => write!(f, "invalid method {method:?}: {problem}"),
            Self::NoMethods { pattern } => write!(f, "route {pattern:?} was given no methods"),
            Self::Conflict {
                method,
                pattern,
                existing,
            } => write!(
                f,
                "route {method} {pattern:?} conflicts with {method} {existing:?}, added before: \
                 both match exactly the same paths"
            ),
        }
    }
}

impl std::error::Error for RouteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Pattern(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::HttpRequest;

    async fn noop(_req: HttpRequest) {}

    fn router_of(routes: &[(&str, &str)]) -> HttpRouter {
        let mut router = HttpRouter::new();
        for (method, pattern) in routes {
            router.add([*method], pattern, noop);
        }
        router
    }

    fn found(
        router: &HttpRouter,
        method: &str,
        path: &str,
    ) -> Option<(String, Vec<(String, String)>)> {
        match router.resolve(&Method::from_bytes(method.as_bytes()).unwrap(), path) {
            Resolution::Found { route, matches } => Some((
                route.pattern().to_owned(),
                matches
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            )),
            _ => None,
        }
    }

    fn pattern_for(router: &HttpRouter, path: &str) -> Option<String> {
        found(router, "GET", path).map(|(pattern, _)| pattern)
    }

    #[test]
    fn static_beats_typed_beats_str_beats_path_whatever_the_order_of_add() {
        let patterns = [
            "/x/{rest:path}",
            "/x/{name}",
            "/x/{f:float}",
            "/x/{n:int}",
            "/x/me",
        ];
        for order in [patterns.to_vec(), patterns.iter().rev().copied().collect()] {
            let routes: Vec<_> = order.iter().map(|p| ("GET", *p)).collect();
            let router = router_of(&routes);
            assert_eq!(pattern_for(&router, "/x/me").as_deref(), Some("/x/me"));
            assert_eq!(pattern_for(&router, "/x/12").as_deref(), Some("/x/{n:int}"));
            assert_eq!(
                pattern_for(&router, "/x/1.5").as_deref(),
                Some("/x/{f:float}")
            );
            assert_eq!(pattern_for(&router, "/x/bob").as_deref(), Some("/x/{name}"));
            assert_eq!(
                pattern_for(&router, "/x/a/b").as_deref(),
                Some("/x/{rest:path}")
            );
            assert_eq!(
                pattern_for(&router, "/x/").as_deref(),
                Some("/x/{rest:path}")
            );
        }
    }

    #[test]
    fn a_dead_end_in_the_preferred_branch_falls_back_to_the_next() {
        let router = router_of(&[("GET", "/users/me/settings"), ("GET", "/users/{id}/posts")]);
        let (pattern, captures) = found(&router, "GET", "/users/me/posts").unwrap();
        assert_eq!(pattern, "/users/{id}/posts");
        assert_eq!(captures, [("id".to_owned(), "me".to_owned())]);
    }

    #[test]
    fn path_capture_takes_the_rest_including_empty() {
        let router = router_of(&[("GET", "/ui/{rest:path}")]);
        assert_eq!(
            found(&router, "GET", "/ui/").unwrap().1,
            [("rest".into(), "".into())]
        );
        assert_eq!(
            found(&router, "GET", "/ui/a/b/c.js").unwrap().1,
            [("rest".into(), "a/b/c.js".into())]
        );
        assert!(found(&router, "GET", "/ui").is_none());
    }

    #[test]
    fn trailing_slash_is_significant() {
        let router = router_of(&[("GET", "/users"), ("GET", "/items/")]);
        assert!(pattern_for(&router, "/users").is_some());
        assert!(pattern_for(&router, "/users/").is_none());
        assert!(pattern_for(&router, "/items/").is_some());
        assert!(pattern_for(&router, "/items").is_none());
        assert_eq!(
            pattern_for(&router_of(&[("GET", "/")]), "/").as_deref(),
            Some("/")
        );
    }

    #[test]
    fn captures_are_percent_decoded_and_literals_match_decoded_segments() {
        let router = router_of(&[("GET", "/users/{name}"), ("GET", "/caf\u{e9}")]);
        assert_eq!(
            found(&router, "GET", "/users/J%C3%BCrgen%20X").unwrap().1,
            [("name".into(), "Jürgen X".into())]
        );
        assert_eq!(
            pattern_for(&router, "/caf%C3%A9").as_deref(),
            Some("/caf\u{e9}")
        );
    }

    #[test]
    fn unsafe_paths_are_bad_requests() {
        let router = router_of(&[("GET", "/files/{rest:path}"), ("GET", "/u/{name}")]);
        for path in [
            "/u/a%2Fb",
            "/files/../etc/passwd",
            "/files/%2e%2e/x",
            "/u/%FF",
            "/u/a%00",
            "/files/./x",
            "/u/%zz",
            "/u/a%2",
            "/u/%",
        ] {
            assert!(
                matches!(router.resolve(&Method::GET, path), Resolution::BadPath(_)),
                "{path}"
            );
        }
        assert!(matches!(
            router.resolve(&Method::GET, "/files/a.b/.c"),
            Resolution::Found { .. }
        ));
    }

    #[test]
    fn wrong_method_is_405_with_allow_and_head_uses_get() {
        let mut router = HttpRouter::new();
        router.add(["GET", "POST"], "/things", noop);
        match router.resolve(&Method::DELETE, "/things") {
            Resolution::MethodNotAllowed { allow } => assert_eq!(allow, "GET, POST, HEAD, OPTIONS"),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(router.resolve(&Method::HEAD, "/things"), Resolution::Found { route, .. } if route.method() == Method::GET)
        );
        assert!(matches!(
            router.resolve(&Method::GET, "/other"),
            Resolution::NotFound
        ));
    }

    #[test]
    fn the_same_shape_twice_is_refused_naming_both_patterns() {
        let mut router = HttpRouter::new();
        router.add(["GET"], "/users/{id}", noop);
        let error = router
            .try_add(["POST", "GET"], "/users/{name:str}", noop)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "route GET \"/users/{name:str}\" conflicts with GET \"/users/{id}\", added before: both match exactly the same paths"
        );
        // Nothing of the refused route was registered, not even its POST.
        assert!(matches!(
            router.resolve(&Method::POST, "/users/1"),
            Resolution::MethodNotAllowed { .. }
        ));
        // Another method on the same shape is fine, and so is a different capture type.
        router.add(["POST"], "/users/{name:str}", noop);
        router.add(["GET"], "/users/{id:int}", noop);
        assert!(router.try_add(["GET"], "/users/{x:int}", noop).is_err());
        assert!(router.try_add(["GET"], "/a/{p:path}", noop).is_ok());
        assert!(router.try_add(["GET"], "/a/{q:path}", noop).is_err());
    }

    #[test]
    fn bad_methods_are_refused() {
        let mut router = HttpRouter::new();
        assert!(
            router
                .try_add(["GE T"], "/", noop)
                .unwrap_err()
                .to_string()
                .contains("not a valid HTTP method")
        );
        assert!(
            router
                .try_add(["get"], "/", noop)
                .unwrap_err()
                .to_string()
                .contains("did you mean \"GET\"")
        );
        assert!(
            router
                .try_add(Vec::<&str>::new(), "/", noop)
                .unwrap_err()
                .to_string()
                .contains("no methods")
        );
        assert!(router.try_add(["PURGE"], "/", noop).is_ok());
        assert!(router.try_add([Method::GET], "/", noop).is_ok());
    }

    #[test]
    #[should_panic(expected = "unclosed '{'")]
    fn add_panics_with_the_problem() {
        HttpRouter::new().add(["GET"], "/users/{id", noop);
    }
}
