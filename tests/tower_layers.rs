//! `app.layer(...)`: tower-http's layers around a served application, over a real socket —
//! CORS, compression (and event streams left alone and on time), tracing, timeouts, body
//! limits, request ids — and everything `serve` does still working through layers: order,
//! errors and panics, WebSocket upgrades, HTTP/2, graceful shutdown, the header-read timeout.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, Body, HttpRequest, IntoResponse, Next};
use bytes::Bytes;
use common::{TestServer, client, h2_client, raw, status_of};
use futures_util::{StreamExt, stream};
use http::header::{
    ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    CONTENT_ENCODING, CONTENT_TYPE, ORIGIN,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;
use tower::layer::layer_fn;
use tower::util::MapResponseLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

const JSON: &str = r#"{"todos":[{"id":1,"title":"write the tower door","done":false},{"id":2,"title":"measure it","done":false}]}"#;

async fn json(_req: HttpRequest) -> impl IntoResponse {
    (200, [("content-type", "application/json")], JSON)
}

async fn echo(mut req: HttpRequest) -> impl IntoResponse {
    req.bytes().await
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[tokio::test]
async fn cors_layer_answers_preflight_with_the_allow_headers() {
    let mut app = Application::new();
    app.http_router.add(["POST"], "/api/todos", echo);
    app.layer(
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([CONTENT_TYPE]),
    );
    let server = TestServer::start(app).await;
    let client = client();

    let preflight = client
        .request(Method::OPTIONS, server.url("/api/todos"))
        .header(ORIGIN, "https://example.com")
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let headers = preflight.headers();
    assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let methods = headers[ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = headers[ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap();
    assert!(allowed.contains("content-type"), "{allowed}");

    let post = client
        .post(server.url("/api/todos"))
        .header(ORIGIN, "https://example.com")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    assert_eq!(post.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(post.text().await.unwrap(), "hi");

    // Layers wrap the whole application, including the router's own answers.
    for (method, path, status) in [
        (Method::GET, "/missing", 404),
        (Method::DELETE, "/api/todos", 405),
    ] {
        let response = client
            .request(method, server.url(path))
            .header(ORIGIN, "https://example.com")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    }
}

#[tokio::test]
async fn compression_layer_gzips_json_which_decodes_to_the_original() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/todos", json);
    app.layer(CompressionLayer::new());
    let server = TestServer::start(app).await;

    // reqwest here has no decompression: the bytes are what the server sent.
    let response = client()
        .get(server.url("/todos"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    let compressed = response.bytes().await.unwrap();
    assert_ne!(&compressed[..], JSON.as_bytes());
    assert_eq!(gunzip(&compressed), JSON);

    let plain = client().get(server.url("/todos")).send().await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.text().await.unwrap(), JSON);
}

/// Compression batches bytes, so tower-http's default predicate must skip
/// `text/event-stream`: each event has to reach the client as soon as it is yielded, even
/// when the client accepts gzip.
#[tokio::test]
async fn compression_layer_leaves_event_streams_uncompressed_and_on_time() {
    const EVENTS: usize = 5;
    let yielded: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let mut app = Application::new();
    let record = yielded.clone();
    app.http_router
        .add(["GET"], "/events", move |_req: HttpRequest| {
            let record = record.clone();
            async move {
                let events = stream::iter(0..EVENTS).then(move |n| {
                    let record = record.clone();
                    async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        record.lock().unwrap().push(Instant::now());
                        Event::data(format!("event {n} {}", "x".repeat(200)))
                    }
                });
                EventStream::new(events)
            }
        });
    app.layer(CompressionLayer::new());
    let server = TestServer::start(app).await;

    let response = client()
        .get(server.url("/events"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
    assert!(response.headers().get(CONTENT_ENCODING).is_none());
    let mut body = response.bytes_stream();
    let mut received = String::new();
    let mut seen = 0;
    while seen < EVENTS {
        let chunk = body.next().await.expect("the stream ended early").unwrap();
        let arrived = Instant::now();
        received.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = received.find("\n\n") {
            let event: String = received.drain(..end + 2).collect();
            assert!(
                event.starts_with(&format!("data: event {seen} ")),
                "{event}"
            );
            let lag = arrived - yielded.lock().unwrap()[seen];
            assert!(
                lag < Duration::from_millis(50),
                "event {seen} arrived {lag:?} after it was yielded"
            );
            seen += 1;
        }
    }
}

/// Events and spans written while a test runs, from a subscriber of its own thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One thread: the subscriber set for it sees the server's tasks too.
#[tokio::test(flavor = "current_thread")]
async fn trace_layer_traces_every_request_and_response() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let mut app = Application::new();
    app.http_router.add(["GET"], "/todos", json);
    app.layer(TraceLayer::new_for_http());
    let server = TestServer::start(app).await;
    let client = client();
    assert_eq!(
        client
            .get(server.url("/todos"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(server.url("/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let finished: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("finished processing request"))
        .collect();
    assert_eq!(finished.len(), 2, "{log}");
    assert!(
        finished[0].contains("status=200") && finished[0].contains("uri=/todos"),
        "{log}"
    );
    assert!(
        finished[1].contains("status=404") && finished[1].contains("uri=/nope"),
        "{log}"
    );
}

#[tokio::test]
async fn timeout_layer_answers_a_slow_handler_with_its_status() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/slow", |_req| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        "too late"
    });
    app.http_router.add(["GET"], "/fast", json);
    app.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_millis(200),
    ));
    let server = TestServer::start(app).await;
    let started = Instant::now();
    let slow = client().get(server.url("/slow")).send().await.unwrap();
    assert_eq!(slow.status(), 408);
    assert!(started.elapsed() < Duration::from_secs(10));
    let fast = client().get(server.url("/fast")).send().await.unwrap();
    assert_eq!(fast.status(), 200);
}

#[tokio::test]
async fn request_body_limit_layer_refuses_large_bodies_with_413() {
    let mut app = Application::new();
    app.http_router.add(["POST"], "/echo", echo);
    app.layer(RequestBodyLimitLayer::new(1024));
    let server = TestServer::start(app).await;
    let client = client();

    let small = client
        .post(server.url("/echo"))
        .body("small")
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
    assert_eq!(small.text().await.unwrap(), "small");

    // Declared too large: the layer answers before the application runs.
    let declared = client
        .post(server.url("/echo"))
        .body(vec![b'x'; 2000])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);

    // Chunked, no length: the handler's read trips the limit, and that is a 413 too.
    let chunks =
        stream::iter((0..4).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'y'; 500]))));
    let chunked = client
        .post(server.url("/echo"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(chunked.status(), 413);
    assert!(
        chunked
            .text()
            .await
            .unwrap()
            .contains("larger than the limit")
    );
}

#[tokio::test]
async fn request_id_layers_give_the_handler_and_the_client_the_same_id() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/id", |req: HttpRequest| async move {
            req.headers()
                .get("x-request-id")
                .map(|id| id.to_str().unwrap().to_owned())
                .unwrap_or_default()
        });
    app.layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id());
    let server = TestServer::start(app).await;

    let response = client().get(server.url("/id")).send().await.unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(response.text().await.unwrap(), id);

    let response = client()
        .get(server.url("/id"))
        .header("x-request-id", "from-the-client")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "from-the-client");
    assert_eq!(response.text().await.unwrap(), "from-the-client");
}

fn append(
    name: &'static str,
) -> MapResponseLayer<impl Fn(Response<Body>) -> Response<Body> + Clone> {
    MapResponseLayer::new(move |mut response: Response<Body>| {
        response
            .headers_mut()
            .append("x-order", HeaderValue::from_static(name));
        response
    })
}

/// The first layer added is the outermost (it sees the response last), and every layer is
/// outside the bareASGI middlewares, as `app.middleware` orders its own.
#[tokio::test]
async fn first_layer_added_is_outermost_and_layers_wrap_the_middlewares() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", |_req| async { "hi" });
    app.middleware(|req: HttpRequest, next: Next| async move {
        let mut response = next.run(req).await;
        response
            .headers
            .append("x-order", HeaderValue::from_static("middleware"));
        response
    });
    app.layer(append("first")).layer(append("second"));
    let server = TestServer::start(app).await;
    let response = client().get(server.url("/")).send().await.unwrap();
    let order: Vec<&str> = response
        .headers()
        .get_all("x-order")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(order, ["middleware", "second", "first"]);
}

/// A layer's error or panic is that request's `500`, logged; the server keeps serving.
#[tokio::test]
async fn a_failing_or_panicking_layer_is_a_500_and_the_server_goes_on() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/{any}", |_req| async { "fine" });
    app.layer(layer_fn(|inner: bareasgi::tower::Inner| {
        tower::service_fn(move |request: Request<bareasgi::RequestBody>| {
            let inner = inner.clone();
            async move {
                match request.uri().path() {
                    "/error" => Err("the layer failed".into()),
                    "/panic" => panic!("the layer panicked"),
                    _ => Ok::<_, bareasgi::BoxError>(inner.oneshot(request).await.unwrap()),
                }
            }
        })
    }));
    let server = TestServer::start(app).await;
    let client = client();
    for path in ["/error", "/panic", "/error"] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 500, "{path}");
    }
    let fine = client.get(server.url("/ok")).send().await.unwrap();
    assert_eq!(fine.status(), 200);
    assert_eq!(fine.text().await.unwrap(), "fine");
}

#[tokio::test]
async fn layers_serve_http2_too() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/todos", json);
    app.layer(CorsLayer::permissive())
        .layer(CompressionLayer::new());
    let server = TestServer::start(app).await;
    let response = h2_client()
        .get(server.url("/todos"))
        .header(ORIGIN, "https://example.com")
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(gunzip(&response.bytes().await.unwrap()), JSON);
}

#[cfg(feature = "ws")]
#[tokio::test]
async fn websocket_upgrade_works_through_trace_cors_and_compression_layers() {
    use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    async fn ws_echo(_req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
        ws.accept(None, ()).await?;
        loop {
            match ws.receive().await? {
                Message::Close { .. } => return Ok(()),
                message => ws.send(message).await?,
            }
        }
    }

    let mut app = Application::new();
    app.ws_router.add("/ws", ws_echo);
    app.layer(TraceLayer::new_for_http())
        .layer(CorsLayer::permissive())
        .layer(CompressionLayer::new());
    let server = TestServer::start(app).await;
    let mut request = format!("ws://{}/ws", server.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        ACCEPT_ENCODING,
        HeaderValue::from_static("gzip, deflate, br"),
    );
    request
        .headers_mut()
        .insert(ORIGIN, HeaderValue::from_static("https://example.com"));
    let (mut socket, response) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(response.status(), 101);
    for text in ["one", "two", "three"] {
        socket.send(WsMessage::text(text)).await.unwrap();
        let echoed = socket.next().await.unwrap().unwrap();
        assert_eq!(echoed, WsMessage::text(text));
    }
    socket.close(None).await.unwrap();
}

/// Shutdown with layers: an event stream (through the compression layer) ends at once, a
/// request in flight still gets its answer, and `serve` returns well before the shutdown
/// timeout.
#[tokio::test]
async fn graceful_shutdown_with_layers_ends_streams_and_finishes_requests() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/events", |_req| async {
        let ticks = stream::iter(0..).then(|n| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Event::data(format!("tick {n}"))
        });
        EventStream::new(ticks)
    });
    app.http_router.add(["GET"], "/slow", |_req| async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        "done"
    });
    app.shutdown_timeout(Duration::from_secs(20));
    app.layer(CorsLayer::permissive())
        .layer(CompressionLayer::new());
    let mut server = TestServer::start(app).await;
    let client = client();

    let events = client
        .get(server.url("/events"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    let mut events = events.bytes_stream();
    assert!(events.next().await.unwrap().is_ok());
    let slow = tokio::spawn(client.get(server.url("/slow")).send());
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    server.trigger_stop();
    // The event stream ends cleanly.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = events.next().await {
            chunk.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "the event stream did not end on shutdown");
    let slow = slow.await.unwrap().unwrap();
    assert_eq!(slow.status(), 200);
    assert_eq!(slow.text().await.unwrap(), "done");
    server.take_handle().await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The header-read timeout closes quiet connections, but a response streamed through the
/// layers keeps its connection busy however long it takes.
#[tokio::test]
async fn header_read_timeout_spares_a_long_response_streamed_through_layers() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/long", |_req| async {
        let chunks = stream::iter(0..12).then(|n| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            format!("chunk {n}\n")
        });
        (
            200,
            [("content-type", "text/plain")],
            Body::from_stream(chunks),
        )
    });
    app.header_read_timeout(Some(Duration::from_millis(300)));
    app.layer(CorsLayer::permissive())
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http());
    let server = TestServer::start(app).await;

    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /long HTTP/1.1\r\nhost: test\r\naccept-encoding: gzip\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    // 1.2 s of streaming, four header-read timeouts: it must come through whole.
    let complete = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let read = stream.read(&mut buffer).await.unwrap();
            assert!(read > 0, "the connection closed mid-response");
            received.extend_from_slice(&buffer[..read]);
            if received.ends_with(b"0\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    assert!(complete.is_ok());
    let text = String::from_utf8_lossy(&received);
    assert_eq!(status_of(&text), 200);
    assert!(
        text.to_lowercase().contains("content-encoding: gzip"),
        "{text}"
    );

    // Then, quiet, the connection is closed by the same timeout.
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
}

/// Layers see requests the router refuses (bad paths) as well.
#[tokio::test]
async fn layers_see_bad_requests_answered_by_the_router() {
    let seen = Arc::new(AtomicUsize::new(0));
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/{name}", |_req| async { "hi" });
    let count = seen.clone();
    app.layer(tower::util::MapRequestLayer::new(
        move |request: Request<bareasgi::RequestBody>| {
            count.fetch_add(1, Ordering::Relaxed);
            request
        },
    ));
    let server = TestServer::start(app).await;
    let reply = raw(
        server.addr,
        b"GET /a/%2e%2e/b HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&reply), 400);
    assert_eq!(seen.load(Ordering::Relaxed), 1);
}

/// A layer whose service is not ready at its first `poll_ready` (as a concurrency limit or
/// a load balancer may be), or fails it.
#[derive(Clone)]
struct Readiness {
    fail: bool,
}

#[derive(Clone)]
struct ReadinessService<S> {
    inner: S,
    fail: bool,
    polled: bool,
}

impl<S> tower::Layer<S> for Readiness {
    type Service = ReadinessService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ReadinessService {
            inner,
            fail: self.fail,
            polled: false,
        }
    }
}

impl<S, R> tower::Service<R> for ReadinessService<S>
where
    S: tower::Service<R>,
    S::Error: Into<bareasgi::BoxError>,
{
    type Response = S::Response;
    type Error = bareasgi::BoxError;
    type Future = futures_util::future::MapErr<S::Future, fn(S::Error) -> bareasgi::BoxError>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        if self.fail {
            return std::task::Poll::Ready(Err("not ready, ever".into()));
        }
        if !self.polled {
            self.polled = true;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: R) -> Self::Future {
        use futures_util::TryFutureExt;
        self.inner
            .call(request)
            .map_err(Into::into as fn(S::Error) -> bareasgi::BoxError)
    }
}

/// tower's contract: a service is called only once ready. A stack that is not ready at once
/// is waited for; one that fails to become ready is a `500`.
#[tokio::test]
async fn layers_that_are_not_ready_at_once_are_waited_for_and_failures_are_500() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", |_req| async { "ready" });
    app.layer(Readiness { fail: false });
    let server = TestServer::start(app).await;
    for _ in 0..3 {
        let response = client().get(server.url("/")).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "ready");
    }

    let mut app = Application::new();
    app.http_router.add(["GET"], "/", |_req| async { "ready" });
    app.layer(Readiness { fail: true });
    let server = TestServer::start(app).await;
    let response = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 500);
}
