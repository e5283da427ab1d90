//! `app.http_router.mount(prefix, service)`: tower services (tower-http's `ServeDir`, and
//! services of our own) mounted at a prefix, over a real socket — Range, conditional
//! requests, HEAD and precompressed files; prefix stripping; precedence; traversal attempts
//! that never reach the service; streaming and lengths; registration errors.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bareasgi::{Application, HttpRequest, HttpRouter, Next, RequestBody, RouteError};
use bytes::Bytes;
use common::{TestServer, client, raw, status_of};
use futures_util::StreamExt;
use http::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RANGE,
};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, StreamBody};
use tokio::sync::mpsc;
use tower::Layer;
use tower::service_fn;
use tower::util::MapRequestLayer;
use tower_http::services::ServeDir;

const APP_JS: &str = "console.log('hello from app.js, a file long enough to take a range of');\n";

/// A directory to serve, `static/`, with a secret beside it that must never be served.
struct Site {
    root: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("static");
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::write(dir.join("app.js"), APP_JS).unwrap();
        std::fs::write(dir.join("docs/index.html"), "<h1>docs</h1>").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, APP_JS.as_bytes()).unwrap();
        std::fs::write(dir.join("app.js.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(root.path().join("secret.txt"), "the secret").unwrap();
        Self { root }
    }

    fn dir(&self) -> std::path::PathBuf {
        self.root.path().join("static")
    }
}

/// A service that answers with the path and query it was given.
fn uri_echo() -> impl tower::Service<
    Request<RequestBody>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send
+ Sync
+ 'static {
    service_fn(|request: Request<RequestBody>| async move {
        let text = format!("{} {}", request.method(), request.uri());
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
    })
}

#[tokio::test]
async fn serve_dir_serves_files_under_the_prefix() {
    let site = Site::new();
    let mut app = Application::new();
    app.http_router.mount("/static", ServeDir::new(site.dir()));
    let server = TestServer::start(app).await;

    let response = client()
        .get(server.url("/static/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_LENGTH], APP_JS.len().to_string());
    assert!(
        response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(response.text().await.unwrap(), APP_JS);

    let index = client()
        .get(server.url("/static/docs/"))
        .send()
        .await
        .unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.text().await.unwrap(), "<h1>docs</h1>");

    let missing = client()
        .get(server.url("/static/missing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// ServeDir redirects a directory to its path with a `/`; it knows the prefix it is mounted
/// at only when told, with `redirect_path_prefix`.
#[tokio::test]
async fn serve_dir_redirects_directories_below_the_prefix() {
    let site = Site::new();
    let mut app = Application::new();
    app.http_router.mount(
        "/static",
        ServeDir::new(site.dir()).redirect_path_prefix("/static"),
    );
    let server = TestServer::start(app).await;
    let reply = raw(
        server.addr,
        b"GET /static/docs?page=2 HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!((300..400).contains(&status_of(&reply)), "{reply}");
    assert!(
        reply
            .to_lowercase()
            .contains("location: /static/docs/?page=2\r\n"),
        "{reply}"
    );
}

#[tokio::test]
async fn serve_dir_answers_range_requests_with_206() {
    let site = Site::new();
    let mut app = Application::new();
    app.http_router.mount("/static", ServeDir::new(site.dir()));
    let server = TestServer::start(app).await;

    let response = client()
        .get(server.url("/static/app.js"))
        .header(RANGE, "bytes=8-12")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(
        response.headers()[CONTENT_RANGE],
        format!("bytes 8-12/{}", APP_JS.len())
    );
    assert_eq!(response.headers()[CONTENT_LENGTH], "5");
    assert_eq!(response.text().await.unwrap(), &APP_JS[8..13]);
}

#[tokio::test]
async fn serve_dir_answers_conditional_requests_with_304() {
    let site = Site::new();
    let mut app = Application::new();
    app.http_router.mount("/static", ServeDir::new(site.dir()));
    let server = TestServer::start(app).await;
    let client = client();

    let first = client
        .get(server.url("/static/app.js"))
        .send()
        .await
        .unwrap();
    let etag = first.headers()[ETAG].clone();
    let modified = first.headers()[LAST_MODIFIED].clone();

    let by_etag = client
        .get(server.url("/static/app.js"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(by_etag.status(), 304);
    assert!(by_etag.bytes().await.unwrap().is_empty());

    let by_date = client
        .get(server.url("/static/app.js"))
        .header(IF_MODIFIED_SINCE, modified)
        .send()
        .await
        .unwrap();
    assert_eq!(by_date.status(), 304);

    let changed = client
        .get(server.url("/static/app.js"))
        .header(IF_NONE_MATCH, "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
}

#[tokio::test]
async fn serve_dir_answers_head_with_the_length_and_no_body() {
    let site = Site::new();
    let mut app = Application::new();
    app.http_router.mount("/static", ServeDir::new(site.dir()));
    let server = TestServer::start(app).await;

    let reply = raw(
        server.addr,
        b"HEAD /static/app.js HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&reply), 200);
    let lower = reply.to_lowercase();
    assert!(
        lower.contains(&format!("content-length: {}\r\n", APP_JS.len())),
        "{reply}"
    );
    assert!(
        reply.ends_with("\r\n\r\n"),
        "a HEAD answer has no body: {reply:?}"
    );
}

#[tokio::test]
async fn serve_dir_sends_precompressed_files_to_clients_that_accept_them() {
    let site = Site::new();
    let mut app = Application::new();
    app.http_router
        .mount("/static", ServeDir::new(site.dir()).precompressed_gzip());
    let server = TestServer::start(app).await;

    let response = client()
        .get(server.url("/static/app.js"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(bytes, std::fs::read(site.dir().join("app.js.gz")).unwrap());

    let plain = client()
        .get(server.url("/static/app.js"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(plain.text().await.unwrap(), APP_JS);
}

/// `.` and `..` segments (plain or percent-encoded) and encoded slashes are refused by the
/// router with `400` before routing: the mounted service never sees them, so the file
/// beside the served directory stays out of reach. Sent over a raw socket, because HTTP
/// clients normalise `..` away before sending.
#[tokio::test]
async fn traversal_attempts_never_reach_the_mounted_service() {
    let site = Site::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let serve_dir = MapRequestLayer::new(move |request: Request<RequestBody>| {
        counted.fetch_add(1, Ordering::Relaxed);
        request
    })
    .layer(ServeDir::new(site.dir()));
    let mut app = Application::new();
    app.http_router.mount("/static", serve_dir);
    let server = TestServer::start(app).await;

    for path in [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/.%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/docs/../../secret.txt",
        "/static/./app.js",
        "/static/%00app.js",
    ] {
        let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n");
        let reply = raw(server.addr, request.as_bytes()).await;
        assert_eq!(status_of(&reply), 400, "{path}: {reply}");
        assert!(!reply.contains("the secret"), "{path}");
    }
    assert_eq!(calls.load(Ordering::Relaxed), 0);

    // The service is reached by the paths it should see.
    let reply = raw(
        server.addr,
        b"GET /static/app.js HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&reply), 200);
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn the_service_sees_the_path_without_the_prefix_and_with_the_query() {
    let mut app = Application::new();
    app.http_router.mount("/api/v1", uri_echo());
    let server = TestServer::start(app).await;
    let client = client();
    for (method, path, seen) in [
        (Method::GET, "/api/v1/users/7?full=1", "GET /users/7?full=1"),
        (Method::POST, "/api/v1", "POST /"),
        (Method::DELETE, "/api/v1/", "DELETE /"),
        (Method::PUT, "/api/v1/a%20b/c", "PUT /a%20b/c"),
        (Method::OPTIONS, "/api/v1/x", "OPTIONS /x"),
        (Method::PATCH, "/api/v1?q", "PATCH /?q"),
    ] {
        let response = client
            .request(method, server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.unwrap(), seen, "{path}");
    }
    // Not under the prefix: not the mount's.
    let other = client.get(server.url("/api/v10")).send().await.unwrap();
    assert_eq!(other.status(), 404);
}

/// A mount is routed like a `{rest:path}` route: explicit routes under the prefix win for
/// their methods, whatever the order of registration.
#[tokio::test]
async fn explicit_routes_under_the_prefix_win_over_the_mount() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/static/version", |_req| async { "version 1" });
    app.http_router.mount("/static", uri_echo());
    app.http_router.add(
        ["GET"],
        "/static/users/{id:int}",
        |req: HttpRequest| async move { format!("user {}", req.matches.get("id").unwrap()) },
    );
    let server = TestServer::start(app).await;
    let client = client();
    let text = |path: &'static str, method: Method| {
        let client = client.clone();
        let url = server.url(path);
        async move {
            client
                .request(method, url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(text("/static/version", Method::GET).await, "version 1");
    assert_eq!(text("/static/users/5", Method::GET).await, "user 5");
    assert_eq!(
        text("/static/users/bob", Method::GET).await,
        "GET /users/bob"
    );
    assert_eq!(text("/static/version", Method::POST).await, "POST /version");
    assert_eq!(
        text("/static/other.css", Method::GET).await,
        "GET /other.css"
    );
}

#[tokio::test]
async fn a_mount_at_the_root_answers_what_the_routes_do_not() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", |_req| async { "home" });
    app.http_router
        .add(["GET"], "/about", |_req| async { "about" });
    app.http_router.mount("/", uri_echo());
    let server = TestServer::start(app).await;
    let client = client();
    for (path, expected) in [
        ("/", "home"),
        ("/about", "about"),
        ("/elsewhere/deep?x=1", "GET /elsewhere/deep?x=1"),
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), expected, "{path}");
    }
    let post = client.post(server.url("/about")).send().await.unwrap();
    assert_eq!(post.text().await.unwrap(), "POST /about");
}

#[tokio::test]
async fn a_prefix_may_hold_captures() {
    let mut app = Application::new();
    app.http_router.mount("/users/{id:int}/files", uri_echo());
    let server = TestServer::start(app).await;
    let response = client()
        .get(server.url("/users/42/files/a/b.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "GET /a/b.txt");
    let not_int = client()
        .get(server.url("/users/bob/files/a"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_int.status(), 404);
}

/// The service's body is sent as it is produced, not gathered first; a body whose length
/// is known is sent with that `content-length` rather than chunked.
#[tokio::test]
async fn a_mounted_service_body_streams_and_keeps_its_length() {
    let (chunks, receiver) = mpsc::unbounded_channel::<Bytes>();
    let receiver = Arc::new(tokio::sync::Mutex::new(Some(receiver)));
    let streaming = service_fn(move |_request: Request<RequestBody>| {
        let receiver = receiver.clone();
        async move {
            let receiver = receiver.lock().await.take().expect("one request");
            let frames = futures_util::stream::unfold(receiver, |mut receiver| async move {
                let chunk = receiver.recv().await?;
                Some((Ok::<_, Infallible>(http_body::Frame::data(chunk)), receiver))
            });
            Ok::<_, Infallible>(Response::new(StreamBody::new(frames)))
        }
    });
    let sized = service_fn(|_request: Request<RequestBody>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
            b"exactly 17 bytes!",
        ))))
    });
    let mut app = Application::new();
    app.http_router.mount("/stream", streaming);
    app.http_router.mount("/sized", sized);
    let server = TestServer::start(app).await;

    let reply = raw(
        server.addr,
        b"GET /sized HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await;
    let lower = reply.to_lowercase();
    assert!(lower.contains("content-length: 17\r\n"), "{reply}");
    assert!(!lower.contains("transfer-encoding"), "{reply}");
    assert!(reply.ends_with("exactly 17 bytes!"));

    let response = client().get(server.url("/stream")).send().await.unwrap();
    let mut body = response.bytes_stream();
    for n in 0..3 {
        let sent = format!("chunk {n}");
        chunks.send(Bytes::from(sent.clone())).unwrap();
        let received = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("a chunk held back")
            .unwrap()
            .unwrap();
        assert_eq!(received, sent);
    }
    drop(chunks);
    assert!(body.next().await.is_none());
}

/// Trailers (gRPC's status, for one) pass through a mount untouched.
#[tokio::test]
async fn a_mounted_service_trailers_are_kept() {
    let with_trailers = service_fn(|_request: Request<RequestBody>| async {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let frames = futures_util::stream::iter([
            Ok::<_, Infallible>(http_body::Frame::data(Bytes::from_static(b"payload"))),
            Ok(http_body::Frame::trailers(trailers)),
        ]);
        Ok::<_, Infallible>(Response::new(StreamBody::new(frames)))
    });
    let mut app = Application::new();
    app.http_router.mount("/rpc", with_trailers);
    let response = tower::ServiceExt::oneshot(
        app.into_service(),
        Request::post("/rpc/Call")
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap(),
    )
    .await
    .unwrap();
    let collected = BodyExt::collect(response.into_body()).await.unwrap();
    assert_eq!(collected.trailers().unwrap()["grpc-status"], "0");
    assert_eq!(collected.to_bytes(), "payload");
}

#[tokio::test]
async fn a_mounted_service_reads_the_request_body_after_the_middlewares() {
    let echo_body = service_fn(|request: Request<RequestBody>| async move {
        let seen_by_middleware = request.headers().contains_key("x-middleware");
        let body = BodyExt::collect(request.into_body()).await?.to_bytes();
        let text = format!("{seen_by_middleware} {}", String::from_utf8_lossy(&body));
        Ok::<_, bareasgi::BoxError>(Response::new(Full::new(Bytes::from(text))))
    });
    let mut app = Application::new();
    app.middleware(|mut req: HttpRequest, next: Next| async move {
        req.headers_mut()
            .insert("x-middleware", http::HeaderValue::from_static("yes"));
        next.run(req).await
    });
    app.http_router.mount("/upload", echo_body);
    let server = TestServer::start(app).await;
    let response = client()
        .post(server.url("/upload/file"))
        .body("the uploaded bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "true the uploaded bytes");
}

#[tokio::test]
async fn a_failing_mounted_service_is_a_500() {
    let failing = service_fn(|_request: Request<RequestBody>| async {
        Err::<Response<Full<Bytes>>, _>(std::io::Error::other("disk on fire"))
    });
    let mut app = Application::new();
    app.http_router.mount("/broken", failing);
    let server = TestServer::start(app).await;
    let response = client().get(server.url("/broken/x")).send().await.unwrap();
    assert_eq!(response.status(), 500);
}

fn message_of(result: Result<(), RouteError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn mount_conflicts_and_bad_prefixes_are_reported_at_registration() {
    let mut router = HttpRouter::new();
    router.add(["GET"], "/files/{rest:path}", |_req| async { "" });
    router.add(["POST"], "/api", |_req| async { "" });
    let message = message_of(router.try_mount("/files", uri_echo()));
    assert!(
        message.contains("mount \"/files\"")
            && message.contains("route GET \"/files/{rest:path}\""),
        "{message}"
    );
    let message = message_of(router.try_mount("/api", uri_echo()));
    assert!(message.contains("route POST \"/api\""), "{message}");

    router.mount("/static", uri_echo());
    let message = message_of(router.try_mount("/static", uri_echo()));
    assert!(
        message.contains("mount \"/static\" conflicts with mount \"/static\""),
        "{message}"
    );
    let message = message_of(router.try_add(["GET"], "/static/{p:path}", |_req| async { "" }));
    assert!(
        message.contains("route GET \"/static/{p:path}\"") && message.contains("mount \"/static\""),
        "{message}"
    );
    let message = message_of(router.try_add(["PUT"], "/static", |_req| async { "" }));
    assert!(message.contains("mount \"/static\""), "{message}");
    // Under the prefix, explicit routes are welcome.
    router.add(["GET"], "/static/version", |_req| async { "" });
    router.mount("/static/deeper", uri_echo());

    for (prefix, problem) in [
        ("/assets/", "must not end with '/'"),
        (
            "/assets/{rest:path}",
            "cannot end with a '{name:path}' capture",
        ),
        ("assets", "must start with '/'"),
        ("/a//b", "empty segment"),
    ] {
        let message = message_of(router.try_mount(prefix, uri_echo()));
        assert!(message.contains(problem), "{prefix}: {message}");
    }
}

#[test]
fn mount_panics_with_the_message_at_the_callers_line() {
    let mut router = HttpRouter::new();
    router.mount("/static", uri_echo());
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        router.mount("/static", uri_echo());
    }))
    .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("conflicts with mount \"/static\""),
        "{message}"
    );
}
