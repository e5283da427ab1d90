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
//! - A handshake that is not valid (over HTTP/1.1: not a `GET`, no `connection: upgrade`,
//!   `sec-websocket-version` other than `13` — answered with `sec-websocket-version: 13` —
//!   or a missing or malformed `sec-websocket-key`) gets `400 Bad Request`.
//!
//! # WebSockets over HTTP/2 (RFC 8441)
//! An application with WebSocket routes advertises `SETTINGS_ENABLE_CONNECT_PROTOCOL` on
//! its HTTP/2 connections (HTTPS with ALPN, and h2c), and a route of `ws_router` accepts an
//! extended `CONNECT` with `:protocol = websocket` exactly as it accepts an HTTP/1.1
//! upgrade: same handler, same middlewares, same limits, pings, deflate and graceful
//! shutdown; the answer is `200` instead of `101`, and the WebSocket is one stream of the
//! connection, so a page, its event streams and its WebSockets share one TCP connection.
//! - Browsers use extended `CONNECT` for every WebSocket of a connection whose server
//!   advertises it. `ws_router` routes take no methods, so no route can be one that only
//!   accepts `GET` and breaks then; the HTTP middlewares (and tower layers) see the
//!   handshake as what it is, a `CONNECT` with the `hyper::ext::Protocol` extension.
//! - An application without WebSocket routes does not advertise it. An extended `CONNECT`
//!   to a path no WebSocket route matches goes to `http_router` (usually `404`), and one
//!   without `sec-websocket-version: 13` gets `400`.
//! - The WebSocket's stream counts as open for the connection's idle timeout
//!   ([`Application::http2_idle_timeout`](crate::Application::http2_idle_timeout)); after
//!   the closing handshake the server ends the stream (END_STREAM), as over HTTP/1.1 it
//!   closes the connection first.
//! - A WebSocket served by a mounted tower service (`http_router.mount`) gets the extended
//!   `CONNECT` as it came: whether it answers depends on that service (axum 0.8 does for
//!   routes that accept `CONNECT`). Routes of `ws_router` always do.
//!
//! # permessage-deflate (RFC 7692)
//! On by default: a client that offers `permessage-deflate` (every browser does) gets it,
//! and messages are compressed both ways; the handler sees the same [`Message`]s either
//! way. [`Application::ws_deflate`](crate::Application::ws_deflate) takes a [`Deflate`] to
//! tune it, or `None` to turn it off.
//! - Negotiation follows RFC 7692 §7.1: the first offer the server can honour wins (an
//!   offer with an unknown, repeated or malformed parameter is declined, and the
//!   conversation goes on uncompressed when none is left); `server_max_window_bits` and
//!   `client_max_window_bits` are answered with the smaller of the offer and the settings;
//!   `server_no_context_takeover` and `client_no_context_takeover` are honoured, and the
//!   server can impose the first with [`Deflate::server_no_context_takeover`].
//! - Messages shorter than [`Deflate::min_size`] (64 bytes by default) go out uncompressed.
//! - A compressed message is held to
//!   [`ws_max_message_size`](crate::Application::ws_max_message_size) by what it inflates
//!   to: inflating runs only as fast as the conversation reads, so a few kilobytes that
//!   inflate to gigabytes close it with `1009` after at most 80 KiB of inflated data is
//!   held. Data that does not inflate closes it with `1002`.
//! - Memory: a socket that has exchanged nothing compressed costs nothing extra. With
//!   context takeover (what browsers ask), one that has sent and received a compressed
//!   message keeps its compressor and inflater: about 340 KiB more server memory per
//!   socket (measured, `benches/ws_memory.py`: 365 KiB against 28 KiB without deflate;
//!   zlib's memory level is fixed at 8, so a smaller window saves less than it seems:
//!   241 KiB at `server_max_window_bits(10)`). With `no_context_takeover` both ways they
//!   are freed after each message: 34 KiB. For many mostly quiet sockets, set
//!   [`Deflate::server_no_context_takeover`] (the client's side stays its choice).
//! - tungstenite has no extension hook, so the extension runs as a layer between the
//!   connection and tungstenite: compressed messages reach tungstenite inflated, and it
//!   checks them as it checks any other (UTF-8, sizes, fragments, control frames).
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
mod deflate;
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

pub use deflate::Deflate;
pub use error::WebSocketError;
pub use handler::{IntoWsOutcome, WsHandler};
pub use message::{Message, close_code};
pub use middleware::{WsMiddleware, WsNext};
pub use request::WebSocketRequest;
pub use router::WsRouter;
pub use socket::WebSocket;

pub(crate) use deflate::negotiate;
pub(crate) use deflate::{Side, WsIo};
pub(crate) use handshake::{StreamHold, asks_for_websocket, upgrade_required};
pub(crate) use runtime::WsRuntime;
