//! [`Handler`]: an async function from an [`HttpRequest`] to anything [`IntoResponse`].
//!
//! Any `async fn(HttpRequest) -> impl IntoResponse` is a handler, and so is a closure
//! returning such a future; a closure may capture state it clones into each call:
//!
//! ```
//! use std::sync::Arc;
//! use bareasgi::{Application, HttpRequest};
//!
//! async fn hello(_req: HttpRequest) -> &'static str {
//!     "Hello, World!"
//! }
//!
//! let greeting = Arc::new(String::from("hi"));
//! let mut app = Application::new();
//! app.http_router.add(["GET"], "/", hello);
//! app.http_router.add(["GET"], "/greet", move |_req: HttpRequest| {
//!     let greeting = greeting.clone();
//!     async move { greeting.to_string() }
//! });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::request::HttpRequest;
use crate::response::{HttpResponse, IntoResponse};

/// A boxed, sendable future: what handlers and middleware return once type-erased.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that answers a request. Implemented for every
/// `Fn(HttpRequest) -> impl Future<Output = impl IntoResponse>` that is `Send + Sync`.
pub trait Handler: Send + Sync + 'static {
    /// Answers `req`.
    fn call(&self, req: HttpRequest) -> BoxFuture<'static, HttpResponse>;
}

impl<F, Fut, R> Handler for F
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, req: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        Box::pin(Responding { future: self(req) })
    }
}

pin_project_lite::pin_project! {
    /// A handler's future, answering with its output made an [`HttpResponse`]. A struct of
    /// one field rather than an `async` block: it is laid out as the handler's future is, so
    /// that future (which holds the whole request) is copied once fewer on its way into the
    /// box, on every request.
    struct Responding<F> {
        #[pin]
        future: F,
    }
}

impl<F, R> Future for Responding<F>
where
    F: Future<Output = R>,
    R: IntoResponse,
{
    type Output = HttpResponse;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<HttpResponse> {
        self.project()
            .future
            .poll(cx)
            .map(IntoResponse::into_response)
    }
}
