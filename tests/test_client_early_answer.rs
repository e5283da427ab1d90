//! `TestClient` returns the answer a server gives before it has read the request body
//! (issue 20): posting 10 MiB + 1 byte to an application whose body limit is 10 MiB must
//! return the `413` the server sent, as curl shows it, not panic with "error writing a
//! body to connection" because the server stopped reading (7 of 9 tries did). And a
//! request that does fail names the test's line, not one inside the crate.
#![cfg(feature = "test")]

use std::panic::AssertUnwindSafe;

use bareasgi::test::TestClient;
use bareasgi::{Application, Body, HttpError, HttpRequest};
use bytes::Bytes;
use futures_util::FutureExt;

const LIMIT: usize = 10 * 1024 * 1024;

async fn upload(mut req: HttpRequest) -> Result<String, HttpError> {
    let bytes = req.bytes().await?;
    Ok(format!("{} bytes", bytes.len()))
}

fn app() -> Application {
    let mut app = Application::new();
    app.body_limit(LIMIT);
    app.http_router.add(["POST"], "/upload", upload);
    app
}

#[tokio::test]
async fn a_body_over_the_limit_returns_the_servers_413_every_time() {
    let client = TestClient::new(app());
    let too_large = vec![b'x'; LIMIT + 1];
    for attempt in 0..50 {
        let response = client
            .post("/upload")
            .header("content-type", "application/octet-stream")
            .body(too_large.clone())
            .await;
        assert_eq!(response.status(), 413, "attempt {attempt}");
        let text = response.text().await;
        assert!(text.contains("larger than"), "attempt {attempt}: {text}");
    }
    // The connection the server gave up on is not reused: the next request is served.
    let fits = client.post("/upload").body(vec![b'x'; 1024]).await;
    assert_eq!(fits.text().await, "1024 bytes");
}

/// A body whose stream fails at once: the request cannot be sent.
fn broken_body() -> Body {
    Body::try_from_stream(futures_util::stream::iter([Err::<Bytes, _>(
        std::io::Error::other("the disk went away"),
    )]))
}

/// The message of a panic caught from `future`.
async fn failure_of<T>(future: impl Future<Output = T>) -> String {
    let payload = AssertUnwindSafe(future)
        .catch_unwind()
        .await
        .err()
        .expect("the request should have failed");
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

// Regression: a request that failed panicked at src/test/request.rs, so a test's author had
// to find their own line in a backtrace.
#[tokio::test]
async fn a_failed_request_names_the_tests_line() {
    let client = TestClient::new(app());
    let line = line!() + 1;
    let sent = client.post("/upload").body(broken_body()).send();
    let message = failure_of(sent).await;
    assert!(message.starts_with("POST /upload failed"), "{message}");
    let at = format!("(at {}:{line}:", file!());
    assert!(message.contains(&at), "{message} should name {at}");

    // The same through `.await` on the request itself.
    let line = line!() + 1;
    let awaited = async { client.post("/upload").body(broken_body()).await };
    let message = failure_of(awaited).await;
    let at = format!("(at {}:{line}:", file!());
    assert!(message.contains(&at), "{message} should name {at}");

    // A WebSocket the server refuses (no such route: 404).
    #[cfg(feature = "ws")]
    {
        let line = line!() + 1;
        let refused = async { client.websocket("/nowhere").await };
        let message = failure_of(refused).await;
        assert!(message.contains("refused the WebSocket"), "{message}");
        let at = format!("(at {}:{line}:", file!());
        assert!(message.contains(&at), "{message} should name {at}");
    }
}
