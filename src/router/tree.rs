//! The route tree: one node per path segment, literal children found by hash, typed and
//! `path` captures tried in precedence order with backtracking.

use std::borrow::Cow;

use http::{HeaderValue, Method};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::Route;
use super::path::decode;
use super::pattern::{CaptureKind, Segment};

/// The values captured on the way down the tree; most patterns have at most four.
pub(super) type Captures<'p> = SmallVec<[Cow<'p, str>; 4]>;

#[derive(Default)]
pub(super) struct Node {
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
pub(super) struct Endpoint {
    pub(super) routes: Vec<Route>,
    pub(super) allow: HeaderValue,
    /// A mount's route, which answers every method; an endpoint has it or `routes`.
    pub(super) any: Option<Route>,
}

impl Node {
    pub(super) fn find_endpoint(&self, segments: &[Segment]) -> Option<&Endpoint> {
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

    pub(super) fn endpoint_mut(&mut self, segments: &[Segment]) -> &mut Endpoint {
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
    /// `/` (`None` once the path is used up); `encoded`: whether the path has `%` escapes to
    /// decode (checked once for the whole path, not again for each segment); `allowed`
    /// remembers the first endpoint whose path matched but whose methods did not, for the
    /// `405`.
    pub(super) fn find<'n, 'p>(
        &'n self,
        rest: Option<&'p str>,
        encoded: bool,
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
        let segment = decode(raw, encoded);
        if !self.statics.is_empty()
            && let Some(child) = self.statics.get(&*segment)
            && let Some(route) = child.find(next, encoded, method, captures, allowed)
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
                if let Some(route) = child.find(next, encoded, method, captures, allowed) {
                    return Some(route);
                }
                captures.pop();
            }
        }
        if let Some(endpoint) = &self.rest {
            captures.push(decode(rest, encoded));
            if let Some(route) = endpoint.pick(method, allowed) {
                return Some(route);
            }
            captures.pop();
        }
        None
    }
}

impl Endpoint {
    pub(super) fn new() -> Self {
        Self {
            routes: Vec::new(),
            allow: HeaderValue::from_static(""),
            any: None,
        }
    }

    pub(super) fn pick<'n>(
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
        if route.is_some() {
            return route;
        }
        if let Some(mount) = &self.any {
            return Some(mount);
        }
        if allowed.is_none() {
            *allowed = Some(self);
        }
        None
    }
}

pub(super) fn allow_header(routes: &[Route]) -> HeaderValue {
    let mut methods: Vec<&str> = routes.iter().map(|route| route.method.as_str()).collect();
    if methods.contains(&"GET") && !methods.contains(&"HEAD") {
        methods.push("HEAD");
    }
    if !methods.contains(&"OPTIONS") {
        methods.push("OPTIONS");
    }
    HeaderValue::from_str(&methods.join(", ")).expect("method tokens are valid header text")
}
