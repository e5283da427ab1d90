//! permessage-deflate (RFC 7692) over a real socket. The raw client here compresses and
//! inflates with flate2 directly (not the server's code), so the server is checked against
//! an independent implementation: negotiation, compressed echo with and without context
//! takeover, the size limit on inflated messages (no zip bomb), corrupt data, the setting
//! that turns it off, and the test client speaking it.
#![cfg(all(feature = "ws", feature = "test"))]

mod common;

use std::time::Duration;

use bareasgi::Application;
use bareasgi::test::TestClient;
use bareasgi::ws::{Deflate, Message, WebSocket, WebSocketError, WebSocketRequest, close_code};
use common::TestServer;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: Duration = Duration::from_secs(5);

async fn echo(_req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept(None, ()).await?;
    loop {
        match ws.receive().await? {
            Message::Close { .. } => return Ok(()),
            message => ws.send(message).await?,
        }
    }
}

async fn echo_server(configure: impl FnOnce(&mut Application)) -> TestServer {
    let mut app = Application::new();
    app.ws_router.add("/ws", echo);
    configure(&mut app);
    TestServer::start(app).await
}

/// A WebSocket client on a bare TCP socket.
struct RawClient {
    socket: TcpStream,
    buffer: Vec<u8>,
    /// The response head of the handshake.
    head: String,
}

struct Frame {
    first: u8,
    payload: Vec<u8>,
}

impl Frame {
    fn rsv1(&self) -> bool {
        self.first & 0x40 != 0
    }
    fn opcode(&self) -> u8 {
        self.first & 0x0f
    }
}

impl RawClient {
    async fn connect(server: &TestServer, extensions: Option<&str>) -> Self {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        let offer = extensions
            .map(|value| format!("sec-websocket-extensions: {value}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET /ws HTTP/1.1\r\nhost: {}\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n{offer}\r\n",
            server.addr
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut client = Self {
            socket,
            buffer: Vec::new(),
            head: String::new(),
        };
        let end = loop {
            if let Some(end) = client.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            client.fill().await;
        };
        let head: Vec<u8> = client.buffer.drain(..end).collect();
        client.head = String::from_utf8(head).unwrap().to_ascii_lowercase();
        assert!(client.head.starts_with("http/1.1 101"), "{}", client.head);
        client
    }

    fn extensions(&self) -> Option<&str> {
        self.head
            .lines()
            .find_map(|line| line.strip_prefix("sec-websocket-extensions: "))
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        let read = tokio::time::timeout(LIMIT, self.socket.read(&mut chunk))
            .await
            .expect("the server answered in time")
            .unwrap();
        assert!(read > 0, "the server closed the connection");
        self.buffer.extend_from_slice(&chunk[..read]);
    }

    async fn send(&mut self, first: u8, payload: &[u8]) {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = vec![first];
        match payload.len() {
            len @ 0..=125 => frame.push(0x80 | len as u8),
            len @ 126..=0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.socket.write_all(&frame).await.unwrap();
    }

    async fn receive(&mut self) -> Frame {
        loop {
            if self.buffer.len() >= 2 {
                let (len, at) = match self.buffer[1] & 0x7f {
                    126 if self.buffer.len() >= 4 => (
                        u16::from_be_bytes([self.buffer[2], self.buffer[3]]) as usize,
                        4,
                    ),
                    127 if self.buffer.len() >= 10 => (
                        u64::from_be_bytes(self.buffer[2..10].try_into().unwrap()) as usize,
                        10,
                    ),
                    126 | 127 => (usize::MAX, 0),
                    short => (short as usize, 2),
                };
                assert_eq!(self.buffer[1] & 0x80, 0, "a server frame is never masked");
                if len != usize::MAX && self.buffer.len() >= at + len {
                    let first = self.buffer[0];
                    let payload = self.buffer[at..at + len].to_vec();
                    self.buffer.drain(..at + len);
                    return Frame { first, payload };
                }
            }
            self.fill().await;
        }
    }

    /// The close code of the server's close frame.
    async fn close_code(&mut self) -> u16 {
        loop {
            let frame = self.receive().await;
            if frame.opcode() == 0x8 {
                return u16::from_be_bytes([frame.payload[0], frame.payload[1]]);
            }
        }
    }
}

fn deflate(compress: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    compress
        .compress_vec(data, &mut out, FlushCompress::Sync)
        .unwrap();
    assert!(
        out.len() < out.capacity(),
        "room enough for the whole output"
    );
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

fn inflate(decompress: &mut Decompress, data: &[u8]) -> Vec<u8> {
    let mut input = data.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(1 << 20);
    decompress
        .decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .unwrap();
    out
}

fn json_like(i: usize) -> String {
    let mut text = String::new();
    while text.len() < 1024 {
        text.push_str(&format!(
            r#"{{"id":{i},"user":"someone","text":"hello from the chat room","ts":1700000000}}"#
        ));
    }
    text
}

#[tokio::test]
async fn compressed_messages_echo_compressed_and_context_carries_over() {
    // The browser's offer; the server keeps its context, so the second identical message
    // compresses to far less than the first.
    let server = echo_server(|_| {}).await;
    let mut client =
        RawClient::connect(&server, Some("permessage-deflate; client_max_window_bits")).await;
    assert_eq!(
        client.extensions(),
        Some("permessage-deflate; client_max_window_bits=15")
    );
    let mut compress = Compress::new(Compression::default(), false);
    let mut decompress = Decompress::new(false);
    let mut sizes = Vec::new();
    for i in 0..2 {
        let text = json_like(7);
        client
            .send(0x80 | 0x40 | 0x1, &deflate(&mut compress, text.as_bytes()))
            .await;
        let frame = client.receive().await;
        assert_eq!(frame.opcode(), 0x1, "text, round {i}");
        assert!(frame.rsv1(), "the echo is compressed, round {i}");
        assert!(
            frame.payload.len() < text.len() / 3,
            "{} bytes for {}",
            frame.payload.len(),
            text.len()
        );
        assert_eq!(inflate(&mut decompress, &frame.payload), text.as_bytes());
        sizes.push(frame.payload.len());
    }
    assert!(sizes[1] * 4 < sizes[0], "context takeover: {sizes:?}");
    // Below the minimum size, a message goes out uncompressed; the peer's may still be
    // compressed.
    client
        .send(0x80 | 0x40 | 0x1, &deflate(&mut compress, b"hi"))
        .await;
    let frame = client.receive().await;
    assert!(!frame.rsv1());
    assert_eq!(frame.payload, b"hi");
    // An uncompressed message from the client is fine too.
    client.send(0x80 | 0x2, b"plain").await;
    let frame = client.receive().await;
    assert_eq!(
        (frame.opcode(), frame.rsv1(), &frame.payload[..]),
        (0x2, false, &b"plain"[..])
    );
}

#[tokio::test]
async fn fragmented_compressed_messages_arrive_whole() {
    let server = echo_server(|_| {}).await;
    let mut client = RawClient::connect(&server, Some("permessage-deflate")).await;
    let mut compress = Compress::new(Compression::default(), false);
    let mut decompress = Decompress::new(false);
    let text = json_like(3);
    let compressed = deflate(&mut compress, text.as_bytes());
    let (a, b) = compressed.split_at(compressed.len() / 2);
    client.send(0x40 | 0x1, a).await;
    client.send(0x89, b"ping").await; // a control frame between the fragments
    client.send(0x80, b).await;
    let pong = client.receive().await;
    assert_eq!((pong.opcode(), &pong.payload[..]), (0xA, &b"ping"[..]));
    let frame = client.receive().await;
    assert_eq!(inflate(&mut decompress, &frame.payload), text.as_bytes());
}

#[tokio::test]
async fn no_context_takeover_both_ways_is_honoured() {
    let server = echo_server(|_| {}).await;
    let mut client = RawClient::connect(
        &server,
        Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"),
    )
    .await;
    assert_eq!(
        client.extensions(),
        Some(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
        )
    );
    for i in 0..3 {
        // Each message from a fresh compressor, and each answer inflated on its own.
        let text = json_like(i);
        let mut compress = Compress::new_with_window_bits(Compression::best(), false, 9);
        client
            .send(0x80 | 0x40 | 0x1, &deflate(&mut compress, text.as_bytes()))
            .await;
        let frame = client.receive().await;
        assert!(frame.rsv1());
        let mut decompress = Decompress::new_with_window_bits(false, 10);
        assert_eq!(inflate(&mut decompress, &frame.payload), text.as_bytes());
    }
}

#[tokio::test]
async fn a_message_that_inflates_past_the_limit_closes_with_1009_not_memory() {
    // 64 MiB of zeros compress to about 64 KiB: the limit must apply to what it inflates
    // to, and the server must stop long before holding it.
    let server = echo_server(|app| {
        app.ws_max_message_size(1 << 20);
    })
    .await;
    let mut client = RawClient::connect(&server, Some("permessage-deflate")).await;
    let mut compress = Compress::new(Compression::best(), false);
    let zeros = vec![0u8; 64 << 20];
    let mut bomb = Vec::with_capacity(1 << 20);
    compress
        .compress_vec(&zeros, &mut bomb, FlushCompress::Sync)
        .unwrap();
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    client.send(0x80 | 0x40 | 0x2, &bomb).await;
    assert_eq!(client.close_code().await, close_code::MESSAGE_TOO_BIG);
    // The server is fine.
    let mut next = RawClient::connect(&server, Some("permessage-deflate")).await;
    next.send(0x81, b"still here").await;
    assert_eq!(next.receive().await.payload, b"still here");
}

#[tokio::test]
async fn corrupt_compressed_data_fails_the_connection_with_1002() {
    let server = echo_server(|_| {}).await;
    let mut client = RawClient::connect(&server, Some("permessage-deflate")).await;
    client.send(0x80 | 0x40 | 0x1, &[0xff; 32]).await;
    assert_eq!(client.close_code().await, close_code::PROTOCOL_ERROR);
}

#[tokio::test]
async fn rsv1_without_the_extension_or_on_a_continuation_is_a_protocol_error() {
    let server = echo_server(|_| {}).await;
    let mut client = RawClient::connect(&server, None).await;
    assert_eq!(client.extensions(), None);
    client.send(0x80 | 0x40 | 0x1, &[0x00]).await;
    assert_eq!(client.close_code().await, close_code::PROTOCOL_ERROR);

    let mut client = RawClient::connect(&server, Some("permessage-deflate")).await;
    client.send(0x1, b"plain start").await;
    client.send(0x80 | 0x40, &[0x00]).await;
    assert_eq!(client.close_code().await, close_code::PROTOCOL_ERROR);
}

#[tokio::test]
async fn deflate_can_be_turned_off_and_bad_offers_are_declined() {
    let server = echo_server(|app| {
        app.ws_deflate(None);
    })
    .await;
    let client = RawClient::connect(&server, Some("permessage-deflate")).await;
    assert_eq!(client.extensions(), None);

    let server = echo_server(|_| {}).await;
    let client = RawClient::connect(
        &server,
        Some("permessage-deflate; server_max_window_bits=16"),
    )
    .await;
    assert_eq!(client.extensions(), None);
}

#[tokio::test]
async fn server_settings_shape_the_answer() {
    let server = echo_server(|app| {
        app.ws_deflate(Some(
            Deflate::default()
                .server_max_window_bits(11)
                .server_no_context_takeover(true)
                .min_size(0),
        ));
    })
    .await;
    let mut client = RawClient::connect(&server, Some("permessage-deflate")).await;
    assert_eq!(
        client.extensions(),
        Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=11")
    );
    client.send(0x81, b"hi").await;
    let frame = client.receive().await;
    assert!(frame.rsv1(), "min_size 0 compresses everything");
    assert_eq!(inflate(&mut Decompress::new(false), &frame.payload), b"hi");
}

#[tokio::test]
async fn the_test_client_speaks_deflate_by_default() {
    let mut app = Application::new();
    app.ws_router.add("/ws", echo);
    let client = TestClient::new(app);
    let mut ws = client.websocket("/ws").await;
    assert_eq!(
        ws.headers()["sec-websocket-extensions"],
        "permessage-deflate; client_max_window_bits=15"
    );
    for i in 0..3 {
        let text = json_like(i);
        ws.send(text.clone()).await.unwrap();
        assert_eq!(ws.receive().await.unwrap(), Message::Text(text));
    }
    let big: Vec<u8> = (0..300_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    ws.send(big.clone()).await.unwrap();
    assert_eq!(ws.receive().await.unwrap(), Message::Binary(big.into()));
    ws.send("").await.unwrap();
    assert_eq!(ws.receive().await.unwrap(), Message::Text(String::new()));

    let ws = client.websocket("/ws").deflate(false).await;
    assert!(ws.headers().get("sec-websocket-extensions").is_none());
}
