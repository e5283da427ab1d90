//! WebSockets over HTTP/2 (RFC 8441) with a real HTTP/2 client (the h2 crate) over h2c:
//! the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL when it has WebSocket routes, and
//! an extended CONNECT with `:protocol = websocket` reaches the same handler, middleware,
//! limits, deflate and shutdown as an HTTP/1.1 upgrade; a quiet WebSocket keeps its
//! connection from the idle timeout. The WebSocket frames are written by hand on the h2
//! stream, so nothing of the server's WebSocket code is on the client side.
#![cfg(all(feature = "ws", feature = "test"))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bareasgi::test::TestClient;
use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest, WsNext, close_code};
use bareasgi::{Application, HttpRequest};
use bytes::Bytes;
use common::TestServer;
use h2::client::SendRequest;
use h2::{RecvStream, SendStream};
use tokio::net::TcpStream;

const LIMIT: Duration = Duration::from_secs(5);

async fn echo(req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
    let prefix = req
        .matches
        .get("room")
        .map(|room| format!("{room}: "))
        .unwrap_or_default();
    ws.accept(None, ()).await?;
    loop {
        match ws.receive().await? {
            Message::Close { .. } => return Ok(()),
            Message::Text(text) => ws.send(format!("{prefix}{text}")).await?,
            message => ws.send(message).await?,
        }
    }
}

async fn h2_client(server: &TestServer) -> SendRequest<Bytes> {
    let socket = TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    // The server's SETTINGS have surely arrived once a first request is answered.
    let mut client = client.ready().await.unwrap();
    let request = http::Request::get(format!("http://{}/", server.addr))
        .body(())
        .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    tokio::time::timeout(LIMIT, response)
        .await
        .unwrap()
        .unwrap();
    client
}

/// One WebSocket on an h2 stream.
struct H2Socket {
    send: SendStream<Bytes>,
    recv: RecvStream,
    buffer: Vec<u8>,
}

impl H2Socket {
    async fn open(
        client: &mut SendRequest<Bytes>,
        server: &TestServer,
        path: &str,
        extensions: Option<&str>,
    ) -> Result<(Self, http::HeaderMap), http::StatusCode> {
        let mut request = http::Request::builder()
            .method("CONNECT")
            .uri(format!("http://{}{}", server.addr, path))
            .header("sec-websocket-version", "13")
            .extension(h2::ext::Protocol::from_static("websocket"));
        if let Some(extensions) = extensions {
            request = request.header("sec-websocket-extensions", extensions);
        }
        let (response, send) = client
            .send_request(request.body(()).unwrap(), false)
            .unwrap();
        let response = tokio::time::timeout(LIMIT, response)
            .await
            .unwrap()
            .unwrap();
        if response.status() != 200 {
            return Err(response.status());
        }
        let headers = response.headers().clone();
        let socket = Self {
            send,
            recv: response.into_body(),
            buffer: Vec::new(),
        };
        Ok((socket, headers))
    }

    fn send(&mut self, first: u8, payload: &[u8]) {
        assert!(payload.len() < 126);
        let mask = [1, 2, 3, 4];
        let mut frame = vec![first, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.send.send_data(frame.into(), false).unwrap();
    }

    /// The next frame: its first byte and payload.
    async fn receive(&mut self) -> (u8, Vec<u8>) {
        loop {
            if self.buffer.len() >= 2 && self.buffer[1] < 126 {
                let len = usize::from(self.buffer[1]);
                if self.buffer.len() >= 2 + len {
                    let frame: Vec<u8> = self.buffer.drain(..2 + len).collect();
                    return (frame[0], frame[2..].to_vec());
                }
            }
            let data = tokio::time::timeout(LIMIT, self.recv.data())
                .await
                .expect("the server answered in time")
                .expect("the stream is open")
                .unwrap();
            let _ = self.recv.flow_control().release_capacity(data.len());
            self.buffer.extend_from_slice(&data);
        }
    }

    async fn close_code(&mut self) -> u16 {
        loop {
            let (first, payload) = self.receive().await;
            if first & 0x0f == 0x8 {
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
    }
}

fn app_with_echo() -> Application {
    let mut app = Application::new();
    app.ws_router.add("/ws", echo);
    app.ws_router.add("/rooms/{room}", echo);
    app
}

#[tokio::test]
async fn an_extended_connect_reaches_the_websocket_route() {
    let server = TestServer::start(app_with_echo()).await;
    let mut client = h2_client(&server).await;
    assert!(client.is_extended_connect_protocol_enabled());
    let (mut ws, headers) = H2Socket::open(&mut client, &server, "/rooms/blue", None)
        .await
        .unwrap();
    assert!(headers.get("sec-websocket-accept").is_none());
    ws.send(0x81, b"hello");
    assert_eq!(ws.receive().await, (0x81, b"blue: hello".to_vec()));
    // A second WebSocket on the same connection, beside the first.
    let (mut other, _) = H2Socket::open(&mut client, &server, "/ws", None)
        .await
        .unwrap();
    other.send(0x82, &[1, 2, 3]);
    assert_eq!(other.receive().await, (0x82, vec![1, 2, 3]));
    ws.send(0x89, b"ping");
    assert_eq!(ws.receive().await, (0x8a, b"ping".to_vec()));
    ws.send(0x88, &1000u16.to_be_bytes());
    assert_eq!(ws.close_code().await, 1000);
}

#[tokio::test]
async fn deflate_is_negotiated_over_http2_too() {
    let server = TestServer::start(app_with_echo()).await;
    let mut client = h2_client(&server).await;
    let (mut ws, headers) = H2Socket::open(
        &mut client,
        &server,
        "/ws",
        Some("permessage-deflate; client_max_window_bits"),
    )
    .await
    .unwrap();
    assert_eq!(
        headers["sec-websocket-extensions"],
        "permessage-deflate; client_max_window_bits=15"
    );
    // "hello" compressed by zlib (raw deflate, sync flush, tail removed).
    let mut compress = flate2::Compress::new(flate2::Compression::default(), false);
    let mut compressed = Vec::with_capacity(64);
    compress
        .compress_vec(b"hello", &mut compressed, flate2::FlushCompress::Sync)
        .unwrap();
    compressed.truncate(compressed.len() - 4);
    ws.send(0xc1, &compressed);
    assert_eq!(
        ws.receive().await,
        (0x81, b"hello".to_vec()),
        "short: sent plain"
    );
}

#[tokio::test]
async fn a_connect_elsewhere_or_without_a_version_is_refused() {
    let server = TestServer::start(app_with_echo()).await;
    let mut client = h2_client(&server).await;
    let refused = H2Socket::open(&mut client, &server, "/nowhere", None).await;
    assert_eq!(refused.err(), Some(http::StatusCode::NOT_FOUND));

    let request = http::Request::builder()
        .method("CONNECT")
        .uri(format!("http://{}/ws", server.addr))
        .extension(h2::ext::Protocol::from_static("websocket"))
        .body(())
        .unwrap();
    let (response, _send) = client.send_request(request, false).unwrap();
    let response = tokio::time::timeout(LIMIT, response)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["sec-websocket-version"], "13");
}

#[tokio::test]
async fn without_websocket_routes_extended_connect_is_not_advertised() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "hi" });
    let server = TestServer::start(app).await;
    let client = h2_client(&server).await;
    assert!(!client.is_extended_connect_protocol_enabled());
}

#[tokio::test]
async fn middleware_limits_and_shutdown_apply_as_over_http1() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let mut app = app_with_echo();
    app.ws_middleware(move |req: WebSocketRequest, next: WsNext| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move { next.run(req).await }
    });
    app.ws_max_message_size(64);
    let mut server = TestServer::start(app).await;
    let mut client = h2_client(&server).await;

    let (mut ws, _) = H2Socket::open(&mut client, &server, "/ws", None)
        .await
        .unwrap();
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "the WebSocket middleware ran"
    );
    ws.send(0x81, &[b'x'; 100]);
    assert_eq!(ws.close_code().await, close_code::MESSAGE_TOO_BIG);
    // The client hangs up the failed socket (a reset of its stream), as a browser does: the
    // server reads a failed socket until its peer hangs up, for at most its 5 s close
    // timeout, which would otherwise race this test's own 5 s wait for the server to stop.
    drop(ws);

    let (mut ws, _) = H2Socket::open(&mut client, &server, "/ws", None)
        .await
        .unwrap();
    ws.send(0x81, b"before");
    assert_eq!(ws.receive().await.1, b"before");
    server.trigger_stop();
    assert_eq!(ws.close_code().await, close_code::GOING_AWAY);
    ws.send(0x88, &1001u16.to_be_bytes());
    // The server ends its side of the stream after the closing handshake, as a server
    // closes its TCP connection first.
    while let Some(data) = tokio::time::timeout(LIMIT, ws.recv.data()).await.unwrap() {
        assert!(
            data.unwrap().is_empty(),
            "nothing after the close but END_STREAM"
        );
    }
    assert!(ws.recv.is_end_stream());
    let stopped = tokio::time::timeout(LIMIT, server.take_handle()).await;
    assert!(
        stopped.is_ok(),
        "the server stopped once the WebSocket closed"
    );
}

#[tokio::test]
async fn a_quiet_websocket_keeps_its_http2_connection_past_the_idle_timeout() {
    let mut app = app_with_echo();
    app.http2_idle_timeout(Some(Duration::from_millis(300)));
    app.ws_ping_interval(None);
    app.http2_keep_alive_interval(None);
    let server = TestServer::start(app).await;
    let mut client = h2_client(&server).await;
    let (mut ws, _) = H2Socket::open(&mut client, &server, "/ws", None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    ws.send(0x81, b"still here");
    assert_eq!(ws.receive().await.1, b"still here");
}

#[tokio::test]
async fn the_test_client_speaks_rfc_8441_when_asked() {
    let client = TestClient::new(app_with_echo());
    let mut ws = client.websocket("/rooms/red").http2().await;
    assert_eq!(
        ws.headers()["sec-websocket-extensions"],
        "permessage-deflate; client_max_window_bits=15"
    );
    let long = "x".repeat(10_000);
    ws.send(long.clone()).await.unwrap();
    assert_eq!(
        ws.receive().await.unwrap(),
        Message::Text(format!("red: {long}"))
    );
    ws.close(1000, "").await.unwrap();
    assert!(matches!(
        ws.receive().await.unwrap(),
        Message::Close { code: 1000, .. }
    ));
}
