//! [`Upgrade`]: the end of the WebSocket middleware chain. It starts the handler in a task
//! of its own with a pending [`WebSocket`], and answers the handshake with what the handler
//! decides: `101`, its own response, or `403` when it returns without deciding. Once the
//! handler is done it closes the socket with the code its outcome calls for: `1000` when it
//! returned `Ok`, `1011` when it returned an `Err` or panicked.

use std::future::{Future, poll_fn};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use http::{HeaderValue, StatusCode};
use hyper::upgrade::OnUpgrade;
use tokio::sync::oneshot;
use tracing::Instrument;

use super::closing::{Closing, close_frame};
use super::deflate::negotiate::Params;
use super::error::WebSocketError;
use super::handler::WsHandler;
use super::handshake::{self, StreamHold};
use super::message::close_code;
use super::request::WebSocketRequest;
use super::runtime::WsRuntime;
use super::socket::{Decision, Stream, WebSocket};
use crate::error::BoxError;
use crate::response::HttpResponse;

/// The end of the WebSocket middleware chain: runs the handler in its own task and answers
/// the handshake with its decision.
pub(crate) struct Upgrade {
    pub(crate) handler: Arc<dyn WsHandler>,
    pub(crate) answer: handshake::Answer,
    /// Held while the handler runs (see [`StreamHold`]).
    pub(crate) stream_hold: Option<StreamHold>,
    /// The `sec-websocket-extensions` answer and what it agreed to, when permessage-deflate
    /// was negotiated.
    pub(crate) deflate: Option<(HeaderValue, Params)>,
    pub(crate) upgrade: OnUpgrade,
    pub(crate) runtime: Arc<WsRuntime>,
}

impl Upgrade {
    pub(crate) async fn open(self, req: WebSocketRequest) -> HttpResponse {
        let Self {
            handler,
            answer,
            stream_hold,
            deflate,
            upgrade,
            runtime,
        } = self;
        let (extensions, params) = deflate.unzip();
        let (decide, decided) = oneshot::channel();
        let (on_drop, dropped) = oneshot::channel();
        let offered = req.subprotocols().map(str::to_owned).collect();
        let socket = WebSocket::pending(decide, upgrade, offered, params, runtime.clone(), on_drop);
        let span = tracing::info_span!("websocket", path = %req.path());
        let hard_stop = runtime.hard_stop.clone();
        let tasks = runtime.tasks.clone();
        tasks.spawn(
            async move {
                #[cfg(feature = "metrics")]
                let _open = crate::telemetry::Open::websocket();
                let _stream_hold = stream_hold;
                let run = AssertUnwindSafe(handler.call(req, socket)).catch_unwind();
                tokio::select! {
                    outcome = run_and_close(run, dropped, &runtime) => log(outcome),
                    () = hard_stop.cancelled() => {
                        tracing::debug!("WebSocket handler still running at the end of the shutdown timeout; dropped");
                    }
                }
            }
            .instrument(span),
        );
        match decided.await {
            Ok(Decision::Accept { protocol, headers }) => {
                handshake::switching_protocols(&answer, protocol, extensions, headers)
            }
            Ok(Decision::Reject(response)) => response,
            Err(_) => HttpResponse::text(StatusCode::FORBIDDEN, "Forbidden"),
        }
    }
}

type Outcome = Result<Result<(), BoxError>, Box<dyn std::any::Any + Send>>;

/// Runs the handler, and closes its socket when the handler drops it: with `1000` when
/// that happens while the handler goes on, or when it returns `Ok`; with `1011` when it
/// returns an `Err` or panics. (The socket is dropped inside the handler's future, before
/// its outcome is known, so the socket hands itself over instead of closing itself.)
async fn run_and_close(
    run: impl Future<Output = Outcome>,
    dropped: oneshot::Receiver<Box<Stream>>,
    runtime: &WsRuntime,
) -> Outcome {
    let mut run = std::pin::pin!(run);
    let mut dropped = Some(dropped);
    let outcome = poll_fn(|cx| {
        if let Poll::Ready(outcome) = run.as_mut().poll(cx) {
            return Poll::Ready(outcome);
        }
        if let Some(receiver) = &mut dropped
            && let Poll::Ready(received) = Pin::new(receiver).poll(cx)
        {
            dropped = None;
            if let Ok(stream) = received {
                close(runtime, stream, close_code::NORMAL, "");
            }
        }
        Poll::Pending
    })
    .await;
    if let Some(stream) = dropped.and_then(|mut receiver| receiver.try_recv().ok()) {
        match &outcome {
            Ok(Ok(())) => close(runtime, stream, close_code::NORMAL, ""),
            _ => close(
                runtime,
                stream,
                close_code::INTERNAL_ERROR,
                "internal error",
            ),
        }
    }
    outcome
}

fn close(runtime: &WsRuntime, stream: Box<Stream>, code: u16, reason: &str) {
    runtime.spawn_closing(stream, Closing::Handshake(close_frame(code, reason)));
}

fn log(outcome: Outcome) {
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => match error.downcast_ref::<WebSocketError>() {
            Some(error) if error.is_disconnect() => tracing::debug!(%error, "WebSocket ended"),
            _ => tracing::error!(%error, "WebSocket handler failed"),
        },
        Err(panic) => {
            tracing::error!(panic = %crate::panic_message(&*panic), "WebSocket handler panicked");
            #[cfg(feature = "metrics")]
            crate::telemetry::panicked("websocket");
        }
    }
}
