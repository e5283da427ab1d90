//! [`WsRouter`]: WebSocket routes, with the same patterns, tree and precedence as
//! [`HttpRouter`].
//!
//! A WebSocket route is an HTTP `GET` route until the upgrade, so each one is kept as a
//! `GET` in an [`HttpRouter`] of its own, whose handler checks the handshake and hands over
//! to the [`WsHandler`]. Matching, percent-decoding, precedence and conflict detection are
//! therefore exactly those of `http_router`.

use std::fmt;
use std::sync::{Arc, OnceLock};

use http::{Method, StatusCode};
use hyper::upgrade::OnUpgrade;

use super::deflate::negotiate;
use super::handler::WsHandler;
use super::handshake::{self, StreamHold};
use super::middleware::WsNext;
use super::request::WebSocketRequest;
use super::runtime::WsRuntime;
use super::upgrade::Upgrade;
use crate::handler::{BoxFuture, Handler};
use crate::request::HttpRequest;
use crate::response::HttpResponse;
use crate::router::{HttpRouter, Resolution, RouteError};

/// The WebSocket routes of an application: `app.ws_router`.
///
/// ```
/// use bareasgi::Application;
/// use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
///
/// async fn chat(req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
///     let room: i64 = req.matches.parse("room").unwrap(); // `{room:int}` was checked
///     ws.accept(None, ()).await?;
///     while let Message::Text(text) = ws.receive().await? {
///         ws.send(format!("room {room}: {text}")).await?;
///     }
///     Ok(())
/// }
///
/// let mut app = Application::new();
/// app.ws_router.add("/rooms/{room:int}", chat);
/// // The same path may also have HTTP routes: a GET without upgrade goes to them.
/// app.http_router.add(["GET"], "/rooms/{room:int}", |_req| async { "a page" });
/// assert!(app.ws_router.try_add("/rooms/{id:int}", chat).is_err()); // same paths
/// ```
pub struct WsRouter {
    routes: HttpRouter,
    /// Set once the application starts, shared by every route's endpoint.
    runtime: Arc<OnceLock<Arc<WsRuntime>>>,
}

impl WsRouter {
    /// An empty router.
    #[must_use]
    pub fn new() -> Self {
        Self {
            routes: HttpRouter::new(),
            runtime: Arc::new(OnceLock::new()),
        }
    }

    /// Registers `handler` for WebSocket connections to paths matching `pattern`.
    ///
    /// # Panics
    /// When the pattern is malformed or a WebSocket route already matches exactly the same
    /// paths; use [`try_add`](Self::try_add) to handle it instead. The panic names the
    /// line that called `add`, not this library.
    #[track_caller]
    pub fn add<H: WsHandler>(&mut self, pattern: &str, handler: H) {
        if let Err(error) = self.try_add(pattern, handler) {
            panic!("{error}");
        }
    }

    /// Registers a route like [`add`](Self::add), returning the problem instead of panicking.
    ///
    /// # Errors
    /// [`RouteError::Pattern`] for a malformed pattern; [`RouteError::Conflict`] (with
    /// method `GET`, the handshake's) for a route matching the same paths as one added
    /// before.
    pub fn try_add<H: WsHandler>(&mut self, pattern: &str, handler: H) -> Result<(), RouteError> {
        let endpoint = Endpoint {
            handler: Arc::new(handler),
            runtime: self.runtime.clone(),
        };
        self.routes.try_add([Method::GET], pattern, endpoint)
    }

    /// The number of routes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no route was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Whether a route matches `path` (raw, percent-encoded).
    #[must_use]
    pub fn matches(&self, path: &str) -> bool {
        !self.is_empty()
            && matches!(
                self.routes.resolve(&Method::GET, path),
                Resolution::Found { .. }
            )
    }

    pub(crate) fn resolve(&self, path: &str) -> Resolution<'_> {
        self.routes.resolve(&Method::GET, path)
    }

    /// Connects the routes to the running application.
    pub(crate) fn start(&self, runtime: Arc<WsRuntime>) {
        if self.runtime.set(runtime).is_err() {
            tracing::warn!("the WebSocket routes were already started; keeping the first runtime");
        }
    }
}

impl Default for WsRouter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for WsRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsRouter")
            .field("routes", &self.routes.len())
            .finish()
    }
}

/// A WebSocket route as an HTTP handler: the handshake's side of the upgrade.
struct Endpoint {
    handler: Arc<dyn WsHandler>,
    runtime: Arc<OnceLock<Arc<WsRuntime>>>,
}

impl Handler for Endpoint {
    fn call(&self, mut req: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        let Some(runtime) = self.runtime.get().cloned() else {
            tracing::error!("a WebSocket route was called before the application started");
            return ready(HttpResponse::internal_server_error());
        };
        let answer = match handshake::validate(&req) {
            Ok(answer) => answer,
            Err(refusal) => return ready(refusal.into_response()),
        };
        let Some(upgrade) = req.parts_mut().extensions.remove::<OnUpgrade>() else {
            // Served by a connection without upgrades (a service called in-process, or a
            // server of the caller's own built without them).
            tracing::warn!("a WebSocket handshake arrived on a connection that cannot be upgraded");
            return ready(HttpResponse::text(
                StatusCode::NOT_IMPLEMENTED,
                "Not Implemented: no upgrade on this connection",
            ));
        };
        let deflate = runtime
            .deflate
            .as_ref()
            .and_then(|config| negotiate::accept(req.headers(), config));
        // Over HTTP/2 the connection counts the WebSocket's stream as open while it lasts.
        let stream_hold = req.parts_mut().extensions.remove::<StreamHold>();
        let upgrade = Upgrade {
            handler: self.handler.clone(),
            answer,
            stream_hold,
            deflate,
            upgrade,
            runtime: runtime.clone(),
        };
        WsNext::new(runtime.middlewares.clone(), upgrade).into_future(WebSocketRequest::new(req))
    }
}

fn ready(response: HttpResponse) -> BoxFuture<'static, HttpResponse> {
    Box::pin(std::future::ready(response))
}
