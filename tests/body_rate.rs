//! The minimum request-body data rate: a body that trickles in (a byte now and then, never
//! stalling for the whole body-read timeout) is cut with `408`, over HTTP/1.1 and HTTP/2;
//! a body above the rate, or one the handler is slow to read, is not.

mod common;

use std::time::{Duration, Instant};

use bareasgi::{Application, HttpRequest, MinDataRate};
use bytes::Bytes;
use common::{TestServer, client, read_until_close, status_of};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// What the handler's read returned: the length read or the error's text.
type Seen = mpsc::UnboundedReceiver<Result<usize, String>>;

const TOO_SLOW: &str = "the client sent the request body slower than 100 bytes per second";

/// At least 100 bytes per second after 1 s of waiting, under a body-read timeout of 30 s
/// (which a trickle never meets). `/upload` reads the body with `req.bytes()`;
/// `/patient` turns the rate off for its request; `/late` waits 3 s before reading.
fn app() -> (Application, Seen) {
    let (seen, seen_rx) = mpsc::unbounded_channel();
    let mut app = Application::new();
    app.body_read_timeout(Some(Duration::from_secs(30)))
        .min_body_data_rate(Some(MinDataRate::new(100, Duration::from_secs(1))));
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    for path in ["/upload", "/patient", "/late"] {
        let seen = seen.clone();
        app.http_router
            .add(["POST"], path, move |mut req: HttpRequest| {
                let seen = seen.clone();
                async move {
                    match req.path() {
                        "/patient" => req.set_min_body_data_rate(None),
                        "/late" => tokio::time::sleep(Duration::from_secs(3)).await,
                        _ => {}
                    }
                    let read = req.bytes().await;
                    let _ = seen.send(read.as_ref().map(Bytes::len).map_err(|e| e.to_string()));
                    read.map(|bytes| format!("read {} bytes", bytes.len()))
                }
            });
    }
    (app, seen_rx)
}

/// Sends `chunks` chunks of `size` bytes, one every `pause`, after the head of a `POST` to
/// `path` announcing `total` bytes (and `connection: close`, so the reply ends with the
/// connection); stops early if the server closed it.
async fn send_paced(
    socket: &mut TcpStream,
    path: &str,
    total: usize,
    size: usize,
    pause: Duration,
) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {total}\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..total / size {
        tokio::time::sleep(pause).await;
        if socket.write_all(&vec![b'x'; size]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_body_that_trickles_in_below_the_rate_gets_408_and_the_connection_closes() {
    let (app, mut seen) = app();
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    // A byte every 200 ms: progress five times a second, but 5 bytes per second.
    let head = "POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 4000\r\n\r\n";
    socket.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = socket.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writer.write_all(b"x").await.is_err() {
                return;
            }
        }
    });
    let mut reply = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut reply),
    )
    .await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(read.is_ok(), "the connection was not closed within 10 s");
    let reply = String::from_utf8_lossy(&reply);
    assert_eq!(status_of(&reply), 408, "{reply}");
    assert!(reply.contains(TOO_SLOW), "{reply}");
    // Cut once the grace period is over (1 s) and the bytes so far do not earn more.
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "answered and closed after {elapsed:?}"
    );
    assert_eq!(
        seen.recv().await.unwrap(),
        Err(TOO_SLOW.to_owned()),
        "the handler sees why"
    );
    // The server goes on serving others.
    let hello = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
}

#[tokio::test]
async fn a_body_above_the_rate_is_read_to_the_end() {
    let (app, mut seen) = app();
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    // 50 bytes every 200 ms (250 bytes per second) for 2.4 s: well past the grace period.
    send_paced(&mut socket, "/upload", 600, 50, Duration::from_millis(200)).await;
    let reply = read_until_close(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert!(reply.ends_with("read 600 bytes"), "{reply}");
    assert_eq!(seen.recv().await.unwrap(), Ok(600));
}

#[tokio::test]
async fn a_handler_can_turn_the_rate_off_for_its_request() {
    let (app, mut seen) = app();
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    // 5 bytes per second for 2 s: cut on `/upload`, read to the end on `/patient`.
    send_paced(&mut socket, "/patient", 10, 1, Duration::from_millis(200)).await;
    let reply = read_until_close(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert_eq!(seen.recv().await.unwrap(), Ok(10));
}

#[tokio::test]
async fn only_the_handlers_waits_count_not_its_own_delays() {
    let (app, mut seen) = app();
    let server = TestServer::start(app).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    // 1,000 bytes in half a second, read by a handler that starts 3 s later: 285 bytes per
    // second by the wall clock, but the handler never waits for the client.
    send_paced(&mut socket, "/late", 1000, 100, Duration::from_millis(50)).await;
    let reply = read_until_close(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(status_of(&reply), 200, "{reply}");
    assert_eq!(seen.recv().await.unwrap(), Ok(1000));
}

#[tokio::test]
async fn an_http2_body_below_the_rate_gets_408_and_only_its_stream_ends() {
    let (app, mut seen) = app();
    let server = TestServer::start(app).await;
    let socket = TcpStream::connect(server.addr).await.unwrap();
    let (client, connection) = h2::client::handshake(socket).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::post(format!("http://{}/upload", server.addr))
        .header("content-length", "4000")
        .body(())
        .unwrap();
    let (response, mut body) = client.send_request(request, false).unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if body.send_data(Bytes::from_static(b"x"), false).is_err() {
                return;
            }
        }
    });
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("no answer within 10 s")
        .unwrap();
    trickle.abort();
    assert_eq!(response.status(), 408);
    assert_eq!(seen.recv().await.unwrap(), Err(TOO_SLOW.to_owned()));
    // The connection itself still serves.
    let mut client = client.ready().await.unwrap();
    let request = http::Request::get(format!("http://{}/", server.addr))
        .body(())
        .unwrap();
    let (response, _) = client.send_request(request, true).unwrap();
    assert_eq!(response.await.unwrap().status(), 200);
}
