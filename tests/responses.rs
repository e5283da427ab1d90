//! Every form a handler may return, checked on the wire.

mod common;

use bareasgi::{
    Application, Body, HttpError, HttpRequest, HttpResponse, IntoResponse, bytes_writer,
    text_writer,
};
use bytes::Bytes;
use common::{TestServer, client, raw};
use futures_util::stream;
use http::{HeaderMap, StatusCode};

async fn three_tuple_literal(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "text/html")],
        text_writer("<h1>hi</h1>"),
    )
}

async fn three_tuple_status_code(_req: HttpRequest) -> impl IntoResponse {
    (
        StatusCode::CREATED,
        vec![("x-one", "1"), ("x-two", "2")],
        "created",
    )
}

async fn owned_headers(_req: HttpRequest) -> impl IntoResponse {
    let headers = vec![("x-owned".to_owned(), format!("{}", 40 + 2))];
    (202u16, headers, bytes_writer(&b"bytes"[..]))
}

async fn header_map(_req: HttpRequest) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    headers.insert("x-map", "yes".parse().unwrap());
    (200, headers, Bytes::from_static(b"map"))
}

async fn two_tuple(_req: HttpRequest) -> impl IntoResponse {
    (418, "teapot")
}

async fn status_only(_req: HttpRequest) -> impl IntoResponse {
    (204,)
}

async fn bare_status(_req: HttpRequest) -> StatusCode {
    StatusCode::ACCEPTED
}

async fn static_str(_req: HttpRequest) -> &'static str {
    "static"
}

async fn string(_req: HttpRequest) -> String {
    "owned".to_owned()
}

async fn bytes(_req: HttpRequest) -> Bytes {
    Bytes::from_static(b"\x00\x01")
}

async fn vec_body(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "application/x-test")],
        vec![1u8, 2, 3],
    )
}

async fn http_response(_req: HttpRequest) -> HttpResponse {
    HttpResponse::new(201, [("x-made", "by-new")], "made")
}

async fn result_ok(_req: HttpRequest) -> Result<&'static str, HttpError> {
    Ok("fine")
}

async fn result_err(_req: HttpRequest) -> Result<&'static str, HttpError> {
    Err(HttpError::forbidden("no entry"))
}

async fn unit(_req: HttpRequest) {}

async fn invalid_status(_req: HttpRequest) -> impl IntoResponse {
    (1234, "never sent")
}

async fn invalid_header_name(_req: HttpRequest) -> impl IntoResponse {
    (200, [("bad header", "v")], "never sent")
}

async fn invalid_header_value(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        vec![("x-bad".to_owned(), "line\r\nbreak".to_owned())],
        "never sent",
    )
}

async fn streamed(_req: HttpRequest) -> impl IntoResponse {
    let chunks = stream::iter(["one ", "two ", "", "three"]);
    (
        200,
        [("content-type", "text/plain")],
        Body::from_stream(chunks),
    )
}

async fn wrong_length(_req: HttpRequest) -> impl IntoResponse {
    (200, [("content-length", "99")], "short")
}

fn app() -> Application {
    let mut app = Application::new();
    let router = &mut app.http_router;
    router.add(["GET"], "/three-literal", three_tuple_literal);
    router.add(["GET"], "/three-status", three_tuple_status_code);
    router.add(["GET"], "/owned-headers", owned_headers);
    router.add(["GET"], "/header-map", header_map);
    router.add(["GET"], "/two", two_tuple);
    router.add(["GET"], "/status-only", status_only);
    router.add(["GET"], "/bare-status", bare_status);
    router.add(["GET"], "/static-str", static_str);
    router.add(["GET"], "/string", string);
    router.add(["GET"], "/bytes", bytes);
    router.add(["GET"], "/vec", vec_body);
    router.add(["GET"], "/http-response", http_response);
    router.add(["GET"], "/ok", result_ok);
    router.add(["GET"], "/err", result_err);
    router.add(["GET"], "/unit", unit);
    router.add(["GET"], "/invalid-status", invalid_status);
    router.add(["GET"], "/invalid-header-name", invalid_header_name);
    router.add(["GET"], "/invalid-header-value", invalid_header_value);
    router.add(["GET"], "/streamed", streamed);
    router.add(["GET"], "/wrong-length", wrong_length);
    app
}

async fn fetch(server: &TestServer, path: &str) -> (u16, HeaderMap, Vec<u8>) {
    let response = client().get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn tuples_statuses_and_headers_in_every_form() {
    let server = TestServer::start(app()).await;

    let (status, headers, body) = fetch(&server, "/three-literal").await;
    assert_eq!(
        (status, &headers["content-type"], body.as_slice()),
        (200, &"text/html".parse().unwrap(), &b"<h1>hi</h1>"[..])
    );

    let (status, headers, body) = fetch(&server, "/three-status").await;
    assert_eq!((status, body.as_slice()), (201, &b"created"[..]));
    assert_eq!(
        (&headers["x-one"], &headers["x-two"]),
        (&"1".parse().unwrap(), &"2".parse().unwrap())
    );
    assert!(
        headers.get("content-type").is_none(),
        "a 3-tuple sends exactly the headers given"
    );

    let (status, headers, body) = fetch(&server, "/owned-headers").await;
    assert_eq!(
        (status, &headers["x-owned"], body.as_slice()),
        (202, &"42".parse().unwrap(), &b"bytes"[..])
    );

    let (status, headers, body) = fetch(&server, "/header-map").await;
    assert_eq!(
        (status, &headers["x-map"], body.as_slice()),
        (200, &"yes".parse().unwrap(), &b"map"[..])
    );

    assert_eq!(fetch(&server, "/two").await.0, 418);
    assert_eq!(fetch(&server, "/two").await.2, b"teapot");
    assert_eq!(fetch(&server, "/status-only").await.0, 204);
    assert_eq!(fetch(&server, "/bare-status").await.0, 202);

    let (_, headers, body) = fetch(&server, "/vec").await;
    assert_eq!(
        (&headers["content-type"], body.as_slice()),
        (&"application/x-test".parse().unwrap(), &[1u8, 2, 3][..])
    );

    let (status, headers, body) = fetch(&server, "/http-response").await;
    assert_eq!(
        (status, &headers["x-made"], body.as_slice()),
        (201, &"by-new".parse().unwrap(), &b"made"[..])
    );
}

#[tokio::test]
async fn bare_values_get_a_default_content_type() {
    let server = TestServer::start(app()).await;
    for (path, content_type, body) in [
        ("/static-str", "text/plain; charset=utf-8", &b"static"[..]),
        ("/string", "text/plain; charset=utf-8", b"owned"),
        ("/bytes", "application/octet-stream", b"\x00\x01"),
    ] {
        let (status, headers, received) = fetch(&server, path).await;
        assert_eq!(
            (
                status,
                headers["content-type"].to_str().unwrap(),
                received.as_slice()
            ),
            (200, content_type, body)
        );
    }
    let (status, headers, body) = fetch(&server, "/unit").await;
    assert_eq!((status, body.len()), (200, 0));
    assert_eq!(headers["content-length"], "0");
}

#[tokio::test]
async fn result_answers_with_either_side() {
    let server = TestServer::start(app()).await;
    assert_eq!(fetch(&server, "/ok").await.2, b"fine");
    let (status, headers, body) = fetch(&server, "/err").await;
    assert_eq!((status, body.as_slice()), (403, &b"no entry"[..]));
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
}

#[tokio::test]
async fn invalid_status_or_header_is_a_500_not_a_panic() {
    let server = TestServer::start(app()).await;
    for path in [
        "/invalid-status",
        "/invalid-header-name",
        "/invalid-header-value",
    ] {
        let (status, _, body) = fetch(&server, path).await;
        assert_eq!(status, 500, "{path}");
        assert_eq!(
            body, b"Internal Server Error",
            "{path}: the handler's body must not leak"
        );
    }
    assert_eq!(
        fetch(&server, "/ok").await.0,
        200,
        "the server keeps serving"
    );
}

#[tokio::test]
async fn full_bodies_have_content_length_and_streams_are_chunked() {
    let server = TestServer::start(app()).await;
    let full = raw(
        server.addr,
        b"GET /string HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(
        full.contains("content-length: 5\r\n") && !full.contains("transfer-encoding"),
        "{full}"
    );
    let streamed = raw(
        server.addr,
        b"GET /streamed HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(
        streamed.contains("transfer-encoding: chunked\r\n") && !streamed.contains("content-length"),
        "{streamed}"
    );
    // The empty item was skipped instead of ending the chunked body early.
    assert!(
        streamed.ends_with("4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n"),
        "{streamed:?}"
    );
}

#[tokio::test]
async fn a_content_length_that_disagrees_with_the_body_is_corrected() {
    let server = TestServer::start(app()).await;
    let reply = raw(
        server.addr,
        b"GET /wrong-length HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(
        reply.contains("content-length: 5\r\n") && reply.ends_with("\r\n\r\nshort"),
        "{reply}"
    );
}
