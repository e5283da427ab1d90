//! Reading request bodies: helpers, the size limit (413, never a truncation), broken bodies.
#![cfg(feature = "test")]

mod common;

use std::time::Duration;

use bareasgi::test::TestClient;
use bareasgi::{Application, Body, BodyError, HttpError, HttpRequest};
use common::{TestServer, client, raw, status_of};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn echo_text(mut req: HttpRequest) -> Result<String, BodyError> {
    let text = req.text().await?;
    Ok(format!("{} bytes: {text}", text.len()))
}

async fn echo_len(mut req: HttpRequest) -> Result<String, HttpError> {
    // `?` converts a BodyError into an HttpError with the same status.
    let bytes = req.bytes().await?;
    Ok(bytes.len().to_string())
}

async fn stream_len(mut req: HttpRequest) -> Result<String, BodyError> {
    let mut body = req.take_body();
    let (mut chunks, mut total) = (0, 0);
    while let Some(chunk) = body.next().await {
        chunks += 1;
        total += chunk?.len();
    }
    Ok(format!("{chunks} chunks, {total} bytes"))
}

async fn raise_limit(mut req: HttpRequest) -> Result<String, BodyError> {
    req.set_body_limit(1024 * 1024);
    Ok(req.bytes().await?.len().to_string())
}

fn app(limit: usize) -> Application {
    let mut app = Application::new();
    app.body_limit(limit);
    app.http_router.add(["POST"], "/text", echo_text);
    app.http_router.add(["POST"], "/len", echo_len);
    app.http_router.add(["POST"], "/stream", stream_len);
    app.http_router.add(["POST"], "/upload", raise_limit);
    app
}

#[tokio::test]
async fn text_and_bytes_read_the_whole_body() {
    let client = TestClient::new(app(1024));
    let response = client.post("/text").body("héllo").await;
    assert_eq!(response.text().await, "6 bytes: héllo");
    // A chunked body of several pieces is put together.
    let pieces = futures_util::stream::iter(["ab", "cd", "ef"]);
    let response = client.post("/len").body(Body::from_stream(pieces)).await;
    assert_eq!(response.text().await, "6");
}

#[tokio::test]
async fn the_default_limit_of_two_mebibytes_is_inclusive_and_one_byte_more_is_413() {
    let mut app = Application::new();
    app.http_router.add(["POST"], "/len", echo_len);
    let server = TestServer::start(app).await;
    let limit = 2 * 1024 * 1024;
    let at = client()
        .post(server.url("/len"))
        .body(vec![b'x'; limit])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (at.status().as_u16(), at.text().await.unwrap()),
        (200, limit.to_string())
    );
    let over = client()
        .post(server.url("/len"))
        .body(vec![b'x'; limit + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 413);
    assert_eq!(
        over.text().await.unwrap(),
        "request body is larger than 2097152 bytes"
    );
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413_not_truncated() {
    let server = TestServer::start(app(10)).await;
    let pieces = futures_util::stream::iter(["12345", "67890", "X"].map(Ok::<_, std::io::Error>));
    let response = client()
        .post(server.url("/text"))
        .body(reqwest::Body::wrap_stream(pieces))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let declared = raw(
        server.addr,
        b"POST /text HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        status_of(&declared),
        413,
        "a declared length over the limit is refused before reading"
    );
}

#[tokio::test]
async fn a_handler_may_raise_the_limit_for_its_route() {
    let client = TestClient::new(app(10));
    let response = client.post("/upload").body(vec![0u8; 5000]).await;
    assert_eq!(response.text().await, "5000");
}

#[tokio::test]
async fn invalid_utf8_is_400() {
    let client = TestClient::new(app(1024));
    let response = client.post("/text").body(vec![0xff, 0xfe]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.text().await, "request body is not valid UTF-8");
}

#[tokio::test]
async fn a_body_can_be_read_as_a_stream_without_limit() {
    let server = TestServer::start(app(10)).await;
    let pieces = futures_util::stream::iter(["aaaa", "bbbb", "cccc"].map(Ok::<_, std::io::Error>));
    let response = client()
        .post(server.url("/stream"))
        .body(reqwest::Body::wrap_stream(pieces))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(text.ends_with("chunks, 12 bytes"), "{text}");
}

#[tokio::test]
async fn a_broken_chunked_body_is_400_and_the_server_goes_on() {
    let server = TestServer::start(app(1024)).await;
    let reply = raw(
        server.addr,
        b"POST /text HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n",
    )
    .await;
    assert_eq!(status_of(&reply), 400, "{reply}");
    assert!(reply.contains("failed to read the request body"), "{reply}");
    let response = client()
        .post(server.url("/text"))
        .body("ok")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_client_that_lies_about_content_length_gets_400_when_it_hangs_up() {
    let server = TestServer::start(app(1024)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /text HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nonly ten b")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let reply = common::read_until_close(&mut stream, Duration::from_secs(5)).await;
    assert!(reply.is_empty() || status_of(&reply) == 400, "{reply}");
    assert_eq!(
        client()
            .post(server.url("/text"))
            .body("ok")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[cfg(feature = "json")]
mod json {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Order {
        item: String,
        quantity: u32,
    }

    async fn order(mut req: HttpRequest) -> Result<String, BodyError> {
        let order: Order = req.json().await?;
        Ok(format!("{} x {}", order.quantity, order.item))
    }

    async fn post(server: &TestServer, content_type: &str, body: &'static str) -> (u16, String) {
        let response = client()
            .post(server.url("/order"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    #[tokio::test]
    async fn json_bodies_are_parsed_and_bad_ones_named() {
        let mut app = Application::new();
        app.body_limit(64);
        app.http_router.add(["POST"], "/order", order);
        let server = TestServer::start(app).await;
        assert_eq!(
            post(
                &server,
                "application/json",
                r#"{"item":"pear","quantity":3}"#
            )
            .await,
            (200, "3 x pear".into())
        );
        let (status, message) = post(&server, "application/json", r#"{"item":"pear""#).await;
        assert_eq!(status, 400);
        assert!(
            message.starts_with("invalid JSON body: EOF while parsing"),
            "{message}"
        );
        let (status, message) = post(
            &server,
            "application/json",
            r#"{"item":"pear","quantity":"three"}"#,
        )
        .await;
        assert_eq!(status, 400);
        assert!(
            message.contains("invalid type: string \"three\", expected u32"),
            "{message}"
        );
        let (status, message) = post(&server, "application/json", r#"{"item":"pear"}"#).await;
        assert!(
            status == 400 && message.contains("missing field `quantity`"),
            "{message}"
        );
        assert_eq!(post(&server, "text/plain", "{}").await.0, 415);
        assert_eq!(
            post(
                &server,
                "application/vnd.api+json",
                r#"{"item":"a","quantity":1}"#
            )
            .await
            .0,
            200
        );
        let big = r#"{"item":"a very long item name that goes on and on and on","quantity":1}"#;
        assert_eq!(post(&server, "application/json", big).await.0, 413);
    }

    #[derive(Deserialize)]
    struct Basket {
        #[allow(dead_code)] // the test is about the error
        orders: Vec<Order>,
    }

    // Regression: a mistyped value deep in a JSON body was a 400 that gave only a line and
    // column (`invalid type: string "three", expected u32 at line 1 column 67`), unlike
    // query strings and forms, whose 400 names the field.
    #[tokio::test]
    async fn a_json_400_names_the_field_at_fault() {
        let mut app = Application::new();
        app.http_router
            .add(["POST"], "/basket", |mut req: HttpRequest| async move {
                req.json::<Basket>().await.map(|_| "ok")
            });
        let server = TestServer::start(app).await;
        let post = |body: &'static str| {
            client()
                .post(server.url("/basket"))
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let body = r#"{"orders":[{"item":"a","quantity":1},{"item":"b","quantity":"three"}]}"#;
        let response = post(body).await.unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.text().await.unwrap(),
            "invalid JSON body: orders[1].quantity: invalid type: string \"three\", \
             expected u32 at line 1 column 67"
        );
        let response = post(r#"{"orders":[]} trailing"#).await.unwrap();
        assert_eq!(response.status(), 400, "trailing characters are refused");
        assert_eq!(post(r#" {"orders":[]}  "#).await.unwrap().status(), 200);
    }
}

// Regression (issue 20): `req.json()` and `req.form()` parsed a body that came without a
// `content-type`, so a client that forgot the header got its data read as whatever the
// handler expected; axum, and this crate's README, refuse it with a 415.
#[cfg(all(feature = "json", feature = "form"))]
#[tokio::test]
async fn json_and_form_refuse_a_body_without_a_content_type_with_415() {
    #[derive(serde::Deserialize)]
    struct Note {
        #[allow(dead_code)] // the test is about the refusal
        text: String,
    }
    let mut app = Application::new();
    app.http_router
        .add(["POST"], "/json", |mut req: HttpRequest| async move {
            req.json::<Note>().await.map(|_| "parsed")
        });
    app.http_router
        .add(["POST"], "/form", |mut req: HttpRequest| async move {
            req.form::<Note>().await.map(|_| "parsed")
        });
    let server = TestServer::start(app).await;
    for (path, body) in [("/json", r#"{"text":"hi"}"#), ("/form", "text=hi")] {
        // reqwest adds no content-type to a plain string body.
        let response = client()
            .post(server.url(path))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{path} without a content-type");
        let message = response.text().await.unwrap();
        assert!(message.starts_with("expected content-type"), "{message}");
    }
    let typed = client()
        .post(server.url("/json"))
        .header("content-type", "application/json")
        .body(r#"{"text":"hi"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(typed.text().await.unwrap(), "parsed");
    let typed = client()
        .post(server.url("/form"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("text=hi")
        .send()
        .await
        .unwrap();
    assert_eq!(typed.text().await.unwrap(), "parsed");
}
