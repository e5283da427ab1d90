//! Errors and panics in user code: each fails only its own request, with the right status,
//! a body that leaks nothing, and a log line; the server keeps serving.

mod common;

use std::time::Duration;

use bareasgi::{Application, Body, BoxError, HttpError, HttpRequest, HttpResponse, Next};
use common::{TestServer, client, read_until_close, status_of};
use futures_util::stream;
use http::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn not_found(_req: HttpRequest) -> Result<String, HttpError> {
    Err(HttpError::not_found("no such thing")
        .with_header(http::header::CACHE_CONTROL, "no-store".parse().unwrap()))
}

async fn private_failure(_req: HttpRequest) -> Result<String, BoxError> {
    let error = std::io::Error::other("password=hunter2 rejected by db");
    Err(error.into())
}

async fn panics(_req: HttpRequest) -> &'static str {
    panic!("handler exploded");
}

async fn panics_in_middleware(req: HttpRequest, next: Next) -> HttpResponse {
    if req.path() == "/middleware-panics" {
        panic!("middleware exploded");
    }
    next.run(req).await
}

async fn panicking_stream(_req: HttpRequest) -> Body {
    let chunks = stream::unfold(0, |n| async move {
        match n {
            0 => Some(("first chunk\n", 1)),
            _ => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                panic!("stream exploded");
            }
        }
    });
    Body::from_stream(chunks)
}

fn app() -> Application {
    let mut app = Application::new();
    app.middleware(panics_in_middleware);
    app.http_router.add(["GET"], "/not-found", not_found);
    app.http_router.add(["GET"], "/private", private_failure);
    app.http_router.add(["GET"], "/panics", panics);
    app.http_router
        .add(["GET"], "/middleware-panics", |_req: HttpRequest| async {
            "unreachable"
        });
    app.http_router
        .add(["GET"], "/stream-panics", panicking_stream);
    app.http_router
        .add(["GET"], "/ok", |_req: HttpRequest| async { "ok" });
    app
}

#[tokio::test]
async fn an_http_error_becomes_its_status_message_and_headers() {
    let server = TestServer::start(app()).await;
    let response = client().get(server.url("/not-found")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.text().await.unwrap(), "no such thing");
}

#[tokio::test]
async fn any_other_error_is_a_500_that_leaks_nothing_and_is_logged_with_method_and_path() {
    let (captured, _guard) = common::capture_logs();

    let server = TestServer::start(app()).await;
    let response = client().get(server.url("/private")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    let body = response.text().await.unwrap();
    assert_eq!(body, "Internal Server Error");
    assert!(!body.contains("hunter2"));

    let logs = captured.text();
    let line = logs
        .lines()
        .find(|line| line.contains("handler failed"))
        .unwrap_or_else(|| panic!("no log line in {logs}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(
        line.contains("method=GET") && line.contains("path=/private"),
        "{line}"
    );
    assert!(
        line.contains("password=hunter2 rejected by db"),
        "the log keeps the cause: {line}"
    );
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_same_connection_keeps_serving() {
    let server = TestServer::start(app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /panics HTTP/1.1\r\nhost: x\r\n\r\nGET /ok HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let replies = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(status_of(&replies), 500, "{replies}");
    assert!(
        replies.contains("Internal Server Error") && !replies.contains("exploded"),
        "{replies}"
    );
    assert!(
        replies.contains("HTTP/1.1 200 OK") && replies.ends_with("ok"),
        "the next request on the connection: {replies}"
    );
    assert_eq!(
        client()
            .get(server.url("/ok"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "a new connection"
    );
}

#[tokio::test]
async fn a_panicking_middleware_is_a_500_for_that_request_only() {
    let server = TestServer::start(app()).await;
    let response = client()
        .get(server.url("/middleware-panics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        client()
            .get(server.url("/ok"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_panicking_stream_ends_its_connection_and_the_server_keeps_serving() {
    let server = TestServer::start(app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket
        .write_all(b"GET /stream-panics HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let reply = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert!(
        reply.contains("first chunk"),
        "what was sent before the panic arrives: {reply}"
    );
    assert!(
        !reply.ends_with("0\r\n\r\n"),
        "the chunked body must not be terminated as if complete: {reply:?}"
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

/// Every request error converts into `HttpError` with `?`, keeping its status.
#[cfg(feature = "query")]
#[tokio::test]
async fn request_errors_convert_into_http_error_with_question_mark() {
    #[derive(serde::Deserialize)]
    struct Scale {
        by: Option<u32>,
    }
    async fn scaled(mut req: HttpRequest) -> Result<String, HttpError> {
        let a: u8 = req.matches.parse("a")?; // MatchError: 400
        let scale: Scale = req.query_as()?; // QueryError: 400
        let body = req.text().await?; // BodyError: 413 over the limit
        Ok((u32::from(a) * scale.by.unwrap_or(1) + body.len() as u32).to_string())
    }
    let mut app = Application::new();
    app.body_limit(4);
    app.http_router.add(["POST"], "/scaled/{a:int}", scaled);
    let server = TestServer::start(app).await;
    let post = |path: &str, body: &'static str| client().post(server.url(path)).body(body).send();
    let not_a_u8 = post("/scaled/300", "").await.unwrap();
    assert_eq!(not_a_u8.status(), 400);
    assert_eq!(
        not_a_u8.text().await.unwrap(),
        "path parameter \"a\" = \"300\" is not a valid u8"
    );
    let too_large = post("/scaled/3", "12345").await.unwrap();
    assert_eq!(too_large.status(), 413);
    let bad_query = post("/scaled/3?by=many", "").await.unwrap();
    assert_eq!(bad_query.status(), 400);
    assert_eq!(
        bad_query.text().await.unwrap(),
        "invalid query string: by: invalid digit found in string"
    );
    let fine = post("/scaled/3?by=2", "xy").await.unwrap();
    assert_eq!(fine.text().await.unwrap(), "8");
}
