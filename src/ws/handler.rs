//! [`WsHandler`]: an async function of a [`WebSocketRequest`] and a [`WebSocket`].

use std::future::Future;

use super::request::WebSocketRequest;
use super::socket::WebSocket;
use crate::error::BoxError;
use crate::handler::BoxFuture;

/// Something that serves a WebSocket. Implemented for every
/// `Fn(WebSocketRequest, WebSocket) -> impl Future<Output = R>` that is `Send + Sync`, where
/// `R` is `()` or a `Result<(), E>` (so `?` works). An `Err` is logged (at debug level when
/// it only says the client went away).
///
/// ```
/// use bareasgi::Application;
/// use bareasgi::ws::{WebSocket, WebSocketError, WebSocketRequest};
///
/// async fn hello(_req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
///     ws.accept(None, ()).await?;
///     ws.send("hello").await?;
///     ws.close(1000, "bye").await
/// }
///
/// let mut app = Application::new();
/// app.ws_router.add("/hello", hello);
/// app.ws_router.add("/closure", |_req: WebSocketRequest, mut ws: WebSocket| async move {
///     let _ = ws.accept(None, ()).await;
/// });
/// ```
pub trait WsHandler: Send + Sync + 'static {
    /// Serves the conversation; `ws` is not accepted yet.
    fn call(
        &self,
        req: WebSocketRequest,
        ws: WebSocket,
    ) -> BoxFuture<'static, Result<(), BoxError>>;
}

impl<F, Fut, R> WsHandler for F
where
    F: Fn(WebSocketRequest, WebSocket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoWsOutcome,
{
    fn call(
        &self,
        req: WebSocketRequest,
        ws: WebSocket,
    ) -> BoxFuture<'static, Result<(), BoxError>> {
        let future = self(req, ws);
        Box::pin(async move { future.await.into_outcome() })
    }
}

/// What a WebSocket handler may return: `()` or `Result<(), E>` for any error type.
pub trait IntoWsOutcome {
    /// The outcome, with the error boxed.
    ///
    /// # Errors
    /// The handler's error.
    fn into_outcome(self) -> Result<(), BoxError>;
}

impl IntoWsOutcome for () {
    fn into_outcome(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoWsOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}
