//! Edge cases of event streams sent by the connection itself (see `server::handoff`),
//! found in review: a client that asked for the connection to close, and a long
//! pipeline of event-stream requests, over a raw socket.

mod common;

use std::time::Duration;

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, HttpRequest};
use common::{TestServer, read_until_close};
use futures_util::stream;
use tokio::io::AsyncWriteExt;
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
