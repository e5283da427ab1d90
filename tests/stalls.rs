//! Stalls in either direction: a request body that stops coming (the body-read timeout),
//! a client that reads slowly (it must get every byte), and a client that reads nothing
//! at all (the write-stall timeout). Over HTTP/1.1 and HTTP/2, each with the timeouts
//! shortened through the `Application` setters.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::{Application, Body, HttpRequest};
use bytes::Bytes;
use common::h2raw;
use common::{
    DropGuard, TestServer, client, read_until_close, request_firehose_and_never_read, status_of,
};
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// What the upload handler's `req.bytes()` returned: the length read or the error's text.
type Seen = mpsc::UnboundedReceiver<Result<usize, String>>;

/// `/upload` reads the body with `req.bytes()` (answering its error as the response) and
/// reports what it got; `/slow-upload` does the same with a 2 s body-read timeout of its
/// own.
fn upload_app(body_read_timeout: Duration) -> (Application, Seen) {
    let (seen, seen_rx) = mpsc::unbounded_channel();
    let mut app = Application::new();
    app.body_read_timeout(Some(body_read_timeout));
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    for (path, own_timeout) in [("/upload", None), ("/slow-upload", Some(2))] {
        let seen = seen.clone();
        app.http_router
            .add(["POST"], path, move |mut req: HttpRequest| {
                let seen = seen.clone();
                async move {
                    if let Some(seconds) = own_timeout {
                        req.set_body_read_timeout(Some(Duration::from_secs(seconds)));
                    }
                    let read = req.bytes().await;
                    let _ = seen.send(read.as_ref().map(Bytes::len).map_err(|e| e.to_string()));
                    read.map(|bytes| format!("read {} bytes", bytes.len()))
                }
            });
    }
    (app, seen_rx)
}

#[tokio::test]
async fn a_request_body_that_stops_coming_gets_408_and_the_connection_closes() {
    let (app, mut seen) = upload_app(Duration::from_millis(500));
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 4000\r\n\r\nfirst bytes")
        .await
        .unwrap();
    let started = Instant::now();
    let reply = read_until_close(&mut socket, Duration::from_secs(10)).await;
    let elapsed = started.elapsed();
    assert_eq!(status_of(&reply), 408, "{reply}");
    assert!(reply.contains("no request body data for 500ms"), "{reply}");
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(5),
        "answered and closed after {elapsed:?}"
    );
    assert_eq!(
        seen.recv().await.unwrap(),
        Err("the client sent no request body data for 500ms".to_owned()),
        "the handler sees why"
    );
    assert_eq!(
        client().get(server.url("/")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_body_that_keeps_coming_however_slowly_is_read_to_the_end() {
    // A byte every 100 ms for 2 s, under a 500 ms timeout: progress, never a stall (and
    // within the minimum data rate's 30 s grace period; tests/body_rate.rs is past it).
    let (app, mut seen) = upload_app(Duration::from_millis(500));
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 20\r\n\r\n")
        .await
        .unwrap();
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        socket.write_all(b"x").await.unwrap();
    }
    let mut reply = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8_lossy(&reply[..read]);
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert!(reply.ends_with("read 20 bytes"), "{reply}");
    assert_eq!(seen.recv().await.unwrap(), Ok(20));
}

#[tokio::test]
async fn a_handler_can_give_its_request_a_longer_body_read_timeout() {
    let (app, mut seen) = upload_app(Duration::from_millis(300));
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"POST /slow-upload HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\na")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await; // over the app's 300 ms, under 2 s
    socket.write_all(b"b").await.unwrap();
    let mut reply = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status_of(&String::from_utf8_lossy(&reply[..read])), 200);
    assert_eq!(seen.recv().await.unwrap(), Ok(2));
}

#[tokio::test]
async fn an_http2_request_body_that_stops_coming_gets_408_and_only_its_stream_ends() {
    let (app, mut seen) = upload_app(Duration::from_millis(500));
    let server = TestServer::start(app).await;
    let socket = TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::post(format!("http://{}/upload", server.addr))
        .header("content-length", "4000")
        .body(())
        .unwrap();
    let started = Instant::now();
    let (response, mut body) = client.send_request(request, false).unwrap();
    body.send_data(Bytes::from_static(b"first bytes"), false)
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), response)
        .await
        .expect("no answer within 5 s")
        .unwrap();
    assert_eq!(response.status(), 408);
    assert!(started.elapsed() >= Duration::from_millis(450));
    assert_eq!(
        seen.recv().await.unwrap(),
        Err("the client sent no request body data for 500ms".to_owned())
    );
    // The connection itself still serves.
    let mut client = client.ready().await.unwrap();
    let request = http::Request::get(format!("http://{}/", server.addr))
        .body(())
        .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    assert_eq!(response.await.unwrap().status(), 200);
}

/// `/big` is a buffered body of `BIG` bytes, `/streamed` the same bytes as a stream of
/// 64 KiB chunks that are all ready at once.
const BIG: usize = 16 * 1024 * 1024;

fn big_app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/big", |_req: HttpRequest| async {
            Body::from(vec![b'x'; BIG])
        });
    app.http_router
        .add(["GET"], "/streamed", |_req: HttpRequest| async {
            Body::from_stream(stream::iter(
                (0..BIG / (64 * 1024)).map(|_| Bytes::from(vec![b'x'; 64 * 1024])),
            ))
        });
    app
}

/// Reads an HTTP/1.1 response to `path` in bursts of `burst` bytes, pausing `pause` before
/// each: the body bytes received before the server closed (or the whole response arrived).
async fn read_slowly(server: &TestServer, path: &str, burst: usize, pause: Duration) -> usize {
    let socket = TcpSocket::new_v4().unwrap();
    // A small receive buffer, so the server really writes at the client's pace.
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let mut socket = socket.connect(server.addr).await.unwrap();
    socket
        .write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut head_end = None;
    let mut next_pause = 0;
    loop {
        if received.len() >= next_pause {
            tokio::time::sleep(pause).await;
            next_pause = received.len() + burst;
        }
        let want = buffer.len().min(next_pause - received.len());
        let read =
            match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buffer[..want]))
                .await
            {
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(read)) => read,
                Err(_) => panic!("nothing to read for 10 s"),
            };
        received.extend_from_slice(&buffer[..read]);
        if head_end.is_none() {
            head_end = received
                .windows(4)
                .position(|window| window == b"\r\n\r\n")
                .map(|at| at + 4);
        }
        let body = head_end.map_or(0, |start| received.len() - start);
        // A chunked body has framing too: stop when the end of it is in.
        if body >= BIG && (path == "/big" || received.ends_with(b"0\r\n\r\n")) {
            break;
        }
    }
    received.len() - head_end.unwrap_or(0)
}

#[tokio::test]
async fn a_slow_but_steady_reader_gets_every_byte_of_a_buffered_or_streamed_body() {
    // Regression: the header-read timeout took a connection still writing a buffered body
    // for an idle one and closed it (5.8 MB of 50 MB arrived).
    let mut app = big_app();
    app.header_read_timeout(Some(Duration::from_millis(300)))
        .write_stall_timeout(Some(Duration::from_millis(600)));
    let server = TestServer::start(app).await;
    // 256 KiB every 50 ms: about 5 MB/s, so each body takes over 3 s, ten header timeouts.
    let buffered = read_slowly(&server, "/big", 256 * 1024, Duration::from_millis(50)).await;
    assert_eq!(buffered, BIG, "buffered body");
    let streamed = read_slowly(&server, "/streamed", 256 * 1024, Duration::from_millis(50)).await;
    assert!(
        streamed >= BIG,
        "streamed body: {streamed} bytes with framing"
    );
}

#[tokio::test]
async fn a_reader_that_pauses_for_less_than_the_write_stall_timeout_is_not_cut() {
    let mut app = big_app();
    app.header_read_timeout(Some(Duration::from_millis(300)))
        .write_stall_timeout(Some(Duration::from_millis(800)));
    let server = TestServer::start(app).await;
    // 2 MiB bursts with 500 ms pauses (the socket stays full through each pause).
    let buffered = read_slowly(&server, "/big", 2 * 1024 * 1024, Duration::from_millis(500)).await;
    assert_eq!(buffered, BIG);
}

/// `/firehose`: an endless body of 64 KiB chunks; reports when the server drops it.
fn firehose_app(dropped: oneshot::Sender<Instant>) -> Application {
    let guard = Arc::new(Mutex::new(Some(dropped)));
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    app.http_router
        .add(["GET"], "/firehose", move |_req: HttpRequest| {
            let guard = DropGuard(guard.lock().unwrap().take());
            async move {
                Body::from_stream(stream::repeat_with(move || {
                    let _held = &guard;
                    Bytes::from(vec![b'x'; 64 * 1024])
                }))
            }
        });
    app
}

#[tokio::test]
async fn a_client_that_reads_nothing_is_disconnected_at_the_write_stall_timeout() {
    let (dropped, was_dropped) = oneshot::channel();
    let mut app = firehose_app(dropped);
    app.header_read_timeout(None)
        .write_stall_timeout(Some(Duration::from_millis(500)));
    let server = TestServer::start(app).await;
    let mut socket = request_firehose_and_never_read(&server, was_dropped).await;
    // The connection is closed: what the kernel buffered, then EOF.
    let mut sink = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut sink))
        .await
        .expect("the connection is still open")
        .ok();
    assert_eq!(
        client().get(server.url("/")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn an_http2_client_that_reads_nothing_is_disconnected_at_the_write_stall_timeout() {
    let (dropped, was_dropped) = oneshot::channel();
    let mut app = firehose_app(dropped);
    app.header_read_timeout(None)
        .http2_keep_alive_interval(None)
        .write_stall_timeout(Some(Duration::from_millis(500)));
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let mut bytes = h2raw::preface_with_open_windows();
    bytes.extend(h2raw::request(1, "GET", "/firehose", &[], true));
    socket.write_all(&bytes).await.unwrap(); // and never read
    let started = Instant::now();
    let dropped_at = tokio::time::timeout(Duration::from_secs(10), was_dropped)
        .await
        .expect("the stream was not dropped within 10 s")
        .unwrap();
    let elapsed = dropped_at - started;
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(5),
        "dropped after {elapsed:?}"
    );
    let (_, closed) = h2raw::read_frames(&mut socket, Duration::from_secs(10)).await;
    assert!(closed, "the connection is still open");
}

#[tokio::test]
async fn an_http2_client_reading_slowly_through_flow_control_gets_every_byte() {
    let mut app = big_app();
    app.header_read_timeout(Some(Duration::from_millis(300)))
        .write_stall_timeout(Some(Duration::from_millis(600)));
    let server = TestServer::start(app).await;
    let socket = TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::Builder::new()
        .initial_window_size(256 * 1024)
        .initial_connection_window_size(256 * 1024)
        .handshake::<_, Bytes>(socket)
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::get(format!("http://{}/big", server.addr))
        .body(())
        .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    let mut body = response.await.unwrap().into_body();
    let mut received = 0;
    // About 5 MB/s: the window is given back only after a pause.
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        received += chunk.len();
        tokio::time::sleep(Duration::from_millis(3)).await;
        body.flow_control().release_capacity(chunk.len()).unwrap();
    }
    assert_eq!(received, BIG);
}
