//! # bareasgi
//!
//! A tiny web framework on hyper 1.x with the shape of Python's
//! [bareASGI](https://github.com/rob-blackbourn/bareASGI): an [`Application`] holds an
//! `http_router`; `app.http_router.add(methods, path, handler)` registers an async handler;
//! a handler returns `(status, headers, body)`, and the body can be any
//! `Stream<Item = Bytes>` whose chunks go on the wire the moment they are yielded.
//!
//! ```no_run
//! use std::time::Duration;
//! use bareasgi::{Application, Body, HttpRequest, IntoResponse, text_writer};
//! use futures_util::stream;
//!
//! async fn index(_req: HttpRequest) -> impl IntoResponse {
//!     (200, [("content-type", "text/html")], text_writer("<h1>hi</h1>"))
//! }
//!
//! async fn user(req: HttpRequest) -> impl IntoResponse {
//!     let id: i64 = req.matches.parse("id").unwrap(); // "{id:int}" was checked by the router
//!     (200, [("content-type", "text/plain")], format!("user {id}"))
//! }
//!
//! async fn ticks(_req: HttpRequest) -> impl IntoResponse {
//!     let ticks = stream::unfold(0u64, |n| async move {
//!         tokio::time::sleep(Duration::from_secs(1)).await;
//!         Some((format!("tick {n}\n"), n + 1))
//!     });
//!     (200, [("content-type", "text/plain")], Body::from_stream(ticks))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), bareasgi::Error> {
//!     let mut app = Application::new();
//!     app.http_router.add(["GET"], "/", index);
//!     app.http_router.add(["GET", "POST"], "/users/{id:int}", user);
//!     app.http_router.add(["GET"], "/ticks", ticks);
//!     app.serve("127.0.0.1:9009").await
//! }
//! ```
//!
//! **The manual is [`guide`]**: routing, handlers and responses, JSON/query/forms, cookies,
//! uploads, server-sent events, WebSockets, the hub and scaling out, tower, TLS, limits,
//! reliability and testing, with recipes, every example a doc test.
//!
//! The pieces, one module each: [`router`] (patterns and precedence), [`handler`],
//! [`request`], [`response`], [`body`], [`sse`] (server-sent events), [`middleware`],
//! [`lifespan`], [`app`] (the [`Application`] and its limits), [`service`] (the
//! application as a tower and a hyper `Service`), [`tower`] (tower layers around the
//! application, tower services mounted in it), [`hub`] (publish/subscribe with replay,
//! in-process or through Redis), and behind Cargo features:
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `ws` | on | `ws`: WebSockets, `app.ws_router` |
//! | `json` | on | `req.json()`, the `Json` response, `Event::json_data` |
//! | `query`, `form` | on | `urlencoded`: `req.query_as()`, `req.form()` |
//! | `cookies` | on | `cookies`: `req.cookie()`, `set_cookie`, signed and private cookies; `cookie` re-exported |
//! | `test` | on | `test`: `TestClient`, the way to test an application |
//! | `multipart` | off | `multipart`: `req.multipart()`, streamed uploads |
//! | `tls` | off | `tls`: HTTPS with HTTP/2, `app.serve_tls` |
//! | `redis` | off | `Hub::redis`: the [`hub`] through Redis, for several instances |
//! | `metrics` | off | `metrics`: Prometheus metrics, `app.metrics()` and `metrics::handler()` |

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod app;
#[doc = include_str!("../docs/architecture.md")]
pub mod architecture {}
pub mod body;
#[cfg(feature = "cookies")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookies")))]
pub mod cookies;
mod detachable;
pub mod error;
pub mod guide;
pub mod handler;
pub mod hub;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod json;
mod lazy_poll;
pub mod lifespan;
mod limits;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod middleware;
#[cfg(feature = "multipart")]
#[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
pub mod multipart;
pub mod request;
pub mod response;
pub mod router;
mod server;
pub mod service;
#[cfg(feature = "metrics")]
mod telemetry;
/// The tower door: see [`service::tower`].
pub use service::tower;
pub mod sse;
#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub mod test;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
pub mod typemap;
#[cfg(any(feature = "query", feature = "form"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "query", feature = "form"))))]
pub mod urlencoded;
#[cfg(feature = "ws")]
#[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
pub mod ws;

/// The `http` crate, whose types (`Method`, `StatusCode`, `HeaderMap`, `Uri`, `Request`) are
/// in this crate's API: `use bareasgi::http::StatusCode;` without adding it to `Cargo.toml`.
pub use http;

/// The `cookie` crate (feature `cookies`): [`Cookie`](cookie::Cookie) and its builder,
/// [`Key`](cookie::Key) for signed and private cookies. See [`cookies`].
#[cfg(feature = "cookies")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookies")))]
pub use cookie;

pub use app::Application;
pub use body::{Body, bytes_writer, text_writer};
pub use error::{BoxError, Error, HttpError};
pub use handler::{BoxFuture, Handler};
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use json::Json;
pub use lifespan::LifespanHandler;
pub use middleware::{Middleware, MiddlewareChain, Next, make_middleware_chain};
pub use request::{BodyError, HttpRequest, MatchError, Matches, MinDataRate, RequestBody};
pub use response::{Html, HttpResponse, IntoHeaders, IntoResponse, IntoStatus, Redirect};
pub use router::{HttpRouter, Resolution, RouteError, RouteGroup};
pub use service::{AppService, ResponseFuture};
pub use typemap::TypeMap;
#[cfg(feature = "form")]
#[cfg_attr(docsrs, doc(cfg(feature = "form")))]
pub use urlencoded::FormError;
#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
pub use urlencoded::QueryError;

/// The text of a caught panic, for the log line.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)")
}

/// The README's quick start, compiled as a doc test so that it stays true (`.ci/run` also
/// builds it in a fresh crate, as a user would).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "json", feature = "query"))]
pub struct ReadmeDoctests;
