//! Middleware, bareASGI style: an async function of the request and [`Next`], the rest of
//! the chain.
//!
//! A middleware may answer on its own (short-circuit), change the request before calling
//! `next.run(req)`, and change the response after it — status, headers, or the body stream.
//!
//! ```
//! use std::time::Instant;
//! use bareasgi::{Application, HttpRequest, HttpResponse, Next, make_middleware_chain};
//! use bareasgi::http::StatusCode;
//!
//! async fn timing(req: HttpRequest, next: Next) -> HttpResponse {
//!     let start = Instant::now();
//!     let mut response = next.run(req).await;
//!     let elapsed = format!("{}us", start.elapsed().as_micros());
//!     response.headers.insert("x-elapsed", elapsed.parse().unwrap());
//!     response
//! }
//!
//! async fn require_token(req: HttpRequest, next: Next) -> HttpResponse {
//!     if req.headers().contains_key("authorization") {
//!         next.run(req).await
//!     } else {
//!         HttpResponse::text(StatusCode::UNAUTHORIZED, "missing token")
//!     }
//! }
//!
//! async fn secret(_req: HttpRequest) -> &'static str {
//!     "the secret"
//! }
//!
//! let mut app = Application::new();
//! app.middleware(timing); // every request, including 404s
//! app.http_router.add(["GET"], "/secret", make_middleware_chain((require_token,), secret));
//! // Or for every route under a prefix:
//! app.http_router.group("/vault").middleware(require_token).add("GET", "/secret", secret);
//! ```
//!
//! Three places for a middleware: [`Application::middleware`](crate::Application::middleware)
//! runs it for every request (404s included); [`HttpRouter::group`](crate::HttpRouter::group)
//! for the routes of a group, once the route is found; [`make_middleware_chain`] for one
//! handler.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::handler::{BoxFuture, Handler};
use crate::request::HttpRequest;
use crate::response::{HttpResponse, IntoResponse};

/// A middleware. Implemented for every `Fn(HttpRequest, Next) -> impl Future<Output = impl
/// IntoResponse>` that is `Send + Sync`; implement it on a struct for configurable ones.
pub trait Middleware: Send + Sync + 'static {
    /// Handles `req`, calling `next.run(req)` to pass it on (or not).
    fn call(&self, req: HttpRequest, next: Next) -> BoxFuture<'static, HttpResponse>;
}

impl<F, Fut, R> Middleware for F
where
    F: Fn(HttpRequest, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    fn call(&self, req: HttpRequest, next: Next) -> BoxFuture<'static, HttpResponse> {
        let future = self(req, next);
        Box::pin(async move { future.await.into_response() })
    }
}

/// The rest of a middleware chain: the middlewares after this one, then the handler.
pub struct Next {
    chain: Arc<[Arc<dyn Middleware>]>,
    position: usize,
    handler: Arc<dyn Handler>,
}

impl Next {
    pub(crate) fn new(chain: Arc<[Arc<dyn Middleware>]>, handler: Arc<dyn Handler>) -> Self {
        Self {
            chain,
            position: 0,
            handler,
        }
    }

    /// Runs the rest of the chain on `req`.
    pub async fn run(self, req: HttpRequest) -> HttpResponse {
        self.into_future(req).await
    }

    pub(crate) fn into_future(mut self, req: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        match self.chain.get(self.position).cloned() {
            Some(middleware) => {
                self.position += 1;
                middleware.call(req, self)
            }
            None => self.handler.call(req),
        }
    }
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("remaining_middlewares", &(self.chain.len() - self.position))
            .finish_non_exhaustive()
    }
}

/// A handler wrapped in middlewares, made by [`make_middleware_chain`]; register it with
/// `http_router.add` like any handler.
#[derive(Clone)]
pub struct MiddlewareChain {
    chain: Arc<[Arc<dyn Middleware>]>,
    handler: Arc<dyn Handler>,
}

impl MiddlewareChain {
    /// A chain of middlewares several handlers share (a route group's).
    pub(crate) fn from_parts(chain: Arc<[Arc<dyn Middleware>]>, handler: Arc<dyn Handler>) -> Self {
        Self { chain, handler }
    }
}

impl fmt::Debug for MiddlewareChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiddlewareChain")
            .field("middlewares", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Handler for MiddlewareChain {
    fn call(&self, req: HttpRequest) -> BoxFuture<'static, HttpResponse> {
        Next::new(self.chain.clone(), self.handler.clone()).into_future(req)
    }
}

/// bareASGI's `make_middleware_chain`: wraps `handler` in `middlewares`, the first being
/// the outermost. `middlewares` is a tuple of middlewares (`(auth,)`, `(auth, timing)`, up
/// to eight) or a `Vec<Arc<dyn Middleware>>`.
pub fn make_middleware_chain(
    middlewares: impl IntoMiddlewares,
    handler: impl Handler,
) -> MiddlewareChain {
    MiddlewareChain {
        chain: middlewares.into_middlewares().into(),
        handler: Arc::new(handler),
    }
}

/// A list of middlewares: a tuple of them, or a `Vec<Arc<dyn Middleware>>`.
pub trait IntoMiddlewares {
    /// The middlewares, outermost first.
    fn into_middlewares(self) -> Vec<Arc<dyn Middleware>>;
}

impl IntoMiddlewares for Vec<Arc<dyn Middleware>> {
    fn into_middlewares(self) -> Vec<Arc<dyn Middleware>> {
        self
    }
}

macro_rules! tuple_middlewares {
    ($($name:ident),+) => {
        impl<$($name: Middleware),+> IntoMiddlewares for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_middlewares(self) -> Vec<Arc<dyn Middleware>> {
                let ($($name,)+) = self;
                vec![$(Arc::new($name) as Arc<dyn Middleware>),+]
            }
        }
    };
}

tuple_middlewares!(A);
tuple_middlewares!(A, B);
tuple_middlewares!(A, B, C);
tuple_middlewares!(A, B, C, D);
tuple_middlewares!(A, B, C, D, E);
tuple_middlewares!(A, B, C, D, E, F);
tuple_middlewares!(A, B, C, D, E, F, G);
tuple_middlewares!(A, B, C, D, E, F, G, H);
