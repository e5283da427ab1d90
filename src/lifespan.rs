//! Lifespan handlers: async functions run once before the server accepts connections
//! (startup) and once after it has drained them (shutdown).
//!
//! A startup handler gets the application's `info` to fill; a shutdown handler reads it.
//!
//! ```
//! use bareasgi::{Application, BoxError, TypeMap};
//!
//! struct Pool(Vec<String>);
//!
//! async fn connect(info: &mut TypeMap) -> Result<(), BoxError> {
//!     info.insert(Pool(vec!["connection".into()]));
//!     Ok(())
//! }
//!
//! async fn disconnect(info: &TypeMap) -> Result<(), BoxError> {
//!     let pool = info.get::<Pool>().ok_or("no pool")?;
//!     assert_eq!(pool.0.len(), 1);
//!     Ok(())
//! }
//!
//! let mut app = Application::new();
//! app.on_startup(connect);
//! app.on_startup(async |info: &mut TypeMap| -> Result<(), BoxError> {
//!     info.insert(String::from("a closure works too"));
//!     Ok(())
//! });
//! app.on_shutdown(disconnect);
//! ```

use std::future::Future;

use crate::error::BoxError;
use crate::handler::BoxFuture;

/// An async lifespan function of `A` (`&mut TypeMap` at startup, `&TypeMap` at shutdown).
///
/// Implemented for every `async fn(A) -> Result<(), E>` with `E: Into<BoxError>`, for async
/// closures (`async |info: &mut TypeMap| -> Result<(), BoxError> { ... }`), and for plain
/// closures returning a future that does not borrow `A`.
pub trait LifespanHandler<'a, A: 'a>: Send + Sync + 'static {
    /// Runs the handler.
    fn call(&self, arg: A) -> BoxFuture<'a, Result<(), BoxError>>;
}

impl<'a, A, F, Fut, E> LifespanHandler<'a, A> for F
where
    A: 'a,
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'a,
    E: Into<BoxError>,
{
    fn call(&self, arg: A) -> BoxFuture<'a, Result<(), BoxError>> {
        let future = self(arg);
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}
