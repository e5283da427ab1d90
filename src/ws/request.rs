//! [`WebSocketRequest`]: the handshake request as a WebSocket handler sees it.

use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use http::{HeaderMap, Uri, Version};

use crate::request::{HttpRequest, Matches};
use crate::typemap::TypeMap;

/// The request that opened a WebSocket: its URI and headers, the route's [`Matches`], the
/// application's shared `info`, and the `context` that middlewares filled.
///
/// ```
/// use bareasgi::ws::{WebSocket, WebSocketError, WebSocketRequest};
///
/// async fn room(req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
///     let room = req.matches.get("room").unwrap_or("lobby").to_owned();
///     // Pick the first subprotocol the client offers that we speak.
///     let protocol = req.subprotocols().find(|p| *p == "chat.v1");
///     ws.accept(protocol, ()).await?;
///     ws.send(format!("welcome to {room}")).await
/// }
/// ```
pub struct WebSocketRequest {
    parts: Parts,
    /// The values captured by the route's pattern, percent-decoded.
    pub matches: Matches,
    /// Values shared by every request, from [`Application::info`](crate::Application::info).
    pub info: Arc<TypeMap>,
    /// Values for this connection only, typically filled by a middleware (the
    /// authenticated user).
    pub context: TypeMap,
}

impl WebSocketRequest {
    pub(crate) fn new(req: HttpRequest) -> Self {
        let (parts, matches, info, context) = req.into_ws_parts();
        Self {
            parts,
            matches,
            info,
            context,
        }
    }

    /// The request target.
    #[must_use]
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The path, still percent-encoded (the captures in `matches` are decoded).
    #[must_use]
    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// The query string without the `?`, if there is one.
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.parts.uri.query()
    }

    /// The HTTP version of the handshake (HTTP/1.1).
    #[must_use]
    pub fn version(&self) -> Version {
        self.parts.version
    }

    /// The handshake's headers (`origin`, `cookie`, `authorization`, ...).
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The handshake's headers, for a middleware to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.parts.headers
    }

    /// The subprotocols the client offers (`sec-websocket-protocol`), in its order of
    /// preference. [`accept`](super::WebSocket::accept) may pick one of them.
    pub fn subprotocols(&self) -> impl Iterator<Item = &str> {
        offered_subprotocols(&self.parts.headers)
    }
}

/// The tokens of every `sec-websocket-protocol` header, trimmed, empty ones skipped.
pub(crate) fn offered_subprotocols(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

impl fmt::Debug for WebSocketRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketRequest")
            .field("uri", &self.parts.uri)
            .field("headers", &self.parts.headers)
            .field("matches", &self.matches)
            .finish_non_exhaustive()
    }
}
