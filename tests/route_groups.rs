//! Route groups: a login-cookie-protected `/admin` section over a real socket, routes
//! outside it untouched, 404/405 as without groups, and misuse refused at registration.

use std::panic::{self, AssertUnwindSafe};

use bareasgi::cookie::Cookie;
use bareasgi::http::StatusCode;
use bareasgi::test::TestClient;
use bareasgi::{Application, HttpRequest, HttpResponse, IntoResponse, Next, Redirect};

/// The logged-in user, put in the request's context by the middleware.
struct User(String);

async fn require_login(mut req: HttpRequest, next: Next) -> HttpResponse {
    let Some(user) = req.cookie("session").map(str::to_owned) else {
        return HttpResponse::text(StatusCode::UNAUTHORIZED, "log in first");
    };
    req.context.insert(User(user));
    next.run(req).await
}

/// Marks the response, so the tests can see which middlewares ran and in what order.
async fn audit(req: HttpRequest, next: Next) -> HttpResponse {
    let mut response = next.run(req).await;
    let trail = match response.headers.get("x-trail") {
        Some(inner) => format!("audit>{}", inner.to_str().unwrap()),
        None => "audit".to_owned(),
    };
    response.headers.insert("x-trail", trail.parse().unwrap());
    response
}

async fn billing_only(req: HttpRequest, next: Next) -> HttpResponse {
    let mut response = next.run(req).await;
    response
        .headers
        .insert("x-trail", "billing".parse().unwrap());
    response
}

fn whoami(req: &HttpRequest) -> String {
    req.context
        .get::<User>()
        .map_or("nobody".into(), |user| user.0.clone())
}

fn app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add("POST", "/login", |_req: HttpRequest| async {
            Redirect::see_other("/admin").with_cookie(Cookie::new("session", "alice"))
        });
    app.http_router
        .add("GET", "/public", |req: HttpRequest| async move {
            format!("public for {}", whoami(&req))
        });
    // Starts with the same letters as the group's prefix, but is not under it.
    app.http_router
        .add("GET", "/administrators", |_req: HttpRequest| async {
            "a list anyone may see"
        });

    let mut admin = app.http_router.group("/admin");
    admin.middleware(audit).middleware(require_login);
    admin
        .add("GET", "", |req: HttpRequest| async move {
            format!("admin home of {}", whoami(&req))
        })
        .add(
            ["GET", "POST"],
            "/users/{id:int}",
            |req: HttpRequest| async move {
                let id: i64 = req.matches.parse("id").unwrap();
                format!("user {id} seen by {}", whoami(&req))
            },
        );
    // A tower service mounted in the group answers with the path it was given.
    admin.mount(
        "/files",
        tower::service_fn(|request: http::Request<bareasgi::RequestBody>| async move {
            let path = request.uri().path().to_owned();
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                bytes::Bytes::from(format!("file {path}")),
            )))
        }),
    );
    admin.group("/billing").middleware(billing_only).add(
        "GET",
        "/invoices",
        |_req: HttpRequest| async { "invoices" },
    );
    app
}

#[tokio::test]
async fn the_group_needs_the_login_cookie_and_hands_the_user_to_its_handlers() {
    let client = TestClient::new(app());
    let refused = client.get("/admin/users/7").await;
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.header("x-trail"),
        Some("audit"),
        "the outer middleware ran"
    );
    assert_eq!(refused.text().await, "log in first");

    let login = client.post("/login").await;
    assert_eq!(login.status(), 303);
    let cookie = Cookie::parse(login.header("set-cookie").unwrap().to_owned()).unwrap();

    let home = client
        .get("/admin")
        .cookie(cookie.name(), cookie.value())
        .await;
    assert_eq!(home.status(), 200);
    assert_eq!(home.text().await, "admin home of alice");
    let user = client
        .post("/admin/users/7")
        .cookie("session", "alice")
        .await;
    assert_eq!(user.status(), 200);
    assert_eq!(user.header("x-trail"), Some("audit"));
    assert_eq!(user.text().await, "user 7 seen by alice");
}

#[tokio::test]
async fn an_inner_group_runs_the_outer_middlewares_first() {
    let client = TestClient::new(app());
    assert_eq!(client.get("/admin/billing/invoices").await.status(), 401);
    let invoices = client
        .get("/admin/billing/invoices")
        .cookie("session", "alice")
        .await;
    assert_eq!(invoices.status(), 200);
    assert_eq!(invoices.header("x-trail"), Some("audit>billing"));
    assert_eq!(invoices.text().await, "invoices");
}

#[tokio::test]
async fn a_service_mounted_in_the_group_is_behind_its_middlewares() {
    let client = TestClient::new(app());
    let refused = client.get("/admin/files/report.pdf").await;
    assert_eq!(refused.status(), 401);
    let file = client
        .get("/admin/files/report.pdf")
        .cookie("session", "alice")
        .await;
    assert_eq!(file.status(), 200);
    assert_eq!(file.header("x-trail"), Some("audit"));
    assert_eq!(file.text().await, "file /report.pdf");
}

#[tokio::test]
async fn routes_outside_the_group_are_untouched() {
    let client = TestClient::new(app());
    for (path, body) in [
        ("/public", "public for nobody"),
        ("/administrators", "a list anyone may see"),
    ] {
        let response = client.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.header("x-trail").is_none(),
            "{path}: no group middleware"
        );
        assert_eq!(response.text().await, body);
    }
}

// Without a login, an unknown path under the prefix is still a 404 and a known one with
// another method a 405: the group's middlewares run only for its routes.
#[tokio::test]
async fn not_found_and_method_not_allowed_are_as_without_groups() {
    let client = TestClient::new(app());
    let missing = client.get("/admin/nothing-here").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.header("x-trail").is_none());
    let not_a_number = client.get("/admin/users/bob").await;
    assert_eq!(not_a_number.status(), 404);
    let wrong_method = client.delete("/admin/users/7").await;
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(
        wrong_method.header("allow"),
        Some("GET, POST, HEAD, OPTIONS")
    );
    let head = client.head("/admin").await;
    assert_eq!(
        head.status(),
        401,
        "HEAD is served by the GET route, inside the group"
    );
}

/// Runs `register`, which must panic; returns the line the panic points at and its message.
fn caught(register: impl FnOnce()) -> (u32, String) {
    let location = std::sync::Arc::new(std::sync::Mutex::new(None));
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
        .unwrap_or_default();
    let (file, line) = location.lock().unwrap().take().unwrap();
    assert_eq!(
        file,
        file!(),
        "the panic points into the test, not the crate: {message}"
    );
    (line, message)
}

async fn noop(_req: HttpRequest) -> impl IntoResponse {}

// One test: the panic hook is global.
#[test]
fn misuse_is_refused_at_registration_naming_the_problem_and_the_callers_line() {
    let mut app = Application::new();
    let router = &mut app.http_router;

    let line = line!() + 1;
    let (at, message) = caught(|| drop(router.group("/admin/")));
    assert_eq!(at, line);
    assert!(
        message.contains("\"/admin/\"") && message.contains("must not end with '/'"),
        "{message}"
    );

    let line = line!() + 1;
    let (at, message) = caught(|| drop(router.group("/files/{rest:path}")));
    assert_eq!(at, line);
    assert!(message.contains("{name:path}"), "{message}");

    let line = line!() + 2;
    let (at, message) = caught(|| {
        router.group("/admin").add("GET", "users", noop);
    });
    assert_eq!(at, line);
    assert!(
        message.contains("\"/adminusers\"") && message.contains("must start with '/'"),
        "{message}"
    );

    let mut admin = router.group("/admin");
    admin.add("GET", "/users", noop);
    let line = line!() + 2;
    let (at, message) = caught(|| {
        admin.middleware(require_login);
    });
    assert_eq!(at, line);
    assert!(
        message.contains("\"/admin\"") && message.contains("after its routes"),
        "{message}"
    );

    let line = line!() + 2;
    let (at, message) = caught(|| {
        admin.add("GET", "/users", noop);
    });
    assert_eq!(at, line);
    assert!(
        message.contains("conflicts with GET \"/admin/users\""),
        "{message}"
    );
}
