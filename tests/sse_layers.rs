//! Event streams over HTTP/1.1 through tower layers, over a raw socket. A stream the
//! connection sends itself (see `server::handoff`) must never bypass a layer: a layer that
//! transforms the body transforms every event, one that observes it (TraceLayer's chunk
//! and end-of-stream callbacks) sees every event and the end, compression still streams,
//! and a layer that leaves the body alone (CORS) keeps the stream's framing, its end on
//! shutdown, the write-stall timeout and the connection going on after it.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, Body, HttpRequest};
use bytes::Bytes;
use common::{TestServer, read_to, request_firehose_and_never_read};
use futures_util::{StreamExt, stream};
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::map_response_body::MapResponseBodyLayer;
use tower_http::trace::TraceLayer;

const EVENTS: usize = 5;

/// `/events`: five events, 20 ms apart (each its own chunk on the wire); `/hello`: text.
fn app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/hello", |_req: HttpRequest| async {
            "Hello, World!"
        });
    app.http_router
        .add(["GET"], "/events", |_req: HttpRequest| async {
            let events = stream::iter(0..EVENTS).then(|n| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Event::data(format!("event {n}"))
            });
            EventStream::new(events).without_keep_alive()
        });
    app
}

/// The chunked body of the five events, with `data` as their field name.
fn events_chunked(data: &str) -> String {
    let mut body = String::new();
    for n in 0..EVENTS {
        let event = format!("{data}: event {n}\n\n");
        body.push_str(&format!("{:X}\r\n{event}\r\n", event.len()));
    }
    body + "0\r\n\r\n"
}

/// Asks for the event stream on a fresh connection and returns its head and body, then
/// checks that the connection serves another request, whose body is `hello`.
async fn events_then_hello(
    server: &TestServer,
    extra_headers: &str,
    hello: &str,
) -> (String, String) {
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(format!("GET /events HTTP/1.1\r\nhost: x\r\n{extra_headers}\r\n").as_bytes())
        .await
        .unwrap();
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"0\r\n\r\n").await;
    let text = String::from_utf8(received).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    socket
        .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let reply = common::read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    assert!(reply.contains(hello), "{reply}");
    (head.to_owned(), body.to_owned())
}

fn uppercase(bytes: Bytes) -> Bytes {
    Bytes::from(bytes.to_ascii_uppercase())
}

/// A layer whose body type is its own (`MapFrame` around the application's `Body`):
/// every event goes through it.
#[tokio::test]
async fn a_layer_that_transforms_the_body_transforms_every_event() {
    let mut app = app();
    app.layer(MapResponseBodyLayer::new(|body: Body| {
        body.map_frame(|frame| frame.map_data(uppercase))
    }));
    let server = TestServer::start(app).await;
    let (head, body) = events_then_hello(&server, "", "HELLO, WORLD!").await;
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert_eq!(body, events_chunked("data").to_uppercase());
}

/// A layer that rebuilds the body as a new `Body` (the type the application answers with):
/// the new body, not the application's, is what reaches the client.
#[tokio::test]
async fn a_layer_that_rebuilds_the_body_as_a_body_transforms_every_event() {
    let mut app = app();
    app.layer(MapResponseBodyLayer::new(|body: Body| {
        Body::try_from_stream(body.map(|chunk| chunk.map(uppercase)))
    }));
    let server = TestServer::start(app).await;
    let (_, body) = events_then_hello(&server, "", "HELLO, WORLD!").await;
    assert_eq!(body, events_chunked("data").to_uppercase());
}

/// TraceLayer's body callbacks see each event and the end of the stream.
#[tokio::test]
async fn trace_layer_sees_every_event_and_the_end_of_the_stream() {
    let chunks = Arc::new(AtomicUsize::new(0));
    let ends = Arc::new(AtomicUsize::new(0));
    let mut app = app();
    let (counted, ended) = (chunks.clone(), ends.clone());
    app.layer(
        TraceLayer::new_for_http()
            .on_body_chunk(
                move |_chunk: &Bytes, _latency: Duration, _span: &tracing::Span| {
                    counted.fetch_add(1, Ordering::SeqCst);
                },
            )
            .on_eos(
                move |_trailers: Option<&http::HeaderMap>,
                      _duration: Duration,
                      _span: &tracing::Span| {
                    ended.fetch_add(1, Ordering::SeqCst);
                },
            ),
    );
    let server = TestServer::start(app).await;
    let (_, body) = events_then_hello(&server, "", "Hello, World!").await;
    assert_eq!(body, events_chunked("data"));
    // `/hello` counts one chunk more; its end may be seen just after its bytes are sent.
    let deadline = Instant::now() + Duration::from_secs(2);
    while ends.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(chunks.load(Ordering::SeqCst), EVENTS + 1);
    assert_eq!(ends.load(Ordering::SeqCst), 2);
}

/// Through CompressionLayer (which leaves `text/event-stream` uncompressed but wraps its
/// body), each event still arrives as it is yielded, framed as hyper frames it.
#[tokio::test]
async fn an_event_stream_still_streams_through_compression() {
    let mut app = app();
    app.layer(CompressionLayer::new());
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /events HTTP/1.1\r\nhost: x\r\naccept-encoding: gzip\r\n\r\n")
        .await
        .unwrap();
    // The first event arrives before the stream ends (about 100 ms later).
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"data: event 0\n\n\r\n").await;
    assert!(!received.ends_with(b"0\r\n\r\n"));
    read_to(&mut socket, &mut received, b"0\r\n\r\n").await;
    let text = String::from_utf8(received).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(!head.contains("content-encoding"), "{head}");
    assert_eq!(body, events_chunked("data"));
    let (_, body) = events_then_hello(&server, "accept-encoding: gzip\r\n", "Hello, World!").await;
    assert_eq!(body, events_chunked("data"));
}

/// A layer that only adds headers (CORS) hands the application's own body to the
/// connection: the stream keeps its framing and headers, and ends on shutdown, cleanly.
#[tokio::test]
async fn through_a_header_layer_a_stream_keeps_its_framing_and_ends_on_shutdown() {
    let mut app = app();
    app.http_router
        .add(["GET"], "/endless", |_req: HttpRequest| async {
            let ticks = stream::iter(0..).then(|n| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Event::data(format!("tick {n}"))
            });
            EventStream::new(ticks)
        });
    app.shutdown_timeout(Duration::from_secs(20));
    app.layer(CorsLayer::permissive());
    let mut server = TestServer::start(app).await;
    let (head, body) =
        events_then_hello(&server, "origin: http://a.example\r\n", "Hello, World!").await;
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert_eq!(body, events_chunked("data"));

    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /endless HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    read_to(&mut socket, &mut received, b"data: tick 2\n\n\r\n").await;
    let stopping = Instant::now();
    server.trigger_stop();
    read_to(&mut socket, &mut received, b"0\r\n\r\n").await;
    tokio::time::timeout(Duration::from_secs(5), server.take_handle())
        .await
        .expect("serve returns once the stream ended")
        .unwrap()
        .unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(5));
}

/// Through a header layer the stream leaves hyper like one without layers, and keeps the
/// write-stall timeout: a client that reads nothing is cut off and its stream dropped.
#[tokio::test]
async fn through_a_header_layer_a_client_that_reads_nothing_is_cut_at_the_write_stall_timeout() {
    let (dropped, was_dropped) = tokio::sync::oneshot::channel();
    let guard = Arc::new(std::sync::Mutex::new(Some(dropped)));
    let mut app = Application::new();
    app.header_read_timeout(None)
        .write_stall_timeout(Some(Duration::from_millis(500)));
    app.http_router
        .add(["GET"], "/firehose", move |_req: HttpRequest| {
            let guard = common::DropGuard(guard.lock().unwrap().take());
            async move {
                let big = "x".repeat(64 * 1024);
                EventStream::new(stream::repeat_with(move || {
                    let _held = &guard;
                    Event::data(big.clone())
                }))
            }
        });
    app.layer(CorsLayer::permissive());
    let server = TestServer::start(app).await;
    request_firehose_and_never_read(&server, was_dropped).await;
}
