//! What one HTTP/2 connection may hold and for how long: the send budget over all its
//! streams, the cap on concurrent streams, the idle timeout (with GOAWAY), keep-alive
//! pings, and `max_connections` counting HTTP/2 connections and upgraded sockets like the
//! rest. Raw frames where the `h2` crate is too polite (it never stops reading or
//! answering pings).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bareasgi::{Application, Body, HttpRequest};
use bytes::Bytes;
use common::h2raw::{self, GOAWAY, HEADERS, PING, RST_STREAM};
use common::{TestServer, client};
use futures_util::stream::{self, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    app.http_router
        .add(["GET"], "/slow", |_req: HttpRequest| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "slow"
        });
    app.http_router
        .add(["GET"], "/ticks", |_req: HttpRequest| async {
            let ticks = stream::iter(0..8).then(|n| async move {
                tokio::time::sleep(Duration::from_millis(250)).await;
                format!("{n}")
            });
            Body::from_stream(ticks)
        });
    app.http_router
        .add(["GET"], "/forever", |_req: HttpRequest| async {
            let ticks = stream::iter(0..).then(|n: u64| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                format!("{n}")
            });
            Body::from_stream(ticks)
        });
    app
}

/// A raw connection that has sent `bytes` (after the preface) and reads nothing yet.
async fn raw_connection(server: &TestServer, bytes: &[u8]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let mut socket = socket.connect(server.addr).await.unwrap();
    socket.write_all(bytes).await.unwrap();
    socket
}

#[tokio::test]
async fn never_read_http2_streams_stop_producing_at_the_connection_send_budget() {
    // Regression: with hyper's defaults each never-read stream held its 400 KiB send
    // buffer and a chunk: 10 such connections of 200 streams took 896 MB.
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = produced.clone();
    let mut app = app();
    app.http2_connection_send_buffer(256 * 1024)
        .write_stall_timeout(None);
    app.http_router
        .add(["GET"], "/firehose", move |_req: HttpRequest| {
            let counter = counter.clone();
            async move {
                Body::from_stream(stream::repeat_with(move || {
                    counter.fetch_add(64 * 1024, Ordering::Relaxed);
                    Bytes::from(vec![b'x'; 64 * 1024])
                }))
            }
        });
    let server = TestServer::start(app).await;
    let mut bytes = h2raw::preface_with_open_windows();
    for index in 0..50 {
        bytes.extend(h2raw::request(1 + 2 * index, "GET", "/firehose", &[], true));
    }
    let socket = raw_connection(&server, &bytes).await; // and never read
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let produced = produced.load(Ordering::Relaxed);
    // The budget, a chunk of overshoot per worker, and what the two kernels buffer.
    assert!(
        produced > 0 && produced < 2 * 1024 * 1024,
        "{produced} bytes produced for a client that reads nothing"
    );
    assert_eq!(
        client().get(server.url("/")).send().await.unwrap().status(),
        200
    );
    drop(socket);
}

#[tokio::test]
async fn streams_over_max_concurrent_streams_are_refused() {
    let mut app = app();
    app.http2_max_concurrent_streams(10);
    let server = TestServer::start(app).await;
    let mut bytes = h2raw::preface();
    for index in 0..12 {
        bytes.extend(h2raw::request(1 + 2 * index, "GET", "/slow", &[], true));
    }
    let mut socket = raw_connection(&server, &bytes).await;
    let (frames, _) = h2raw::read_frames(&mut socket, Duration::from_millis(1000)).await;
    let refused: Vec<u32> = frames
        .iter()
        .filter(|frame| frame.kind == RST_STREAM && frame.payload == [0, 0, 0, 7])
        .map(|frame| frame.stream)
        .collect();
    assert_eq!(refused, [21, 23], "REFUSED_STREAM for the 11th and 12th");
}

#[tokio::test]
async fn a_preface_then_silence_is_closed_with_goaway_within_twice_the_timeout() {
    let mut app = app();
    app.header_read_timeout(Some(Duration::from_secs(1)));
    let server = TestServer::start(app).await;
    let mut socket = raw_connection(&server, &h2raw::preface()).await;
    let started = Instant::now();
    let (frames, closed) = h2raw::read_frames(&mut socket, Duration::from_secs(10)).await;
    let elapsed = started.elapsed();
    assert!(closed, "still open after 10 s");
    assert!(
        frames.iter().any(|frame| frame.kind == GOAWAY),
        "no GOAWAY: {frames:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed <= Duration::from_millis(2200),
        "closed after {elapsed:?}"
    );
}

/// Regression: the GOAWAY for an idle connection was queued by the watchdog but written
/// only at its next firing, which also dropped the connection, so the client got no time to
/// answer it. Now it is written at once, and the connection is dropped a grace period later
/// (a client that never answers the GOAWAY's PING, as here).
#[tokio::test]
async fn an_idle_http2_connection_gets_its_goaway_at_once_and_a_grace_period() {
    let mut app = app();
    app.header_read_timeout(None)
        .write_stall_timeout(None)
        .http2_idle_timeout(Some(Duration::from_secs(2)));
    let server = TestServer::start(app).await;
    let mut socket = raw_connection(&server, &h2raw::preface()).await;
    let mut received = Vec::new();
    let mut goaway_at = None;
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
            if goaway_at.is_none() && h2raw::parse(&received).iter().any(|f| f.kind == GOAWAY) {
                goaway_at = Some(Instant::now());
            }
        }
    })
    .await
    .expect("the idle connection was not closed within 15 s");
    let goaway_at = goaway_at.expect("no GOAWAY before the close");
    let grace = closed - goaway_at;
    assert!(
        grace >= Duration::from_millis(500),
        "closed {grace:?} after its GOAWAY"
    );
}

#[tokio::test]
async fn an_http2_connection_idle_after_its_last_stream_is_closed_with_goaway() {
    let mut app = app();
    app.header_read_timeout(None)
        .http2_idle_timeout(Some(Duration::from_millis(500)));
    let server = TestServer::start(app).await;
    let socket = TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(socket).await.unwrap();
    let connection = tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    // A stream that lasts 2 s, four idle timeouts, keeps the connection open...
    let request = http::Request::get(format!("http://{}/ticks", server.addr))
        .body(())
        .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    let mut body = response.await.unwrap().into_body();
    let mut text = String::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        body.flow_control().release_capacity(chunk.len()).unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(text, "01234567");
    // ...and once it is over, the connection is idle: GOAWAY, which the client obeys.
    let ended = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), connection)
        .await
        .expect("the idle connection was not closed within 5 s")
        .unwrap()
        .expect("a GOAWAY with NO_ERROR ends the connection cleanly");
    let elapsed = ended.elapsed();
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "closed after {elapsed:?}"
    );
}

#[tokio::test]
async fn an_http2_peer_that_stops_answering_pings_is_closed() {
    let mut app = app();
    app.header_read_timeout(None)
        .write_stall_timeout(None)
        .http2_keep_alive_interval(Some(Duration::from_millis(300)))
        .http2_keep_alive_timeout(Duration::from_millis(300));
    let server = TestServer::start(app).await;
    // An endless, slow stream keeps the connection from being idle; the client reads
    // everything but never answers the server's PING.
    let mut bytes = h2raw::preface();
    bytes.extend(h2raw::request(1, "GET", "/forever", &[], true));
    let mut socket = raw_connection(&server, &bytes).await;
    let started = Instant::now();
    let (frames, closed) = h2raw::read_frames(&mut socket, Duration::from_secs(10)).await;
    assert!(closed, "still open after 10 s");
    assert!(
        frames
            .iter()
            .any(|frame| frame.kind == PING && frame.flags & 1 == 0),
        "no PING sent: {frames:?}"
    );
    assert!(frames.iter().any(|frame| frame.kind == HEADERS));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn max_connections_counts_http2_connections() {
    let mut app = app();
    app.max_connections(Some(1));
    let server = TestServer::start(app).await;
    let socket = TcpStream::connect(server.addr).await.unwrap();
    let (sender, connection) = h2::client::handshake(socket).await.unwrap();
    let connection = tokio::spawn(connection);
    let mut h2 = sender.ready().await.unwrap();
    let request = http::Request::get(format!("http://{}/", server.addr))
        .body(())
        .unwrap();
    let (response, _) = h2.send_request(request, true).unwrap();
    assert_eq!(response.await.unwrap().status(), 200);
    // The HTTP/2 connection holds the only slot: an HTTP/1.1 client waits...
    let waiting = tokio::spawn({
        let url = server.url("/");
        async move {
            let started = Instant::now();
            let status = client().get(url).send().await.unwrap().status();
            (status, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!waiting.is_finished(), "served while the slot was taken");
    // ...until the HTTP/2 connection closes.
    drop(h2);
    connection.abort();
    let (status, waited) = waiting.await.unwrap();
    assert_eq!(status, 200);
    assert!(waited >= Duration::from_millis(700));
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn max_connections_counts_upgraded_websockets() {
    use bareasgi::ws::{WebSocket, WebSocketRequest};
    let mut app = app();
    app.max_connections(Some(1));
    app.ws_router.add(
        "/ws",
        |_req: WebSocketRequest, mut ws: WebSocket| async move {
            ws.accept(None, ()).await?;
            while !matches!(ws.receive().await?, bareasgi::ws::Message::Close { .. }) {}
            Ok::<_, bareasgi::ws::WebSocketError>(())
        },
    );
    let server = TestServer::start(app).await;
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    let waiting = tokio::spawn(client().get(server.url("/")).send());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !waiting.is_finished(),
        "served while a WebSocket held the slot"
    );
    drop(socket);
    let response = waiting.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
}
