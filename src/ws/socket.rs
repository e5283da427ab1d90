//! [`WebSocket`]: one conversation, from the handler's decision to accept it to its close.
//!
//! The handler runs in a task of its own from the moment the handshake is routed, so it can
//! decide before the `101` goes out: [`accept`](WebSocket::accept) hands its subprotocol and
//! headers to the waiting HTTP side (which answers `101`), then awaits hyper's upgraded
//! connection. Every way a conversation ends — the peer's close, the handler's, a size limit,
//! a broken connection, server shutdown — is reported once by `receive` as a
//! [`Message::Close`]; the rest of the closing handshake runs in a background task the
//! server's graceful shutdown waits for.

use std::fmt;
use std::future::{Future, poll_fn};
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::{Message as WsMessage, Role};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::closing::{Closing, Ending, close_frame};
use super::deflate::negotiate::Params;
use super::deflate::{Side, WsIo};
use super::error::WebSocketError;
use super::keepalive::KeepAlive;
use super::message::{Message, close_code};
use super::runtime::WsRuntime;
use crate::response::{HttpResponse, IntoHeaders, IntoResponse};

pub(super) type Stream = WebSocketStream<WsIo<TokioIo<Upgraded>>>;

/// A WebSocket conversation: bareASGI's `WebSocket`.
///
/// Call [`accept`](Self::accept) first (or [`reject`](Self::reject)); then
/// [`receive`](Self::receive) and [`send`](Self::send) until `receive` returns a
/// [`Message::Close`]. Pings are answered automatically while the handler receives.
///
/// ```
/// use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
///
/// async fn echo(_req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
///     ws.accept(None, ()).await?;
///     loop {
///         match ws.receive().await? {
///             Message::Close { .. } => return Ok(()),
///             message => ws.send(message).await?,
///         }
///     }
/// }
/// ```
///
/// Returning from the handler closes an open conversation with `1000`, or `1011` when the
/// handler returned an `Err` or panicked; dropping the socket earlier closes it with
/// `1000`. Dropping it before accepting answers the handshake `403 Forbidden` (`500` after
/// a panic).
///
/// While the handler waits in `receive`, a socket the peer has been silent on is pinged
/// (see [`Application::ws_ping_interval`](crate::Application::ws_ping_interval)); a peer
/// that answers nothing is taken for gone and `receive` reports `1006`. A `send` the peer
/// does not read for the write-stall timeout fails, and the connection is dropped.
///
/// `receive` is cancel-safe, so it can sit in a `tokio::select!` beside another source;
/// it also ends the conversation with `1001` when the server shuts down. `send` is not: a
/// send cancelled mid-write finishes with the next one.
pub struct WebSocket {
    state: State,
    runtime: Arc<WsRuntime>,
    /// A child of the server's shutdown token, so that checking it on every `send` and
    /// waiting for it on every `receive` never contends on the server-wide one.
    shutdown_token: CancellationToken,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    offered: Vec<String>,
    /// permessage-deflate as negotiated, for the connection once upgraded.
    deflate: Option<Params>,
    /// Set while the socket is open and the runtime pings.
    keep_alive: Option<KeepAlive>,
    /// Where an open socket goes when dropped: to the task running the handler, which
    /// closes it with the code the handler's outcome calls for.
    on_drop: Option<oneshot::Sender<Box<Stream>>>,
}

enum State {
    Pending {
        decide: oneshot::Sender<Decision>,
        upgrade: OnUpgrade,
    },
    Open(Box<Stream>),
    Closed {
        code: u16,
        reason: String,
        reported: bool,
    },
}

/// The handler's answer to the handshake, for the HTTP side to send.
pub(super) enum Decision {
    Accept {
        protocol: Option<HeaderValue>,
        headers: HeaderMap,
    },
    Reject(HttpResponse),
}

impl WebSocket {
    /// A conversation waiting for the handler's decision, which goes to `decide`.
    pub(super) fn pending(
        decide: oneshot::Sender<Decision>,
        upgrade: OnUpgrade,
        offered: Vec<String>,
        deflate: Option<Params>,
        runtime: Arc<WsRuntime>,
        on_drop: oneshot::Sender<Box<Stream>>,
    ) -> Self {
        let shutdown_token = runtime.shutdown.child_token();
        Self {
            state: State::Pending { decide, upgrade },
            shutdown: Box::pin(shutdown_token.clone().cancelled_owned()),
            shutdown_token,
            offered,
            deflate,
            runtime,
            keep_alive: None,
            on_drop: Some(on_drop),
        }
    }

    /// Accepts the conversation: the client gets `101 Switching Protocols` with
    /// `subprotocol` (one the client offered, see
    /// [`WebSocketRequest::subprotocols`](super::WebSocketRequest::subprotocols)) and
    /// `headers` (`()` for none, or any of the forms a response takes:
    /// `[("set-cookie", "a=b")]`, a `HeaderMap`, ...). Returns once the connection is a
    /// WebSocket.
    ///
    /// # Errors
    /// [`WebSocketError::UnknownSubprotocol`] or [`WebSocketError::InvalidHeader`] (nothing
    /// was sent; the handler may try again); [`WebSocketError::AlreadyAccepted`] on a second
    /// call; [`WebSocketError::HandshakeAbandoned`] when the client went away or the
    /// request timed out before the upgrade.
    pub async fn accept(
        &mut self,
        subprotocol: Option<&str>,
        headers: impl IntoHeaders,
    ) -> Result<(), WebSocketError> {
        if !matches!(self.state, State::Pending { .. }) {
            return Err(WebSocketError::AlreadyAccepted);
        }
        let protocol = match subprotocol {
            None => None,
            Some(name) if self.offered.iter().any(|offered| offered == name) => Some(
                HeaderValue::from_str(name)
                    .map_err(|_| WebSocketError::UnknownSubprotocol(name.to_owned()))?,
            ),
            Some(name) => return Err(WebSocketError::UnknownSubprotocol(name.to_owned())),
        };
        let headers = headers.into_headers()?;
        let abandoned = State::Closed {
            code: close_code::ABNORMAL,
            reason: String::new(),
            reported: true,
        };
        let State::Pending { decide, upgrade } = mem::replace(&mut self.state, abandoned) else {
            unreachable!("checked above");
        };
        decide
            .send(Decision::Accept { protocol, headers })
            .map_err(|_| WebSocketError::HandshakeAbandoned)?;
        let upgraded = upgrade.await.map_err(|error| {
            tracing::debug!(%error, "the upgrade did not complete");
            WebSocketError::HandshakeAbandoned
        })?;
        let max_frame = self.runtime.config.max_frame_size.unwrap_or(usize::MAX);
        let io = WsIo::new(
            TokioIo::new(upgraded),
            self.deflate,
            Side::Server,
            max_frame,
        );
        let stream =
            WebSocketStream::from_raw_socket(io, Role::Server, Some(self.runtime.config)).await;
        self.state = State::Open(Box::new(stream));
        self.keep_alive = self
            .runtime
            .ping_interval
            .map(|interval| KeepAlive::new(interval, self.runtime.ping_timeout));
        Ok(())
    }

    /// Refuses the conversation with an HTTP response instead of the `101`:
    /// `ws.reject(StatusCode::NOT_FOUND)`, `ws.reject((403, "no such room"))`.
    ///
    /// # Errors
    /// [`WebSocketError::AlreadyAccepted`] when the handshake was already answered;
    /// [`WebSocketError::HandshakeAbandoned`] when the client went away.
    pub fn reject(&mut self, response: impl IntoResponse) -> Result<(), WebSocketError> {
        if !matches!(self.state, State::Pending { .. }) {
            return Err(WebSocketError::AlreadyAccepted);
        }
        let rejected = State::Closed {
            code: close_code::ABNORMAL,
            reason: String::new(),
            reported: true,
        };
        let State::Pending { decide, .. } = mem::replace(&mut self.state, rejected) else {
            unreachable!("checked above");
        };
        decide
            .send(Decision::Reject(response.into_response()))
            .map_err(|_| WebSocketError::HandshakeAbandoned)
    }

    /// The next message. Text and binary messages come whole (fragments joined), an empty
    /// binary message stays binary. The end of the conversation, whoever ended it, comes
    /// once as [`Message::Close`] with its code: the peer's, or the one the server sent
    /// (`1009` over the size limit, `1002` for a protocol error, `1007` for text that is not
    /// UTF-8, `1001` at shutdown, the handler's own after [`close`](Self::close)), or `1006`
    /// when the connection dropped without a close.
    ///
    /// # Errors
    /// [`WebSocketError::NotAccepted`] before `accept`; [`WebSocketError::Closed`] after the
    /// close was reported.
    pub async fn receive(&mut self) -> Result<Message, WebSocketError> {
        loop {
            let stream = match &mut self.state {
                State::Open(stream) => stream,
                State::Closed {
                    code,
                    reason,
                    reported,
                } => {
                    if mem::replace(reported, true) {
                        return Err(WebSocketError::Closed);
                    }
                    return Ok(Message::Close {
                        code: *code,
                        reason: mem::take(reason),
                    });
                }
                State::Pending { .. } => return Err(WebSocketError::NotAccepted),
            };
            let shutdown = &mut self.shutdown;
            let keep_alive = &mut self.keep_alive;
            let event = poll_fn(|cx| {
                if shutdown.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::ShuttingDown);
                }
                if let Poll::Ready(next) = stream.poll_next_unpin(cx) {
                    if let Some(keep_alive) = keep_alive {
                        keep_alive.heard();
                    }
                    return Poll::Ready(Event::Received(next));
                }
                match keep_alive {
                    Some(keep_alive) => keep_alive
                        .poll_gone(&mut **stream, cx)
                        .map(|()| Event::PeerGone),
                    None => Poll::Pending,
                }
            })
            .await;
            let ending = match event {
                Event::ShuttingDown => {
                    Ending::ours(close_code::GOING_AWAY, "server shutting down", false)
                }
                Event::PeerGone => {
                    tracing::debug!("the WebSocket peer stopped answering pings; dropping it");
                    #[cfg(feature = "metrics")]
                    crate::telemetry::limit_hit(crate::telemetry::Limit::Idle);
                    Ending {
                        code: close_code::ABNORMAL,
                        reason: "the peer stopped answering pings".to_owned(),
                        closing: Closing::Drop,
                    }
                }
                Event::Received(Some(Ok(message))) => match message {
                    WsMessage::Text(text) => return Ok(Message::Text(text.as_str().to_owned())),
                    WsMessage::Binary(bytes) => return Ok(Message::Binary(bytes)),
                    WsMessage::Close(frame) => Ending::from_peer(frame),
                    // Pings were answered by tungstenite; pongs need nothing.
                    WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => continue,
                },
                Event::Received(None) => Ending::abnormal(),
                Event::Received(Some(Err(error))) => Ending::from_error(&error),
            };
            self.end(ending);
        }
    }

    /// Sends a text (`String`, `&str`) or binary (`Bytes`, `Vec<u8>`) message; a
    /// [`Message::Close`] is the same as [`close`](Self::close).
    ///
    /// # Errors
    /// [`WebSocketError::NotAccepted`] before `accept`; [`WebSocketError::Closed`] once the
    /// conversation is over (after shutdown began, the socket is closed with `1001` and this
    /// is the answer); [`WebSocketError::Connection`] when the write failed.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), WebSocketError> {
        let message = match message.into() {
            Message::Text(text) => WsMessage::Text(text.into()),
            Message::Binary(bytes) => WsMessage::Binary(bytes),
            Message::Close { code, reason } => return self.close(code, &reason).await,
        };
        let stream = match &mut self.state {
            State::Open(stream) => stream,
            State::Pending { .. } => return Err(WebSocketError::NotAccepted),
            State::Closed { .. } => return Err(WebSocketError::Closed),
        };
        if self.shutdown_token.is_cancelled() {
            self.end(Ending::ours(
                close_code::GOING_AWAY,
                "server shutting down",
                false,
            ));
            return Err(WebSocketError::Closed);
        }
        match send_within(stream, message, self.runtime.write_stall_timeout).await {
            Ok(()) => Ok(()),
            Err(Some(error)) => {
                self.end(Ending::from_error(&error));
                Err(WebSocketError::Connection(Box::new(error)))
            }
            Err(None) => {
                let limit = self.runtime.write_stall_timeout.unwrap_or_default();
                tracing::debug!(timeout = ?limit, "the WebSocket peer read nothing; dropping it");
                #[cfg(feature = "metrics")]
                crate::telemetry::limit_hit(crate::telemetry::Limit::WriteStall);
                self.end(Ending::abnormal());
                Err(WebSocketError::Connection(
                    format!("the peer read nothing for {limit:?}").into(),
                ))
            }
        }
    }

    /// Closes the conversation with `code` (see [`close_code`]) and `reason`, returning once
    /// the close frame is sent; the peer's reply is awaited in the background. `receive`
    /// then reports this close once. Closing again does nothing. Before `accept`, it refuses
    /// the handshake with `403 Forbidden`.
    ///
    /// # Errors
    /// [`WebSocketError::InvalidCloseCode`] for a code that may not be sent (`1005`,
    /// `1006`, below `1000`, ...); [`WebSocketError::CloseReasonTooLong`] past 123 bytes;
    /// [`WebSocketError::Connection`] when the frame could not be written.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        if !close_code::is_sendable(code) {
            return Err(WebSocketError::InvalidCloseCode(code));
        }
        if reason.len() > 123 {
            return Err(WebSocketError::CloseReasonTooLong);
        }
        let closed = State::Closed {
            code,
            reason: reason.to_owned(),
            reported: false,
        };
        match mem::replace(&mut self.state, closed) {
            State::Pending { decide, .. } => {
                self.state = State::Closed {
                    code,
                    reason: reason.to_owned(),
                    reported: true,
                };
                let forbidden = HttpResponse::text(StatusCode::FORBIDDEN, "Forbidden");
                let _ = decide.send(Decision::Reject(forbidden));
                Ok(())
            }
            State::Open(mut stream) => {
                match WebSocketStream::close(&mut stream, Some(close_frame(code, reason))).await {
                    Ok(()) => {
                        self.runtime.spawn_closing(stream, Closing::AwaitReply);
                        Ok(())
                    }
                    Err(error) => Err(WebSocketError::Connection(Box::new(error))),
                }
            }
            previous @ State::Closed { .. } => {
                self.state = previous;
                Ok(())
            }
        }
    }

    /// Whether the conversation is open: accepted and not yet closed.
    #[must_use]
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open(_))
    }

    /// The close code of a conversation that has ended, whichever side ended it; `None`
    /// while pending or open. (bareASGI's `close_code`, which works.)
    #[must_use]
    pub fn close_code(&self) -> Option<u16> {
        match self.state {
            State::Closed { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Records the end and leaves the rest of the closing handshake to a background task.
    fn end(&mut self, ending: Ending) {
        let Ending {
            code,
            reason,
            closing,
        } = ending;
        if let State::Open(stream) = mem::replace(
            &mut self.state,
            State::Closed {
                code,
                reason,
                reported: false,
            },
        ) {
            self.runtime.spawn_closing(stream, closing);
        }
    }
}

impl Drop for WebSocket {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        let dropped = State::Closed {
            code: close_code::ABNORMAL,
            reason: String::new(),
            reported: true,
        };
        match mem::replace(&mut self.state, dropped) {
            // Without a decision the HTTP side answers 403.
            State::Pending { decide, .. } if panicking => {
                let _ = decide.send(Decision::Reject(HttpResponse::internal_server_error()));
            }
            State::Open(stream) => {
                // The task running the handler closes it once it knows how the handler
                // ended; if that task is gone (the socket outlived its handler), here.
                let stream = match self.on_drop.take() {
                    Some(on_drop) => match on_drop.send(stream) {
                        Ok(()) => return,
                        Err(stream) => stream,
                    },
                    None => stream,
                };
                let (code, reason) = if panicking {
                    (close_code::INTERNAL_ERROR, "internal error")
                } else {
                    (close_code::NORMAL, "")
                };
                self.runtime
                    .spawn_closing(stream, Closing::Handshake(close_frame(code, reason)));
            }
            _ => {}
        }
    }
}

/// What `receive` waits for.
enum Event {
    Received(Option<Result<WsMessage, WsError>>),
    ShuttingDown,
    PeerGone,
}

/// Sends `message`; `Err(None)` when the peer read nothing for `stall` (the timer is set
/// only if the first attempt cannot finish at once).
async fn send_within(
    stream: &mut Stream,
    message: WsMessage,
    stall: Option<Duration>,
) -> Result<(), Option<WsError>> {
    let sending = stream.send(message);
    let mut sending = std::pin::pin!(sending);
    if let Poll::Ready(sent) = poll_fn(|cx| Poll::Ready(sending.as_mut().poll(cx))).await {
        return sent.map_err(Some);
    }
    match stall {
        None => sending.await.map_err(Some),
        Some(limit) => match tokio::time::timeout(limit, sending).await {
            Ok(sent) => sent.map_err(Some),
            Err(_) => Err(None),
        },
    }
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Pending { .. } => "pending",
            State::Open(_) => "open",
            State::Closed { .. } => "closed",
        };
        f.debug_struct("WebSocket")
            .field("state", &state)
            .field("close_code", &self.close_code())
            .finish()
    }
}
