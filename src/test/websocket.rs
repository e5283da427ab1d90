//! [`TestWebSocket`]: the client's side of a WebSocket to the application, with `send` and
//! `receive` shaped like the server's [`WebSocket`](crate::ws::WebSocket).
//!
//! The handshake is the one a browser makes, over hyper's client upgrade: a refusal is a
//! whole [`TestResponse`], and a server that picks none of the offered subprotocols is
//! accepted, as browsers accept it. The frames are tokio-tungstenite's.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use http::header::{
    CONNECTION, HOST, HeaderName, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS,
    SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, Method, Request, StatusCode, Uri, Version};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Message as WsMessage, Role};

use super::failure::fail_at;
use super::response::TestResponse;
use super::{Options, Shared};
use crate::body::Body;
use crate::ws::{Message, Side, WebSocketError, WsIo, close_code, negotiate};

type Stream = WebSocketStream<WsIo<TokioIo<Upgraded>>>;

/// A WebSocket handshake being built: `client.websocket("/ws")`, with
/// [`header`](Self::header) and [`subprotocol`](Self::subprotocol) as needed, then `.await`
/// (panics if the server refuses) or [`try_connect`](Self::try_connect).
#[must_use = "a WebSocket does nothing until it is awaited"]
pub struct WebSocketConnect {
    shared: Arc<Shared>,
    options: Options,
    target: Uri,
    headers: HeaderMap,
    subprotocols: Vec<String>,
    deflate: bool,
    http2: bool,
}

impl WebSocketConnect {
    #[track_caller]
    pub(crate) fn new(shared: Arc<Shared>, options: Options, path: &str) -> Self {
        Self {
            shared,
            options,
            target: super::request_target(path),
            headers: HeaderMap::new(),
            subprotocols: Vec::new(),
            deflate: true,
            http2: false,
        }
    }

    /// Opens the WebSocket over HTTP/2 (cleartext, prior knowledge) with an extended
    /// `CONNECT` (RFC 8441), as browsers do on an HTTP/2 connection whose server allows it,
    /// instead of an HTTP/1.1 upgrade. The server answers `200` rather than `101`.
    pub fn http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Whether to offer permessage-deflate (RFC 7692) as browsers do:
    /// `permessage-deflate; client_max_window_bits`. On by default; the server's answer is
    /// in [`TestWebSocket::headers`] (`sec-websocket-extensions`), and messages are then
    /// compressed both ways. A `sec-websocket-extensions` header set with
    /// [`header`](Self::header) replaces the offer (and is honoured if the server agrees).
    pub fn deflate(mut self, offer: bool) -> Self {
        self.deflate = offer;
        self
    }

    /// Adds a header to the handshake (`origin`, `cookie`, `authorization`, ...). A
    /// client with a [cookie jar](super::TestClient::with_cookie_jar) sends the jar's
    /// cookies unless a `cookie` header is given here.
    ///
    /// # Panics
    /// When the name or value is not valid HTTP.
    #[track_caller]
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        K: TryInto<HeaderName>,
        K::Error: fmt::Display,
        V: TryInto<HeaderValue>,
        V::Error: fmt::Display,
    {
        let (name, value) = super::header(name, value);
        self.headers.append(name, value);
        self
    }

    /// Offers a subprotocol (in order of preference when called several times).
    pub fn subprotocol(mut self, name: &str) -> Self {
        self.subprotocols.push(name.to_owned());
        self
    }

    /// Opens the WebSocket; a server that answers anything but `101` gives its response.
    ///
    /// # Errors
    /// The server's response when it refused the handshake (`403`, `404`, `426`, ...).
    ///
    /// # Panics
    /// When the server cannot be reached, or answers `101` with a wrong
    /// `sec-websocket-accept` or a subprotocol that was not offered; the panic names the
    /// test's line.
    #[track_caller]
    pub fn try_connect(self) -> impl Future<Output = Result<TestWebSocket, TestResponse>> + Send {
        self.try_connect_from(Location::caller())
    }

    async fn try_connect_from(
        self,
        caller: &'static Location<'static>,
    ) -> Result<TestWebSocket, TestResponse> {
        let Self {
            shared,
            options,
            target,
            mut headers,
            subprotocols,
            deflate,
            http2,
        } = self;
        #[cfg(feature = "cookies")]
        if let Some(jar) = &options.jar
            && !headers.contains_key(http::header::COOKIE)
        {
            let kept = jar.for_request(target.path(), &[]);
            if let Ok(value) = HeaderValue::try_from(kept.join("; "))
                && !kept.is_empty()
            {
                headers.insert(http::header::COOKIE, value);
            }
        }
        // Only the jar matters to a handshake, which is always HTTP/1.1.
        #[cfg(not(feature = "cookies"))]
        let _ = options;
        if deflate && !headers.contains_key(SEC_WEBSOCKET_EXTENSIONS) {
            headers.insert(SEC_WEBSOCKET_EXTENSIONS, negotiate::client_offer());
        }
        let key = generate_key();
        let fixed = if http2 {
            // RFC 8441 §5: no key, no upgrade; the authority is in the URI.
            vec![(SEC_WEBSOCKET_VERSION, "13".to_owned())]
        } else {
            vec![
                (HOST, shared.addr.to_string()),
                (CONNECTION, "upgrade".to_owned()),
                (UPGRADE, "websocket".to_owned()),
                (SEC_WEBSOCKET_VERSION, "13".to_owned()),
                (SEC_WEBSOCKET_KEY, key.clone()),
            ]
        };
        for (name, value) in fixed {
            if !headers.contains_key(&name) {
                let value = HeaderValue::try_from(value).expect("handshake headers are valid text");
                headers.insert(name, value);
            }
        }
        if !subprotocols.is_empty() {
            match HeaderValue::try_from(subprotocols.join(", ")) {
                Ok(value) => {
                    headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
                }
                Err(_) => fail_at(
                    caller,
                    format!("the subprotocols {subprotocols:?} are not valid header text"),
                ),
            }
        }
        let mut request = Request::new(Body::empty());
        *request.headers_mut() = headers;
        let sent = if http2 {
            *request.method_mut() = Method::CONNECT;
            *request.version_mut() = Version::HTTP_2;
            *request.uri_mut() = format!("http://{}{target}", shared.addr)
                .parse()
                .expect("an address and a request target make a URI");
            request
                .extensions_mut()
                .insert(hyper::ext::Protocol::from_static("websocket"));
            match shared.connect_h2().await {
                Ok(mut sender) => sender.send_request(request).await,
                Err(problem) => fail_at(caller, problem),
            }
        } else {
            *request.uri_mut() = target.clone();
            match shared.connect().await {
                Ok(mut sender) => sender.send_request(request).await,
                Err(problem) => fail_at(caller, problem),
            }
        };
        let response = match sent {
            Ok(response) => response,
            Err(error) => fail_at(
                caller,
                format!("the WebSocket handshake to {target} failed: {error}"),
            ),
        };
        let accepted = if http2 {
            StatusCode::OK
        } else {
            StatusCode::SWITCHING_PROTOCOLS
        };
        if response.status() != accepted {
            return Err(TestResponse::from_incoming(response));
        }
        if !http2 {
            let expected = derive_accept_key(key.as_bytes());
            let accept = response.headers().get(SEC_WEBSOCKET_ACCEPT);
            if accept.is_none_or(|accept| accept != expected.as_str()) {
                fail_at(
                    caller,
                    format!(
                        "the server answered the handshake with sec-websocket-accept {accept:?}, expected {expected:?}"
                    ),
                );
            }
        }
        let protocol = response
            .headers()
            .get(SEC_WEBSOCKET_PROTOCOL)
            .map(|value| value.to_str().unwrap_or_default().to_owned());
        if let Some(chosen) = &protocol
            && !subprotocols.contains(chosen)
        {
            fail_at(
                caller,
                format!(
                    "the server chose the subprotocol {chosen:?}, which was not offered ({subprotocols:?})"
                ),
            );
        }
        let agreed = match negotiate::client_accept(response.headers()) {
            Ok(agreed) => agreed,
            Err(problem) => panic!("the server's sec-websocket-extensions is wrong: {problem}"),
        };
        let headers = response.headers().clone();
        let upgraded = match hyper::upgrade::on(response).await {
            Ok(upgraded) => upgraded,
            Err(error) => fail_at(
                caller,
                format!("the WebSocket upgrade to {target} failed: {error}"),
            ),
        };
        let io = WsIo::new(TokioIo::new(upgraded), agreed, Side::Client, usize::MAX);
        let stream = WebSocketStream::from_raw_socket(io, Role::Client, None).await;
        Ok(TestWebSocket {
            stream: Some(stream),
            state: State::Open,
            protocol,
            headers,
            runtime: shared.runtime.clone(),
        })
    }
}

impl IntoFuture for WebSocketConnect {
    type Output = TestWebSocket;
    type IntoFuture = Pin<Box<dyn Future<Output = TestWebSocket> + Send>>;

    #[track_caller]
    fn into_future(self) -> Self::IntoFuture {
        let caller = Location::caller();
        let target = self.target.clone();
        Box::pin(async move {
            match self.try_connect_from(caller).await {
                Ok(socket) => socket,
                Err(refusal) => {
                    let status = refusal.status();
                    let body = refusal.text().await;
                    fail_at(
                        caller,
                        format!("the server refused the WebSocket to {target}: {status} {body:?}"),
                    )
                }
            }
        })
    }
}

impl fmt::Debug for WebSocketConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketConnect")
            .field("target", &self.target)
            .field("headers", &self.headers)
            .field("subprotocols", &self.subprotocols)
            .field("deflate", &self.deflate)
            .field("http2", &self.http2)
            .finish_non_exhaustive()
    }
}

enum State {
    Open,
    /// We sent a close; `receive` waits for the server's.
    Closing,
    /// The end is known; `reported` once `receive` returned it.
    Closed {
        code: u16,
        reason: String,
        reported: bool,
    },
}

/// The client's side of a WebSocket: [`send`](Self::send), [`receive`](Self::receive) and
/// [`close`](Self::close), as on the server's [`WebSocket`](crate::ws::WebSocket).
///
/// `receive` answers pings, joins fragments, and reports the end of the conversation once
/// as a [`Message::Close`] with the server's code (`1006` when the connection dropped
/// without one); after that, calls fail with [`WebSocketError::Closed`]. Dropping an open
/// socket closes it with `1000`.
pub struct TestWebSocket {
    stream: Option<Stream>,
    state: State,
    protocol: Option<String>,
    headers: HeaderMap,
    runtime: tokio::runtime::Handle,
}

impl TestWebSocket {
    /// The subprotocol the server chose, if any.
    #[must_use]
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The headers of the server's `101` answer.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Sends a text (`String`, `&str`) or binary (`Bytes`, `Vec<u8>`) message; a
    /// [`Message::Close`] is the same as [`close`](Self::close).
    ///
    /// # Errors
    /// [`WebSocketError::Closed`] once the conversation is over;
    /// [`WebSocketError::Connection`] when the write failed.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), WebSocketError> {
        let message = match message.into() {
            Message::Text(text) => WsMessage::Text(text.into()),
            Message::Binary(bytes) => WsMessage::Binary(bytes),
            Message::Close { code, reason } => return self.close(code, &reason).await,
        };
        let (State::Open, Some(stream)) = (&self.state, &mut self.stream) else {
            return Err(WebSocketError::Closed);
        };
        if let Err(error) = stream.send(message).await {
            self.end(ending(&error));
            return Err(WebSocketError::Connection(Box::new(error)));
        }
        Ok(())
    }

    /// The next message: `Text` and `Binary` whole, or, once, the `Close` that ended the
    /// conversation.
    ///
    /// # Errors
    /// [`WebSocketError::Closed`] after the close was reported.
    pub async fn receive(&mut self) -> Result<Message, WebSocketError> {
        loop {
            if let State::Closed {
                code,
                reason,
                reported,
            } = &mut self.state
            {
                if std::mem::replace(reported, true) {
                    return Err(WebSocketError::Closed);
                }
                return Ok(Message::Close {
                    code: *code,
                    reason: std::mem::take(reason),
                });
            }
            let Some(stream) = &mut self.stream else {
                return Err(WebSocketError::Closed);
            };
            match stream.next().await {
                Some(Ok(WsMessage::Text(text))) => {
                    return Ok(Message::Text(text.as_str().to_owned()));
                }
                Some(Ok(WsMessage::Binary(bytes))) => return Ok(Message::Binary(bytes)),
                Some(Ok(WsMessage::Close(frame))) => {
                    // Sends tungstenite's queued reply to the server's close.
                    let _ = stream.flush().await;
                    let (code, reason) = match frame {
                        Some(frame) => (u16::from(frame.code), frame.reason.as_str().to_owned()),
                        None => (close_code::NO_STATUS, String::new()),
                    };
                    self.end((code, reason));
                }
                Some(Ok(_ping_pong_or_frame)) => {}
                Some(Err(error)) => self.end(ending(&error)),
                None => self.end((close_code::ABNORMAL, String::new())),
            }
        }
    }

    /// Closes the conversation with `code` and `reason`; [`receive`](Self::receive) then
    /// reports the server's answering close. Closing again does nothing.
    ///
    /// # Errors
    /// [`WebSocketError::InvalidCloseCode`], [`WebSocketError::CloseReasonTooLong`] (nothing
    /// was sent); [`WebSocketError::Connection`] when the frame could not be written.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        if !close_code::is_sendable(code) {
            return Err(WebSocketError::InvalidCloseCode(code));
        }
        if reason.len() > 123 {
            return Err(WebSocketError::CloseReasonTooLong);
        }
        let (State::Open, Some(stream)) = (&self.state, &mut self.stream) else {
            return Ok(());
        };
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        self.state = State::Closing;
        if let Err(error) = stream.close(Some(frame)).await {
            self.end(ending(&error));
            return Err(WebSocketError::Connection(Box::new(error)));
        }
        Ok(())
    }

    fn end(&mut self, (code, reason): (u16, String)) {
        self.state = State::Closed {
            code,
            reason,
            reported: false,
        };
    }
}

/// The close code a failed connection reports, as the server's side reports it.
fn ending(error: &WsError) -> (u16, String) {
    let code = match error {
        WsError::Capacity(_) => close_code::MESSAGE_TOO_BIG,
        WsError::Utf8(_) => close_code::INVALID_DATA,
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
        | WsError::Io(_)
        | WsError::ConnectionClosed
        | WsError::AlreadyClosed => close_code::ABNORMAL,
        WsError::Protocol(_) => close_code::PROTOCOL_ERROR,
        _ => close_code::ABNORMAL,
    };
    (code, String::new())
}

impl Drop for TestWebSocket {
    fn drop(&mut self) {
        let Some(mut stream) = self.stream.take() else {
            return;
        };
        if matches!(self.state, State::Open) {
            // Close politely, on the server's runtime, so the handler sees 1000 rather than
            // a dropped connection.
            // Detached: the close finishes on its own, or ends with the server's runtime.
            drop(self.runtime.spawn(async move {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                    let normal = CloseFrame {
                        code: close_code::NORMAL.into(),
                        reason: "".into(),
                    };
                    if stream.close(Some(normal)).await.is_ok() {
                        while let Some(Ok(_)) = stream.next().await {}
                    }
                })
                .await;
            }));
        }
    }
}

impl fmt::Debug for TestWebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Open => "open",
            State::Closing => "closing",
            State::Closed { .. } => "closed",
        };
        f.debug_struct("TestWebSocket")
            .field("state", &state)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}
