//! Event streams over HTTP/1.1 are sent by the connection itself once their head is out
//! (hyper's buffers are freed meanwhile; see `server::handoff`). Over a raw socket: the
//! bytes on the wire are hyper's chunked framing, the connection serves requests after
//! the stream (including one the client sent while it was open), and the connection's
//! guarantees hold while detached: the write-stall timeout, the idle timeout not cutting
//! an open stream, the end of the stream when the client leaves. HTTP/1.0 and HEAD keep
//! hyper's own path.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::sse::{Event, EventStream, KeepAlive};
use bareasgi::{Application, HttpRequest};
use common::{DropGuard, TestServer, read_to, read_until_close, request_firehose_and_never_read};
use futures_util::{StreamExt, stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

fn app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/hello", |_req: HttpRequest| async {
            "Hello, World!"
        });
    app.http_router.add(
        ["GET", "HEAD", "POST"],
        "/three",
        |_req: HttpRequest| async {
            EventStream::new(stream::iter(["one", "two", "three"].map(Event::data)))
        },
    );
    app
}

const THREE_CHUNKED: &str =
    "B\r\ndata: one\n\n\r\nB\r\ndata: two\n\n\r\nD\r\ndata: three\n\n\r\n0\r\n\r\n";

#[tokio::test]
async fn a_detached_stream_is_framed_as_hyper_frames_it_and_the_connection_goes_on() {
    let server = TestServer::start(app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /three HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"0\r\n\r\n").await;
    let text = String::from_utf8(received).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert_eq!(body, THREE_CHUNKED);
    // hyper serves the connection again.
    socket
        .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"Hello, World!").await;
    assert!(received.starts_with(b"HTTP/1.1 200 OK"));
}

#[tokio::test]
async fn a_request_sent_while_a_stream_is_open_is_answered_after_it() {
    let (release, released) = oneshot::channel::<()>();
    let released = Arc::new(Mutex::new(Some(released)));
    let mut app = app();
    app.http_router
        .add(["GET"], "/until-released", move |_req: HttpRequest| {
            let released = released.lock().unwrap().take().expect("one request");
            async move {
                let first = stream::iter([Event::data("first")]);
                let last = stream::once(async move {
                    let _ = released.await;
                    Event::data("last")
                });
                EventStream::new(first.chain(last))
            }
        });
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /until-released HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"data: first\n\n\r\n").await;
    // Pipelined: sent while the stream is open, read by the connection meanwhile.
    socket
        .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    release.send(()).unwrap();
    read_to(&mut socket, &mut received, b"Hello, World!").await;
    let text = String::from_utf8(received).unwrap();
    let (_, rest) = text.split_once("data: last\n\n\r\n0\r\n\r\n").expect(&text);
    assert!(rest.starts_with("HTTP/1.1 200 OK"), "{rest}");
}

#[tokio::test]
async fn an_open_stream_is_not_taken_for_an_idle_connection() {
    let mut app = Application::new();
    app.header_read_timeout(Some(Duration::from_millis(200)));
    app.http_router
        .add(["GET"], "/quiet", |_req: HttpRequest| async {
            EventStream::new(stream::pending::<Event>())
                .keep_alive(KeepAlive::new().interval(Duration::from_millis(300)))
        });
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /quiet HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    // Five idle timeouts: still open, keep-alive comments arriving.
    let text = read_until_close(&mut socket, Duration::from_millis(1000)).await;
    let comments = text.matches("3\r\n:\n\n\r\n").count();
    assert!((2..=4).contains(&comments), "{comments} comments: {text:?}");
    assert!(!text.ends_with("0\r\n\r\n"), "{text:?}");
}

#[tokio::test]
async fn a_stream_whose_client_leaves_is_dropped_at_once() {
    let (dropped, on_drop) = oneshot::channel();
    let guard = Arc::new(Mutex::new(Some(dropped)));
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", move |_req: HttpRequest| {
            let guard = DropGuard(guard.lock().unwrap().take());
            async move {
                let events = stream::iter([Event::data("hello")])
                    .chain(stream::pending())
                    .map(move |event| {
                        let _hold = &guard;
                        event
                    });
                // No keep-alive: only the read side can tell the client left.
                EventStream::new(events).without_keep_alive()
            }
        });
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /events HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    read_to(&mut socket, &mut Vec::new(), b"data: hello\n\n\r\n").await;
    drop(socket);
    let left = Instant::now();
    let dropped_at = tokio::time::timeout(Duration::from_secs(5), on_drop)
        .await
        .expect("the stream was never dropped")
        .unwrap();
    assert!(dropped_at.saturating_duration_since(left) < Duration::from_secs(1));
}

#[tokio::test]
async fn a_client_that_reads_no_events_is_cut_at_the_write_stall_timeout() {
    let (dropped, was_dropped) = oneshot::channel();
    let guard = Arc::new(Mutex::new(Some(dropped)));
    let mut app = Application::new();
    app.header_read_timeout(None)
        .write_stall_timeout(Some(Duration::from_millis(500)));
    app.http_router
        .add(["GET"], "/firehose", move |_req: HttpRequest| {
            let guard = DropGuard(guard.lock().unwrap().take());
            async move {
                let big = "x".repeat(64 * 1024);
                EventStream::new(stream::repeat_with(move || {
                    let _held = &guard;
                    Event::data(big.clone())
                }))
            }
        });
    let server = TestServer::start(app).await;
    request_firehose_and_never_read(&server, was_dropped).await;
}

#[tokio::test]
async fn http_1_0_and_head_requests_keep_hypers_path() {
    let server = TestServer::start(app()).await;
    // HTTP/1.0 has no chunked coding: the body ends with the connection.
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /three HTTP/1.0\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let text = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.0 200 OK"), "{text}");
    assert!(
        text.ends_with("\r\n\r\ndata: one\n\ndata: two\n\ndata: three\n\n"),
        "{text}"
    );
    // HEAD: the head alone, and the connection goes on.
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"HEAD /three HTTP/1.1\r\nhost: x\r\n\r\nGET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"Hello, World!").await;
    let text = String::from_utf8(received).unwrap();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    assert!(!text.contains("data:"), "{text}");
}

#[tokio::test]
async fn a_stream_answering_a_request_with_a_body_keeps_hypers_path() {
    // The handler does not read the body, and the rest of it comes after the stream: hyper
    // is still to read it from the socket, so the connection must not take the socket over
    // (the rest of the body would pass for the next request).
    let server = TestServer::start(app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"POST /three HTTP/1.1\r\nhost: x\r\ncontent-length: 27\r\n\r\nGET /oops ")
        .await
        .unwrap();
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"0\r\n\r\n").await;
    assert!(String::from_utf8_lossy(&received).ends_with(THREE_CHUNKED));
    let _ = socket
        .write_all(b"HTTP/1.1\r\nhost: xGET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    let rest = read_until_close(&mut socket, Duration::from_millis(500)).await;
    assert!(
        rest.is_empty() || rest.starts_with("HTTP/1.1 200 OK"),
        "after the stream: {rest:?}"
    );
}

/// A detached stream still holds its connection's slot: with `max_connections(1)`, a second
/// connection waits until the stream's client leaves.
#[tokio::test]
async fn a_detached_stream_holds_its_connection_slot() {
    let mut app = app();
    app.max_connections(Some(1));
    app.http_router
        .add(["GET"], "/open", |_req: HttpRequest| async {
            EventStream::new(stream::iter([Event::data("hello")]).chain(stream::pending()))
        });
    let server = TestServer::start(app).await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first
        .write_all(b"GET /open HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    read_to(&mut first, &mut Vec::new(), b"data: hello\n\n\r\n").await;
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    second
        .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(300), second.read(&mut buffer)).await;
    assert!(
        early.is_err(),
        "the second connection was served while the stream held the only slot"
    );
    drop(first);
    let reply = read_until_close(&mut second, Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
}

/// Graceful shutdown ends a detached stream with its last chunk (a clean end for the
/// client, which reconnects elsewhere) and `serve` returns at once, not after the timeout.
#[tokio::test]
async fn shutdown_ends_a_detached_stream_with_its_last_chunk() {
    let mut app = app();
    app.shutdown_timeout(Duration::from_secs(20));
    app.http_router
        .add(["GET"], "/ticks", |_req: HttpRequest| async {
            let ticks = stream::iter(0..).then(|n| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Event::data(format!("tick {n}"))
            });
            EventStream::new(ticks)
        });
    let mut server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /ticks HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"data: tick 1\n\n\r\n").await;
    server.trigger_stop();
    read_to(&mut socket, &mut received, b"0\r\n\r\n").await;
    tokio::time::timeout(Duration::from_secs(5), server.take_handle())
        .await
        .expect("serve returns once the stream ended")
        .unwrap()
        .unwrap();
    // The connection closes after the stream: a graceful shutdown takes no new request.
    let rest = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert!(rest.is_empty(), "{rest}");
}
