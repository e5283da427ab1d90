//! A registration mistake panics naming the user's line, not a line inside bareasgi
//! (`#[track_caller]` on every panicking registration method). The panic hook is global,
//! so these checks live alone in this test binary and run one after another.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use bareasgi::ws::{WebSocket, WebSocketRequest};
use bareasgi::{Application, HttpRequest};

async fn handler(_req: HttpRequest) -> &'static str {
    "x"
}

async fn ws_handler(_req: WebSocketRequest, _ws: WebSocket) {}

/// Runs `register`, which must panic; returns where the panic said it happened, and its
/// message.
fn caught(register: impl FnOnce()) -> (String, u32, String) {
    let location = Arc::new(Mutex::new(None));
    let seen = location.clone();
    panic::set_hook(Box::new(move |info| {
        if let Some(at) = info.location() {
            *seen.lock().unwrap() = Some((at.file().to_owned(), at.line()));
        }
    }));
    let outcome = panic::catch_unwind(AssertUnwindSafe(register));
    drop(panic::take_hook());
    let payload = outcome.expect_err("registration should have panicked");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
        })
        .unwrap_or_default();
    let (file, line) = location
        .lock()
        .unwrap()
        .take()
        .expect("the hook saw the panic");
    (file, line, message)
}

#[test]
fn misuse_panics_point_at_the_callers_line() {
    // One test: the panic hook is global, so the checks must not run in parallel.
    routers();
    #[cfg(feature = "test")]
    test_client();
}

fn routers() {
    let mut app = Application::new();
    let router = &mut app.http_router;
    let line = line!() + 1;
    let (file, at, message) = caught(|| router.add(["GET"], "/users/:id", handler));
    assert_eq!((file.as_str(), at), (file!(), line), "{message}");
    assert!(message.ends_with("did you mean `{id}`?"), "{message}");

    app.http_router.add(["GET"], "/users/{id}", handler);
    let router = &mut app.http_router;
    let line = line!() + 1;
    let (file, at, message) = caught(|| router.add(["GET"], "/users/{name}", handler));
    assert_eq!((file.as_str(), at), (file!(), line), "{message}");
    assert!(
        message.contains("conflicts with GET \"/users/{id}\""),
        "{message}"
    );

    let ws_router = &mut app.ws_router;
    let line = line!() + 1;
    let (file, at, message) = caught(|| ws_router.add("/files/*rest", ws_handler));
    assert_eq!((file.as_str(), at), (file!(), line), "{message}");
    assert!(
        message.ends_with("did you mean `{rest:path}`?"),
        "{message}"
    );
}

#[cfg(feature = "test")]
fn test_client() {
    let mut failing = Application::new();
    failing.on_startup(
        async |_info: &mut bareasgi::TypeMap| -> Result<(), bareasgi::BoxError> {
            Err("no database".into())
        },
    );
    let line = line!() + 1;
    let (file, at, message) = caught(|| drop(bareasgi::test::TestClient::new(failing)));
    assert_eq!((file.as_str(), at), (file!(), line), "{message}");

    let client = bareasgi::test::TestClient::new(Application::new());
    let line = line!() + 1;
    let (file, at, message) = caught(|| drop(client.get("/").header("bad name", "v")));
    assert_eq!((file.as_str(), at), (file!(), line), "{message}");
    assert!(message.starts_with("invalid header name"), "{message}");

    // Regression: a cookie that cannot be sent panicked only at `send`, inside the library,
    // or (with a `;` in its value) silently sent two cookies.
    let line = line!() + 1;
    let (file, at, message) = caught(|| drop(client.get("/").cookie("a", "1; admin=true")));
    assert_eq!((file.as_str(), at), (file!(), line), "{message}");
    assert_eq!(message, "cannot send \"a\"=\"1; admin=true\" as one cookie");
}
