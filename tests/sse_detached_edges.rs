//! Edge cases of event streams sent by the connection itself (see `server::handoff`),
//! found in review: a client that asked for the connection to close, and a long
//! pipeline of event-stream requests, over a raw socket.

mod common;

use std::time::Duration;

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, HttpRequest};
use common::{TestServer, read_to, read_until_close};
use futures_util::{StreamExt, stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/hello", |_req: HttpRequest| async {
            "Hello, World!"
        });
    app.http_router
        .add(["GET"], "/once", |_req: HttpRequest| async {
            EventStream::new(stream::iter([Event::data("once")])).without_keep_alive()
        });
    app.http_router
        .add(["GET"], "/fails", |_req: HttpRequest| async {
            let events = stream::iter([Ok(Event::data("first")), Err("the feed broke")])
                .chain(stream::pending());
            EventStream::new(events).without_keep_alive()
        });
    app.http_router
        .add(["GET"], "/panics", |_req: HttpRequest| async {
            let events = stream::iter([0, 1]).map(|n| {
                assert!(n == 0, "the feed panicked");
                Event::data("first")
            });
            EventStream::new(events).without_keep_alive()
        });
    app.http_router
        .add(["GET"], "/open", |_req: HttpRequest| async {
            EventStream::new(stream::iter([Event::data("first")]).chain(stream::pending()))
                .without_keep_alive()
        });
    app
}

/// RFC 9112 9.6: a server that receives `Connection: close` must close the connection
/// after its response, and must not serve requests sent after it. A detached stream
/// used to hand the connection back to hyper, which then waited for (and served) more.
#[tokio::test]
async fn a_stream_answering_connection_close_closes_the_connection_after_it() {
    let server = TestServer::start(app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(
            b"GET /once HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n\
              GET /hello HTTP/1.1\r\nhost: x\r\n\r\n",
        )
        .await
        .unwrap();
    let reply = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert!(
        reply.ends_with("0\r\n\r\n"),
        "the stream ends, then the connection closes: {reply:?}"
    );
    assert!(
        !reply.contains("Hello, World!"),
        "a request after `connection: close` is not served: {reply:?}"
    );
    assert_eq!(reply.matches("HTTP/1.1 ").count(), 1, "{reply:?}");
}

/// Each detached stream puts back what the client sent meanwhile in front of the socket;
/// when what was put back is more than hyper reads at once, and the next request is also
/// a stream, the rest of it must still come after: no pipelined byte lost or reordered.
#[tokio::test]
async fn a_long_pipeline_of_streams_is_answered_in_full_and_in_order() {
    let server = TestServer::start(app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    // A first request big enough that hyper's read buffer grows past 8 KiB, so that much
    // of the pipeline is read ahead before the first stream detaches.
    let mut pipeline = format!(
        "GET /once?n=0 HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
        "p".repeat(10_000)
    );
    let count = 60;
    for n in 1..count {
        pipeline.push_str(&format!(
            "GET /once?n={n} HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
            "q".repeat(400)
        ));
    }
    pipeline.push_str("GET /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    socket.write_all(pipeline.as_bytes()).await.unwrap();
    let reply = read_until_close(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(
        reply.matches("HTTP/1.1 200 OK").count(),
        count + 1,
        "every pipelined request answered: {}",
        &reply[reply.len().saturating_sub(600)..]
    );
    assert_eq!(reply.matches("data: once").count(), count);
    assert!(!reply.contains(" 400 "), "no request garbled");
    assert!(reply.ends_with("Hello, World!"), "{reply:?}");
}

/// A stream that fails or panics after its first event must leave the client with a
/// truncated body (the connection closed without the last chunk), never a clean end
/// that would pass for a complete response; and the server goes on serving.
#[tokio::test]
async fn a_stream_that_fails_or_panics_midway_closes_without_the_last_chunk() {
    let server = TestServer::start(app()).await;
    for path in ["/fails", "/panics"] {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        socket
            .write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let reply = read_until_close(&mut socket, Duration::from_secs(5)).await;
        assert!(
            reply.contains("transfer-encoding: chunked"),
            "{path}: {reply:?}"
        );
        assert!(reply.ends_with("data: first\n\n\r\n"), "{path}: {reply:?}");
        assert!(!reply.contains("0\r\n\r\n"), "{path}: {reply:?}");
    }
    let reply = common::raw(
        server.addr,
        b"GET /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(reply.ends_with("Hello, World!"), "{reply:?}");
}

/// A client that shuts down its sending side while a stream is open has left, as hyper
/// takes it (no half-close): the connection is closed rather than held.
#[tokio::test]
async fn a_client_that_half_closes_during_a_stream_is_let_go() {
    let server = TestServer::start(app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /open HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    read_to(&mut socket, &mut Vec::new(), b"data: first\n\n\r\n").await;
    socket.shutdown().await.unwrap();
    let rest = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(rest, "", "closed, with nothing more");
    let closed = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut [0u8; 16])).await;
    assert!(matches!(closed, Ok(Ok(0) | Err(_))), "closed within 5 s");
}

/// Garbage a client sends while a stream is open is not buffered without bound and does
/// not disturb the stream; it is answered `400` once the stream ends, and the socket is
/// then closed.
#[tokio::test]
async fn garbage_sent_during_a_stream_is_answered_400_after_it() {
    let server = TestServer::start(app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /once HTTP/1.1\r\nhost: x\r\n\r\n\x00\x01 not http at all\r\n\r\n")
        .await
        .unwrap();
    let reply = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert!(
        reply.contains("C\r\ndata: once\n\n\r\n0\r\n\r\n"),
        "{reply:?}"
    );
    assert!(reply.contains("HTTP/1.1 400 "), "{reply:?}");
}

/// A graceful shutdown while a detached stream is open and the client has already sent its
/// next request: the stream ends with its last chunk, the waiting request is not taken
/// (no new requests during a shutdown), the connection closes and `serve` returns.
#[tokio::test]
async fn shutdown_with_a_request_waiting_behind_a_stream_closes_after_its_last_chunk() {
    let mut app = app();
    app.shutdown_timeout(Duration::from_secs(20));
    let mut server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /open HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    read_to(&mut socket, &mut Vec::new(), b"data: first\n\n\r\n").await;
    socket
        .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.trigger_stop();
    let rest = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(rest, "0\r\n\r\n", "the last chunk, then the end");
    tokio::time::timeout(Duration::from_secs(5), server.take_handle())
        .await
        .expect("serve returns once the stream ended")
        .unwrap()
        .unwrap();
}

/// Through a layer that leaves the body alone (CORS), the stream may detach too: a request
/// with `Connection: close` must still close the connection after the stream.
#[tokio::test]
async fn through_a_header_layer_connection_close_closes_after_the_stream() {
    let mut app = app();
    app.layer(tower_http::cors::CorsLayer::permissive());
    let server = TestServer::start(app).await;
    let reply = common::raw(
        server.addr,
        b"GET /once HTTP/1.1\r\nhost: x\r\nConnection: Close\r\n\r\n\
          GET /hello HTTP/1.1\r\nhost: x\r\n\r\n",
    )
    .await;
    assert!(reply.ends_with("0\r\n\r\n"), "{reply:?}");
    assert!(!reply.contains("Hello, World!"), "{reply:?}");
}
