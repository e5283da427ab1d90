//! Streaming bodies: each chunk reaches the client as soon as it is yielded, and the stream
//! is dropped when the client goes away.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::{Application, Body, HttpRequest, IntoResponse};
use common::{DropGuard, TestServer, client, h2_client};
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

type Log = Arc<Mutex<Vec<Instant>>>;

/// A stream of `count` chunks, one every `interval`, logging when each is yielded.
fn paced(count: usize, interval: Duration, yielded: Log) -> Body {
    Body::from_stream(stream::unfold(0, move |n| {
        let yielded = yielded.clone();
        async move {
            if n == count {
                return None;
            }
            if n > 0 {
                tokio::time::sleep(interval).await;
            }
            yielded.lock().unwrap().push(Instant::now());
            Some((format!("chunk {n}\n"), n + 1))
        }
    }))
}

fn paced_app(yielded: Log) -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/paced", move |_req: HttpRequest| {
            let yielded = yielded.clone();
            async move {
                (
                    200,
                    [("content-type", "text/plain")],
                    paced(5, Duration::from_millis(200), yielded),
                )
            }
        });
    app
}

async fn assert_each_chunk_arrives_before_the_next_is_produced(client: reqwest::Client) {
    let yielded: Log = Arc::default();
    let server = TestServer::start(paced_app(yielded.clone())).await;
    let mut response = client.get(server.url("/paced")).send().await.unwrap();
    let mut arrivals = Vec::new();
    let mut text = String::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        if chunk.is_empty() {
            continue; // HTTP/2 may end the stream with an empty DATA frame
        }
        arrivals.push(Instant::now());
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(text, "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n");
    let yielded = yielded.lock().unwrap().clone();
    assert_eq!(
        arrivals.len(),
        5,
        "one read per chunk: none was held back to be merged with the next"
    );
    for n in 0..5 {
        let lag = arrivals[n] - yielded[n];
        assert!(
            lag < Duration::from_millis(100),
            "chunk {n} took {lag:?} to arrive"
        );
        if n + 1 < 5 {
            assert!(
                arrivals[n] < yielded[n + 1],
                "chunk {n} waited for chunk {}",
                n + 1
            );
        }
    }
}

#[tokio::test]
async fn each_chunk_arrives_before_the_next_is_produced_http1() {
    assert_each_chunk_arrives_before_the_next_is_produced(client()).await;
}

#[tokio::test]
async fn each_chunk_arrives_before_the_next_is_produced_http2() {
    assert_each_chunk_arrives_before_the_next_is_produced(h2_client()).await;
}

const INTERVAL: Duration = Duration::from_millis(500);

fn endless_app(dropped: oneshot::Sender<Instant>) -> Application {
    let guard = Arc::new(Mutex::new(Some(dropped)));
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/endless", move |_req: HttpRequest| {
            let guard = DropGuard(guard.lock().unwrap().take());
            async move {
                let ticks = stream::unfold((0u64, guard), |(n, guard)| async move {
                    if n > 0 {
                        tokio::time::sleep(INTERVAL).await;
                    }
                    Some((format!("tick {n}\n"), (n + 1, guard)))
                });
                (
                    200,
                    [("content-type", "text/plain")],
                    Body::from_stream(ticks),
                )
                    .into_response()
            }
        });
    app
}

#[tokio::test]
async fn the_stream_is_dropped_within_one_chunk_interval_of_a_disconnect_http1() {
    let (dropped, on_drop) = oneshot::channel();
    let server = TestServer::start(endless_app(dropped)).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /endless HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let n = socket.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).contains("tick 0"));
    drop(socket);
    let disconnected = Instant::now();
    let dropped_at = tokio::time::timeout(Duration::from_secs(5), on_drop)
        .await
        .expect("stream never dropped")
        .unwrap();
    let delay = dropped_at.saturating_duration_since(disconnected);
    assert!(
        delay <= INTERVAL,
        "stream dropped {delay:?} after the disconnect"
    );
}

#[tokio::test]
async fn the_stream_is_dropped_within_one_chunk_interval_of_a_disconnect_http2() {
    let (dropped, on_drop) = oneshot::channel();
    let server = TestServer::start(endless_app(dropped)).await;
    let client = h2_client();
    let mut response = client.get(server.url("/endless")).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert!(response.chunk().await.unwrap().is_some());
    drop(response); // resets the stream
    let disconnected = Instant::now();
    let dropped_at = tokio::time::timeout(Duration::from_secs(5), on_drop)
        .await
        .expect("stream never dropped")
        .unwrap();
    let delay = dropped_at.saturating_duration_since(disconnected);
    assert!(
        delay <= INTERVAL,
        "stream dropped {delay:?} after the reset"
    );
}

#[tokio::test]
async fn a_failing_stream_cuts_the_response_short_and_the_server_goes_on() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/fails", |_req: HttpRequest| async {
            let items = stream::iter([Ok("partial "), Err(std::io::Error::other("disk gone"))]);
            Body::try_from_stream(items)
        });
    app.http_router
        .add(["GET"], "/ok", |_req: HttpRequest| async { "ok" });
    let server = TestServer::start(app).await;
    // Depending on how far hyper got, the client sees the connection end before the head or
    // in the middle of the body; never a complete response.
    let result = async {
        client()
            .get(server.url("/fails"))
            .send()
            .await?
            .bytes()
            .await
    }
    .await;
    assert!(
        result.is_err(),
        "the client must see a truncated response, not a complete one: {result:?}"
    );
    assert_eq!(
        client()
            .get(server.url("/ok"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
}
