//! Issue 21 in a real browser: over HTTPS, Chromium loads a page that opens an EventSource
//! and a WebSocket to the same origin, and everything travels on ONE TCP connection: the
//! server advertises extended CONNECT (RFC 8441), so Chromium opens the WebSocket as a
//! stream of the page's HTTP/2 connection, with permessage-deflate negotiated. The same
//! page over cleartext HTTP/1.1 still works (on connections of its own).
//!
//! The connections are seen by a TCP relay in front of the server, which notes when
//! Chromium opens each: none may open once the page is served (Chromium opens a spare
//! socket beside the navigation's at the start, which carries no request). Needs `/usr/bin/chromium` and `tests/browser/node_modules`
//! (`.ci/run` installs both): `cargo test --all-features --test browser_http2 -- --ignored`.
#![cfg(all(feature = "tls", feature = "ws"))]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::sse::{Event, EventStream};
use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
use bareasgi::{Application, HttpRequest, IntoResponse, text_writer};
use common::TestServer;
use futures_util::stream::{self, StreamExt};
use tokio::net::{TcpListener, TcpStream};

const PAGE: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>one connection</title><link rel="icon" href="data:,"></head>
<body>
<p>WebSocket: <span id="ws"></span></p>
<p>Event stream: <span id="sse"></span></p>
<script>
  const events = new EventSource("/events");
  events.onmessage = (event) => { document.getElementById("sse").textContent = event.data; };
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/ws");
  socket.onopen = () => socket.send("x".repeat(2000) + "hello");
  socket.onmessage = (event) => {
    document.getElementById("ws").textContent = event.data.length + ":" + event.data.slice(-5);
  };
</script>
</body></html>
"#;

/// What the server saw: when it served the page, and of each WebSocket handshake its HTTP
/// version and the extensions the browser offered.
#[derive(Default)]
struct Handshakes {
    page_served: Mutex<Option<Instant>>,
    sockets: Mutex<Vec<(http::Version, String)>>,
}

fn app(handshakes: Arc<Handshakes>) -> Application {
    let mut app = Application::new();
    let seen = handshakes.clone();
    app.http_router.add(["GET"], "/", move |_req: HttpRequest| {
        seen.page_served
            .lock()
            .unwrap()
            .get_or_insert_with(Instant::now);
        async {
            (
                200,
                [("content-type", "text/html; charset=utf-8")],
                text_writer(PAGE),
            )
        }
    });
    app.http_router
        .add(["GET"], "/events", |_req: HttpRequest| async {
            let ticks = stream::iter(0u64..).then(|n| async move {
                if n > 0 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Event::data(format!("event {n}"))
            });
            EventStream::new(ticks).into_response()
        });
    app.ws_router
        .add("/ws", move |req: WebSocketRequest, mut ws: WebSocket| {
            let offered = req
                .headers()
                .get("sec-websocket-extensions")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            handshakes
                .sockets
                .lock()
                .unwrap()
                .push((req.version(), offered));
            async move {
                ws.accept(None, ()).await?;
                loop {
                    match ws.receive().await? {
                        Message::Close { .. } => return Ok::<_, WebSocketError>(()),
                        message => ws.send(message).await?,
                    }
                }
            }
        });
    app
}

/// A TCP relay in front of `server` that notes when it accepts each connection.
async fn counting_relay(server: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.lock().unwrap().push(Instant::now());
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(server).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (addr, accepted)
}

/// A self-signed certificate for 127.0.0.1, and its PEM in a file for the browser to trust.
fn certificate() -> (bareasgi::tls::TlsConfig, PathBuf) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("browser-http2-cert-{}.pem", std::process::id()));
    std::fs::write(&path, made.cert.pem()).unwrap();
    let tls = bareasgi::tls::TlsConfig::from_pem(made.cert.pem(), made.signing_key.serialize_pem())
        .unwrap();
    (tls, path)
}

/// Runs tests/browser/one_connection.mjs on `base` with node; returns what it printed.
async fn run_page(base: String, screenshot: &str, cert: Option<PathBuf>) -> String {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let shot = target.join(format!("browser/{screenshot}"));
    let script = format!(
        "{}/tests/browser/one_connection.mjs",
        env!("CARGO_MANIFEST_DIR")
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(base)
            .arg(shot)
            .args(cert)
            .output()
            .expect("node must be installed")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the page failed:\n{stdout}\n{stderr}"
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and playwright-core; .ci/run installs them and runs it"]
async fn page_event_stream_and_deflated_websocket_share_one_http2_connection() {
    let handshakes = Arc::new(Handshakes::default());
    let (tls, cert) = certificate();
    let server = TestServer::start_tls(app(handshakes.clone()), tls).await;
    let (relay, connections) = counting_relay(server.addr).await;
    let base = format!("https://127.0.0.1:{}/", relay.port());
    let printed = run_page(base, "one_connection_h2.png", Some(cert)).await;
    assert!(printed.contains(r#""protocol":"h2""#), "{printed}");
    let seen = handshakes.sockets.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (version, offered) = &seen[0];
    assert_eq!(
        *version,
        http::Version::HTTP_2,
        "the WebSocket came as extended CONNECT"
    );
    assert!(
        offered.contains("permessage-deflate"),
        "offered {offered:?}"
    );
    // Chromium opens a spare socket beside the navigation's (both accepted within
    // microseconds, before any request; the spare one carries no request): what counts is
    // that the event stream and the WebSocket opened no connection of their own, as an
    // HTTP/1.1 WebSocket would have (ALPN fixes a connection's protocol, so it could not
    // have used the spare h2 one).
    let page_served = handshakes
        .page_served
        .lock()
        .unwrap()
        .expect("the page was served");
    let accepted = connections.lock().unwrap().clone();
    let after_page = accepted.iter().filter(|at| **at > page_served).count();
    assert_eq!(
        after_page, 0,
        "no new connection after the page: {accepted:?} vs {page_served:?}"
    );
    assert!(accepted.len() <= 2, "{} connections", accepted.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium and playwright-core; .ci/run installs them and runs it"]
async fn the_same_page_works_over_cleartext_http1() {
    let handshakes = Arc::new(Handshakes::default());
    let server = TestServer::start(app(handshakes.clone())).await;
    let printed = run_page(server.url("/"), "one_connection_http1.png", None).await;
    assert!(printed.contains(r#""protocol":"http/1.1""#), "{printed}");
    let seen = handshakes.sockets.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, http::Version::HTTP_11);
    assert!(seen[0].1.contains("permessage-deflate"), "{seen:?}");
}
