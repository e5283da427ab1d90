//! No response body outlives its connection, however the connection ends: a client that
//! resets or closes while the head of its event stream is being written, a hard stop, the
//! write-stall timeout. Each stream here holds a guard that counts the live ones; the
//! in-flight token, the keep-alive registration and anything else a stream holds (a hub
//! subscription) go with the stream, so a count of zero means none of them leaked.
//!
//! Both ways an HTTP/1.1 event stream is sent are tested: by the connection itself
//! (detached from hyper, see `server::handoff`) and by hyper (kept there by a layer that
//! rebuilds the body, as tests/sse_layers.rs shows).

mod common;

use std::time::{Duration, Instant};

use bareasgi::sse::{Event, EventStream, KeepAlive};
use bareasgi::{Application, Body, HttpRequest};
use common::{LiveStreams, TestServer, read_to};
use futures_util::{StreamExt, stream};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[derive(Clone, Copy, Debug)]
enum Path {
    /// The connection sends the stream itself.
    Detached,
    /// hyper sends it.
    Hyper,
}

/// `/events`: one event, then open for ever, its stream counted by `live`.
///
/// On the detached path the stream has no keep-alive comments, so only the connection's
/// watch on the client can find that it left. hyper does not watch a client while it holds
/// request bytes it has not parsed (the one extra byte), so on its path a departed client
/// is found at the next write: a keep-alive comment, every 15 s by default, 200 ms here.
fn app(live: &LiveStreams, path: Path) -> Application {
    let live = live.clone();
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/events", move |_req: HttpRequest| {
            let guard = live.guard();
            async move {
                let events = stream::iter([Event::data("first")])
                    .chain(stream::pending())
                    .map(move |event| {
                        let _hold = &guard;
                        event
                    });
                match path {
                    Path::Detached => EventStream::new(events).without_keep_alive(),
                    Path::Hyper => EventStream::new(events)
                        .keep_alive(KeepAlive::new().interval(Duration::from_millis(200))),
                }
            }
        });
    if let Path::Hyper = path {
        common::send_event_streams_through_hyper(&mut app);
    }
    app
}

#[derive(Clone, Copy, Debug)]
enum Leaving {
    /// A TCP reset (`SO_LINGER` 0), one byte after the request.
    ResetAfterAByte,
    /// A TCP reset right after the request.
    Reset,
    /// A plain close, one byte after the request.
    CloseAfterAByte,
    /// A plain close right after the request.
    Close,
}

const HEAD_REQUEST: &[u8] = b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n";

async fn request_and_leave(server: &TestServer, leaving: Leaving) {
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let mut request = HEAD_REQUEST.to_vec();
    if matches!(leaving, Leaving::ResetAfterAByte | Leaving::CloseAfterAByte) {
        request.push(b'x');
    }
    // The server may have reset first; either way the connection is gone.
    let _ = socket.write_all(&request).await;
    if matches!(leaving, Leaving::ResetAfterAByte | Leaving::Reset) {
        socket.set_zero_linger().unwrap();
    }
    drop(socket);
}

/// The fault the attack found: 300 clients each ask for an event stream and leave (by a
/// reset or a close, with or without one more byte) while its head is being written.
/// Every stream must be dropped; one leaked stream per such request took a server from
/// 5 MB to 89 MB in 7 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_leave_during_the_head_leave_no_stream_behind() {
    for path in [Path::Detached, Path::Hyper] {
        for leaving in [
            Leaving::ResetAfterAByte,
            Leaving::Reset,
            Leaving::CloseAfterAByte,
            Leaving::Close,
        ] {
            let live = LiveStreams::default();
            let server = TestServer::start(app(&live, path)).await;
            for _ in 0..30 {
                let batch = (0..10).map(|_| request_and_leave(&server, leaving));
                futures_util::future::join_all(batch).await;
            }
            live.assert_all_dropped(&format!("{path:?}, {leaving:?}"))
                .await;
            server.stop().await.unwrap();
        }
    }
}

/// Open streams, then a graceful shutdown whose timeout passes while they are still being
/// read by nobody: the hard stop drops every connection and everything they were handed.
#[tokio::test]
async fn a_hard_stop_drops_every_stream() {
    for path in [Path::Detached, Path::Hyper] {
        let live = LiveStreams::default();
        let mut app = app(&live, path);
        app.shutdown_timeout(Duration::from_millis(200));
        // Streams that do not end on shutdown, so only the hard stop ends them.
        let held = live.clone();
        app.http_router
            .add(["GET"], "/held", move |_req: HttpRequest| {
                let guard = held.guard();
                async move {
                    let chunks = stream::iter([bytes::Bytes::from_static(b"first\n")])
                        .chain(stream::pending())
                        .map(move |chunk| {
                            let _hold = &guard;
                            chunk
                        });
                    (
                        200,
                        [("content-type", "text/plain")],
                        Body::from_stream(chunks),
                    )
                }
            });
        let server = TestServer::start(app).await;
        let mut sockets = Vec::new();
        for target in ["/events", "/held", "/events", "/held"] {
            let mut socket = TcpStream::connect(server.addr).await.unwrap();
            let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
            socket.write_all(request.as_bytes()).await.unwrap();
            let first: &[u8] = if target == "/held" {
                b"first\n\r\n"
            } else {
                b"data: first\n\n\r\n"
            };
            read_to(&mut socket, &mut Vec::new(), first).await;
            sockets.push(socket);
        }
        assert_eq!(live.count(), 4);
        let started = Instant::now();
        server.stop().await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(3), "{path:?}");
        live.assert_all_dropped(&format!("{path:?}, hard stop"))
            .await;
    }
}
