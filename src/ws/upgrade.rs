//! [`Upgrade`]: the end of the WebSocket middleware chain. It starts the handler in a task
//! of its own with a pending [`WebSocket`], and answers the handshake with what the handler
//! decides: `101`, its own response, or `403` when it returns without deciding.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use http::{HeaderValue, StatusCode};
use hyper::upgrade::OnUpgrade;
use tokio::sync::oneshot;
use tracing::Instrument;

use super::error::WebSocketError;
use super::handler::WsHandler;
use super::handshake;
use super::request::WebSocketRequest;
use super::runtime::WsRuntime;
use super::socket::{Decision, WebSocket};
use crate::response::HttpResponse;

/// The end of the WebSocket middleware chain: runs the handler in its own task and answers
/// the handshake with its decision.
pub(crate) struct Upgrade {
    pub(crate) handler: Arc<dyn WsHandler>,
    pub(crate) accept: HeaderValue,
    pub(crate) upgrade: OnUpgrade,
    pub(crate) runtime: Arc<WsRuntime>,
}

impl Upgrade {
    pub(crate) async fn open(self, req: WebSocketRequest) -> HttpResponse {
        let Self {
            handler,
            accept,
            upgrade,
            runtime,
        } = self;
        let (decide, decided) = oneshot::channel();
        let offered = req.subprotocols().map(str::to_owned).collect();
        let socket = WebSocket::pending(decide, upgrade, offered, runtime.clone());
        let span = tracing::info_span!("websocket", path = %req.path());
        let hard_stop = runtime.hard_stop.clone();
        runtime.tasks.spawn(
            async move {
                let run = AssertUnwindSafe(handler.call(req, socket)).catch_unwind();
                tokio::select! {
                    outcome = run => match outcome {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => match error.downcast_ref::<WebSocketError>() {
                            Some(error) if error.is_disconnect() => tracing::debug!(%error, "WebSocket ended"),
                            _ => tracing::error!(%error, "WebSocket handler failed"),
                        },
                        Err(panic) => {
                            tracing::error!(panic = %crate::panic_message(&*panic), "WebSocket handler panicked");
                        }
                    },
                    () = hard_stop.cancelled() => {
                        tracing::debug!("WebSocket handler still running at the end of the shutdown timeout; dropped");
                    }
                }
            }
            .instrument(span),
        );
        match decided.await {
            Ok(Decision::Accept { protocol, headers }) => {
                handshake::switching_protocols(accept, protocol, headers)
            }
            Ok(Decision::Reject(response)) => response,
            Err(_) => HttpResponse::text(StatusCode::FORBIDDEN, "Forbidden"),
        }
    }
}
