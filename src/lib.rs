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
//! The pieces, one module each: [`router`] (patterns and precedence), [`handler`],
//! [`request`], [`response`], [`body`], [`sse`] (server-sent events), [`middleware`],
//! [`lifespan`], [`app`] (the [`Application`] and its limits), [`service`] (the
//! application as a hyper `Service`) and, with the default `ws` feature, `ws`
//! (WebSockets: `app.ws_router`).

pub mod app;
pub mod body;
pub mod error;
pub mod handler;
pub mod lifespan;
pub mod middleware;
pub mod request;
mod request_body;
pub mod response;
pub mod router;
mod server;
pub mod service;
pub mod sse;
pub mod typemap;
#[cfg(feature = "ws")]
pub mod ws;

pub use app::Application;
pub use body::{Body, bytes_writer, text_writer};
pub use error::{BoxError, Error, HttpError};
pub use handler::{BoxFuture, Handler};
pub use lifespan::LifespanHandler;
pub use middleware::{Middleware, MiddlewareChain, Next, make_middleware_chain};
pub use request::{BodyError, HttpRequest, MatchError, Matches, RequestBody};
pub use response::{HttpResponse, IntoHeaders, IntoResponse, IntoStatus};
pub use router::{HttpRouter, Resolution, RouteError};
pub use service::{AppService, ResponseFuture};
pub use typemap::TypeMap;

/// The text of a caught panic, for the log line.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)")
}

/// The README's examples, compiled as doc tests so that it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
