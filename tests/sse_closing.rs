//! How an HTTP/1.1 connection with an event stream closes, on both of its paths (sent by
//! the connection itself, and by hyper, kept there by a layer that rebuilds the body):
//! a graceful shutdown delivers the whole stream even to a client that sent more than the
//! server read (a staged close, RFC 9112 9.6, instead of a reset that discards the tail),
//! and a client that half-closes after a pipeline gets every answer, as hyper gives it.

mod common;

use std::time::Duration;

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, HttpRequest};
use common::TestServer;
use futures_util::{StreamExt, stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Clone, Copy, Debug)]
enum Path {
    Detached,
    Hyper,
}

const BURST_EVENTS: usize = 60;
const BURST_EVENT_SIZE: usize = 4000;

/// `/burst`: 60 events of 4 KB at once, then open until shutdown; `/finite?n=N`: N events;
/// `/hello`: text.
fn app(path: Path) -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/hello", |_req: HttpRequest| async {
            "Hello, World!"
        });
    app.http_router
        .add(["GET"], "/burst", |_req: HttpRequest| async {
            let events = stream::iter(0..BURST_EVENTS)
                .map(|n| Event::data(format!("{n:04} {}", "x".repeat(BURST_EVENT_SIZE))))
                .chain(stream::pending());
            EventStream::new(events).without_keep_alive()
        });
    app.http_router
        .add(["GET"], "/finite", |req: HttpRequest| async move {
            let n: usize = req
                .query()
                .and_then(|q| q.strip_prefix("n="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let events = stream::iter(0..n).then(|i| async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Event::data(format!("event {i}"))
            });
            EventStream::new(events).without_keep_alive()
        });
    if let Path::Hyper = path {
        common::send_event_streams_through_hyper(&mut app);
    }
    app
}

/// Reads until the server closes; a reset fails the test with what had arrived.
async fn read_to_end_without_reset(socket: &mut TcpStream, received: &mut Vec<u8>) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buffer))
            .await
            .expect("the server neither sent nor closed within 10 s");
        match read {
            Ok(0) => return,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(error) => panic!(
                "{error} after {} bytes, ending {:?}",
                received.len(),
                String::from_utf8_lossy(&received[received.len().saturating_sub(40)..])
            ),
        }
    }
}

/// The attack: a client with an open stream sends 9,000 bytes (more than either path
/// reads while a response is being sent: 512 bytes then, hyper's 8 KiB buffer now), lets
/// 240 KB of events back up, and the server is told to shut down. It used to get 52-78%
/// of the stream and then a reset. Now every event, the last chunk, and a plain close.
#[tokio::test]
async fn shutdown_delivers_the_whole_stream_to_a_client_that_sent_more_than_was_read() {
    for path in [Path::Detached, Path::Hyper] {
        let mut server = TestServer::start(app(path)).await;
        // A small receive window, so that the events back up in the server's socket.
        let client = tokio::net::TcpSocket::new_v4().unwrap();
        client.set_recv_buffer_size(8 * 1024).unwrap();
        let mut socket = client.connect(server.addr).await.unwrap();
        socket
            .write_all(b"GET /burst HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        // The head and the first event: the stream is open.
        let mut received = vec![0u8; 1024];
        let n = socket.read(&mut received).await.unwrap();
        received.truncate(n);
        let padding = "p".repeat(9000);
        let pipelined = format!("GET /hello HTTP/1.1\r\nhost: x\r\nx-padding: {padding}\r\n\r\n");
        socket.write_all(pipelined.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.trigger_stop();
        let serving = server.take_handle();
        read_to_end_without_reset(&mut socket, &mut received).await;
        let text = String::from_utf8_lossy(&received);
        assert!(text.ends_with("\r\n0\r\n\r\n"), "{path:?}: no last chunk");
        for n in 0..BURST_EVENTS {
            assert!(
                text.contains(&format!("data: {n:04} ")),
                "{path:?}: event {n} lost"
            );
        }
        // The server waits for the client's end of stream (at most 2 s), no longer.
        drop(socket);
        tokio::time::timeout(Duration::from_secs(1), serving)
            .await
            .expect("serve returned once the client closed")
            .unwrap()
            .unwrap();
    }
}

/// Two requests in one write, then a half-close: hyper sends the whole stream (it does not
/// take an end of stream for leaving while it holds unread request bytes), then reads the
/// end again once it has parsed the second request and closes without answering it. A
/// detached stream used to take the end for leaving and send no event at all; now both
/// paths send the same bytes.
#[tokio::test]
async fn a_half_close_after_a_pipeline_gets_every_answer_on_both_paths() {
    let mut replies = Vec::new();
    for path in [Path::Detached, Path::Hyper] {
        let server = TestServer::start(app(path)).await;
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        socket
            .write_all(
                b"GET /finite?n=3 HTTP/1.1\r\nhost: x\r\n\r\n\
                  GET /hello HTTP/1.1\r\nhost: x\r\n\r\n",
            )
            .await
            .unwrap();
        socket.shutdown().await.unwrap();
        let mut received = Vec::new();
        read_to_end_without_reset(&mut socket, &mut received).await;
        let text = String::from_utf8_lossy(&received).into_owned();
        for event in ["event 0", "event 1", "event 2"] {
            assert!(text.contains(event), "{path:?}: {text:?}");
        }
        assert!(text.ends_with("\r\n0\r\n\r\n"), "{path:?}: {text:?}");
        replies.push(without_dates(&text));
    }
    assert_eq!(replies[0], replies[1], "the two paths answer alike");
}

fn without_dates(reply: &str) -> String {
    reply
        .split("\r\n")
        .filter(|line| !line.starts_with("date: "))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// An HTTP/1.0 client that asks for keep-alive gets an event stream delimited by the
/// connection's close; hyper used to answer `connection: keep-alive` on it all the same,
/// then close. The answer now says it closes.
#[tokio::test]
async fn an_http_1_0_stream_says_it_ends_with_the_connection() {
    for path in [Path::Detached, Path::Hyper] {
        let server = TestServer::start(app(path)).await;
        let reply = common::raw(
            server.addr,
            b"GET /finite?n=2 HTTP/1.0\r\nconnection: keep-alive\r\n\r\n",
        )
        .await;
        let head = reply.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        assert!(head.contains("connection: close"), "{path:?}: {reply:?}");
        assert!(!head.contains("keep-alive"), "{path:?}: {reply:?}");
        assert!(reply.ends_with("data: event 1\n\n"), "{path:?}: {reply:?}");
    }
    // A length known up front keeps the connection, as HTTP/1.0 keep-alive allows.
    let server = TestServer::start(app(Path::Detached)).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /hello HTTP/1.0\r\nconnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    common::read_to(&mut socket, &mut received, b"Hello, World!").await;
    let reply = String::from_utf8_lossy(&received);
    assert!(reply.contains("content-length: 13"), "{reply:?}");
    assert!(
        !reply.to_ascii_lowercase().contains("connection: close"),
        "{reply:?}"
    );
}
