//! Shared test helpers: a real server on an ephemeral loopback port, and raw-socket clients.
#![allow(dead_code)] // each test file uses a different part

pub mod h2raw;

use std::net::SocketAddr;
use std::time::Duration;

use bareasgi::Application;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running `app` on 127.0.0.1; it shuts down when dropped or stopped.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), bareasgi::Error>>>,
}

impl TestServer {
    pub async fn start(app: Application) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.serve_with_shutdown(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// `app` served over TLS with `tls`.
    #[cfg(feature = "tls")]
    pub async fn start_tls(app: Application, tls: bareasgi::tls::TlsConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.serve_tls_with_shutdown(listener, tls, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Triggers a graceful shutdown and waits for `serve` to return.
    pub async fn stop(mut self) -> Result<(), bareasgi::Error> {
        self.trigger_stop();
        self.handle
            .take()
            .unwrap()
            .await
            .expect("the server task panicked")
    }

    /// Triggers a graceful shutdown and hands back the `serve` task.
    pub fn trigger_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn take_handle(&mut self) -> JoinHandle<Result<(), bareasgi::Error>> {
        self.handle.take().unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.trigger_stop();
    }
}

/// An HTTP/1.1 client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// An HTTP/2 client speaking h2c with prior knowledge.
pub fn h2_client() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Sends `request` as raw bytes and reads until the server closes the connection (or 5 s).
pub async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_until_close(&mut stream, Duration::from_secs(5)).await
}

pub async fn read_until_close(stream: &mut TcpStream, limit: Duration) -> String {
    let mut received = Vec::new();
    let _ = tokio::time::timeout(limit, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&received).into_owned()
}

/// Reads from `socket` until `received` ends with `end`, each read within 5 s; panics with
/// what came so far when the server is silent or closes first.
pub async fn read_to(socket: &mut TcpStream, received: &mut Vec<u8>, end: &[u8]) {
    let mut buffer = [0u8; 4096];
    while !received.ends_with(end) {
        let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no answer within 5 s: {}",
                    String::from_utf8_lossy(received)
                )
            })
            .unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(received));
        received.extend_from_slice(&buffer[..n]);
    }
}

/// The status code of the first response in a raw HTTP/1.1 reply.
pub fn status_of(reply: &str) -> u16 {
    reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {reply:?}"))
}

/// Sends the time it was dropped: put one inside a stream to see when the server drops it.
pub struct DropGuard(pub Option<oneshot::Sender<Instant>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(dropped) = self.0.take() {
            let _ = dropped.send(Instant::now());
        }
    }
}

/// Asks `server` for `/firehose` (an endless body whose stream holds a [`DropGuard`]) over a
/// raw HTTP/1.1 connection and never reads it; asserts the stream is dropped between 500 ms
/// (the write-stall timeout these tests set; filling the socket buffers takes a moment, then
/// 500 to 750 ms of stall) and 5 s after the request, and returns the connection.
pub async fn request_firehose_and_never_read(
    server: &TestServer,
    was_dropped: oneshot::Receiver<Instant>,
) -> TcpStream {
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /firehose HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
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
    socket
}

/// Counts the response streams alive: one more for each [`LiveGuard`] a handler makes, one
/// fewer when the stream holding it is dropped. Zero at the end of a test means no stream
/// (nor anything it holds: the in-flight token, a keep-alive registration, a subscription)
/// outlived its connection.
#[derive(Clone, Default)]
pub struct LiveStreams(std::sync::Arc<std::sync::atomic::AtomicUsize>);

/// Held by one stream (see [`LiveStreams`]).
pub struct LiveGuard(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl LiveStreams {
    pub fn guard(&self) -> LiveGuard {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        LiveGuard(self.0.clone())
    }

    pub fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits (at most 5 s) for every stream to be dropped; panics naming how many were left.
    pub async fn assert_all_dropped(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(self.count(), 0, "{what}: streams left alive");
    }
}

/// Keeps `app`'s event streams on hyper's path: a layer that rebuilds an event stream's body
/// (as tests/sse_layers.rs shows) so the connection does not send it itself (see
/// `server::handoff`). Other answers pass untouched, so they are framed alike on both paths.
pub fn send_event_streams_through_hyper(app: &mut Application) {
    app.layer(tower::util::MapResponseLayer::new(
        |response: http::Response<bareasgi::Body>| {
            let is_stream = response
                .headers()
                .get("content-type")
                .is_some_and(|value| value == "text/event-stream");
            if is_stream {
                response.map(bareasgi::Body::try_from_stream)
            } else {
                response
            }
        },
    ));
}

/// What the `tracing` subscriber [`capture_logs`] set writes.
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Logs of this thread (`set_default`) into a buffer, without colours, until the guard is
/// dropped.
pub fn capture_logs() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
    let captured = CapturedLogs::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // The other tests of a binary run at the same time on other threads, with no
    // subscriber: one that registered a callsite first left it cached as never wanted (a
    // span or an event then missing from the logs, once in a few runs). Ask again.
    tracing::callsite::rebuild_interest_cache();
    (captured, guard)
}

pub mod external;
pub mod sse_client;
