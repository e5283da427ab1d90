//! `req.state::<T>()`: the application's shared values as owned handles, over a real socket.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bareasgi::test::TestClient;
use bareasgi::{Application, HttpError, HttpRequest};

struct Counter(AtomicUsize);
struct Prefix(String);
struct NeverInserted;

// The point of `state`: the handle does not borrow the request, so the body can be read
// while it is held (with `req.info.get` this is E0502).
async fn count_and_echo(mut req: HttpRequest) -> Result<String, HttpError> {
    let counter = req.state::<Counter>()?;
    let prefix = req.state::<Prefix>()?;
    let text = req.text().await?;
    let n = counter.0.fetch_add(1, Ordering::Relaxed) + 1;
    Ok(format!("{}{n}: {text}", prefix.0))
}

async fn missing(req: HttpRequest) -> Result<&'static str, HttpError> {
    req.state::<NeverInserted>()?;
    Ok("unreachable")
}

fn app() -> Application {
    let mut app = Application::new();
    app.info.insert(Counter(AtomicUsize::new(0)));
    // Inserted already shared: found as well.
    app.info.insert(Arc::new(Prefix("#".into())));
    app.http_router.add(["POST"], "/echo", count_and_echo);
    app.http_router.add(["GET"], "/missing", missing);
    app
}

#[tokio::test]
async fn state_is_shared_across_requests_and_the_body_can_be_read_while_it_is_held() {
    let client = TestClient::new(app());
    let first = client.post("/echo").body("one").await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await, "#1: one");
    let second = client.post("/echo").body("two").await;
    assert_eq!(second.text().await, "#2: two");
}

#[tokio::test]
async fn missing_state_is_a_500_that_names_the_type_in_the_log_not_to_the_client() {
    let (captured, _guard) = common::capture_logs();

    let client = TestClient::new(app());
    let response = client.get("/missing").await;
    assert_eq!(response.status(), 500);
    let body = response.text().await;
    assert_eq!(body, "Internal Server Error");
    drop(client);

    let logs = captured.text();
    let line = logs
        .lines()
        .find(|line| line.contains("NeverInserted"))
        .unwrap_or_else(|| panic!("no log line names the type in {logs}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(
        line.contains("state::NeverInserted"),
        "the full type path: {line}"
    );
    assert!(
        line.contains("app.info.insert"),
        "says how to fix it: {line}"
    );
}
