//! An [`HttpRequest`] taken apart for a route group's tower layers and put back together
//! for its handler.

use std::sync::Arc;

use super::{Head, HttpRequest, Matches, RequestBody};
use crate::typemap::TypeMap;

/// What a tower layer's `http::Request` has no place for: the route's captures, the
/// shared info, the per-request context and the body limit.
#[derive(Debug)]
pub(crate) struct RouteParts {
    matches: Matches,
    info: Arc<TypeMap>,
    context: TypeMap,
    body_limit: usize,
}

impl HttpRequest {
    /// The request as the `http` crate models it, and the rest kept aside.
    pub(crate) fn into_layered(self) -> (http::Request<RequestBody>, RouteParts) {
        let Head {
            parts,
            body,
            body_limit,
        } = *self.head;
        let rest = RouteParts {
            matches: self.matches,
            info: self.info,
            context: self.context,
            body_limit,
        };
        (http::Request::from_parts(parts, body), rest)
    }

    /// The request again, after the layers: with what they changed in the line, headers
    /// and body, and the captures, info and context it had.
    pub(crate) fn from_layered(request: http::Request<RequestBody>, rest: RouteParts) -> Self {
        let (parts, body) = request.into_parts();
        let mut req = Self::new(parts, body, rest.info, rest.body_limit);
        req.matches = rest.matches;
        req.context = rest.context;
        req
    }
}
