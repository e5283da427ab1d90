//! WebSockets: `app.ws_router`, bareASGI's WebSocket routes, on hyper's upgrade and
//! tokio-tungstenite (feature `ws`, on by default).
//!
//! ```no_run
//! use bareasgi::Application;
//! use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
//!
//! async fn echo(_req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
//!     ws.accept(None, ()).await?;
//!     loop {
//!         match ws.receive().await? {
//!             Message::Close { code, reason } => {
//!                 tracing::info!(code, %reason, "client left");
//!                 return Ok(());
//!             }
//!             message => ws.send(message).await?,
//!         }
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), bareasgi::Error> {
//!     let mut app = Application::new();
//!     app.ws_router.add("/ws", echo);
//!     app.serve("127.0.0.1:9011").await
//! }
//! ```
//!
//! # Routing
//! - `app.ws_router.add(pattern, handler)` takes the patterns of `http_router` with the
//!   same precedence; the handler gets the [`WebSocketRequest`] (with its `matches`) and a
//!   [`WebSocket`].
//! - A request with `upgrade: websocket` whose path a WebSocket route matches goes to that
//!   route, whatever `http_router` holds; if no WebSocket route matches, `http_router`
//!   answers it as a plain request (usually `404`).
//! - A request without `upgrade: websocket` goes to `http_router`. A path both routers
//!   know serves HTTP and WebSocket alike. If `http_router` has nothing for it (`404`, or
//!   `405` for a `GET`/`HEAD`) but a WebSocket route matches, the answer is
//!   `426 Upgrade Required` with `upgrade: websocket`, telling the client what the path
//!   speaks.
//! - A handshake that is not valid (not a `GET` over HTTP/1.1, no `connection: upgrade`,
//!   `sec-websocket-version` other than `13` — answered with `sec-websocket-version: 13` —
//!   or a missing or malformed `sec-websocket-key`) gets `400 Bad Request`.
//! - HTTP/2 has no `Upgrade`, and RFC 8441's extended `CONNECT` is not supported:
//!   WebSockets are served over HTTP/1.1 only. Browsers fall back to HTTP/1.1 for them.
//!
//! # The handshake and the handler
//! The application's HTTP middlewares see the handshake as a `GET` (and its `101` answer);
//! then the [`WsMiddleware`]s added with
//! [`Application::ws_middleware`](crate::Application::ws_middleware) run, which may refuse
//! with any HTTP response; then the handler starts, in a task of its own. It decides with
//! [`WebSocket::accept`] (the `101`, with its subprotocol and headers),
//! [`WebSocket::reject`] (any HTTP response), [`WebSocket::close`] before accepting (`403`),
//! or by returning without accepting (`403`). The request timeout, if set, covers the wait
//! for that decision.
//!
//! # The conversation
//! - Pings are answered while the handler is in [`WebSocket::receive`]; fragmented
//!   messages arrive whole; an empty binary message is `Binary`, never text.
//! - A message (or frame) larger than
//!   [`Application::ws_max_message_size`](crate::Application::ws_max_message_size)
//!   (16 MiB by default) closes the conversation with `1009`.
//! - When graceful shutdown begins, open sockets are closed with `1001`: `receive` returns
//!   that close, `send` fails with [`WebSocketError::Closed`]. The server waits for handlers
//!   and closing handshakes up to its shutdown timeout, then drops them.

mod closing;
mod error;
mod handler;
mod handshake;
mod keepalive;
mod message;
mod middleware;
mod request;
#[cfg(any(feature = "cookies", feature = "query"))]
mod request_features;
mod router;
mod runtime;
mod socket;
mod upgrade;

pub use error::WebSocketError;
pub use handler::{IntoWsOutcome, WsHandler};
pub use message::{Message, close_code};
pub use middleware::{WsMiddleware, WsNext};
pub use request::WebSocketRequest;
pub use router::WsRouter;
pub use socket::WebSocket;

pub(crate) use handshake::{asks_for_websocket, upgrade_required};
pub(crate) use runtime::WsRuntime;
