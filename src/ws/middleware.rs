//! [`WsMiddleware`]: runs when a WebSocket connects, before the handler decides — to
//! authorize, refuse with an HTTP status, or fill the request's `context`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::request::WebSocketRequest;
use super::upgrade::Upgrade;
use crate::handler::BoxFuture;
use crate::response::{HttpResponse, IntoResponse};

/// A WebSocket middleware. Implemented for every
/// `Fn(WebSocketRequest, WsNext) -> impl Future<Output = impl IntoResponse>` that is
/// `Send + Sync`. It runs after the application's HTTP middlewares, only for requests
/// routed to `ws_router`, and only for valid handshakes.
///
/// Returning without calling `next.run(req)` refuses the connection with that response
/// (no upgrade happens); `next.run(req)` gives the `101` (or the handler's refusal), whose
/// headers the middleware may still change.
///
/// ```
/// use bareasgi::Application;
/// use bareasgi::ws::{WebSocket, WebSocketRequest, WsNext};
/// use bareasgi::HttpResponse;
/// use bareasgi::http::StatusCode;
///
/// struct User(String);
///
/// async fn authorize(mut req: WebSocketRequest, next: WsNext) -> HttpResponse {
///     let token = req.headers().get("authorization").and_then(|v| v.to_str().ok());
///     match token {
///         Some("Bearer let-me-in") => {
///             req.context.insert(User("alice".into()));
///             next.run(req).await
///         }
///         _ => HttpResponse::text(StatusCode::UNAUTHORIZED, "who are you?"),
///     }
/// }
///
/// let mut app = Application::new();
/// app.ws_middleware(authorize);
/// app.ws_router.add("/private", |req: WebSocketRequest, mut ws: WebSocket| async move {
///     let name = req.context.get::<User>().map(|u| u.0.clone()).unwrap_or_default();
///     ws.accept(None, ()).await?;
///     ws.send(format!("hello {name}")).await
/// });
/// ```
pub trait WsMiddleware: Send + Sync + 'static {
    /// Handles the connecting `req`, calling `next.run(req)` to let it through.
    fn call(&self, req: WebSocketRequest, next: WsNext) -> BoxFuture<'static, HttpResponse>;
}

impl<F, Fut, R> WsMiddleware for F
where
    F: Fn(WebSocketRequest, WsNext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, req: WebSocketRequest, next: WsNext) -> BoxFuture<'static, HttpResponse> {
        let future = self(req, next);
        Box::pin(async move { future.await.into_response() })
    }
}

/// The rest of the WebSocket middleware chain, ending in the handler.
pub struct WsNext {
    chain: Arc<[Arc<dyn WsMiddleware>]>,
    position: usize,
    upgrade: Upgrade,
}

impl WsNext {
    pub(crate) fn new(chain: Arc<[Arc<dyn WsMiddleware>]>, upgrade: Upgrade) -> Self {
        Self {
            chain,
            position: 0,
            upgrade,
        }
    }

    /// Runs the rest of the chain and the handler; the answer is the `101 Switching
    /// Protocols` once the handler accepts, or the refusal.
    pub async fn run(self, req: WebSocketRequest) -> HttpResponse {
        self.into_future(req).await
    }

    pub(crate) fn into_future(mut self, req: WebSocketRequest) -> BoxFuture<'static, HttpResponse> {
        match self.chain.get(self.position).cloned() {
            Some(middleware) => {
                self.position += 1;
                middleware.call(req, self)
            }
            None => Box::pin(self.upgrade.open(req)),
        }
    }
}

impl fmt::Debug for WsNext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsNext")
            .field("remaining_middlewares", &(self.chain.len() - self.position))
            .finish_non_exhaustive()
    }
}
