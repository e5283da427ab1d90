//! The responses people expect (issue 20, item 9), each checked over a real socket:
//! `Html`, `Redirect`, the `HttpError` constructors, a cookie on any response shape, and
//! `add` with a single method.

use std::time::Duration;

use bareasgi::cookie::Cookie;
use bareasgi::http::Method;
use bareasgi::test::TestClient;
use bareasgi::{Application, Html, HttpError, HttpRequest, IntoResponse, Redirect};

fn app() -> Application {
    let mut app = Application::new();
    // One method as a plain `&str` or `Method`, no array needed.
    app.http_router
        .add("GET", "/html", |_req: HttpRequest| async {
            Html("<h1>hi</h1>")
        });
    app.http_router.add(
        Method::GET,
        "/html/missing",
        |req: HttpRequest| async move { (404, Html(format!("<p>nothing at {}</p>", req.path()))) },
    );
    app.http_router
        .add("GET", "/html/cached", |_req: HttpRequest| async {
            (
                200,
                [("cache-control", "max-age=60")],
                Html(String::from("<p>cached</p>")),
            )
        });
    app.http_router
        .add("GET", "/to", |_req: HttpRequest| async {
            Redirect::to("/a")
        });
    app.http_router
        .add("GET", "/permanent", |_req: HttpRequest| async {
            Redirect::permanent("/b")
        });
    app.http_router
        .add("POST", "/login", |_req: HttpRequest| async {
            let session = Cookie::build(("session", "abc")).http_only(true).path("/");
            Redirect::see_other("/admin").with_cookie(session)
        });
    app.http_router
        .add("GET", "/bad-redirect", |_req: HttpRequest| async {
            Redirect::to("/next\r\nset-cookie: injected=1")
        });
    app.http_router
        .add("GET", "/tuple-cookie", |_req: HttpRequest| async {
            (201, [("x-kept", "yes")], "made")
                .with_cookie(("theme", "dark"))
                .with_cookie(Cookie::new("lang", "en"))
        });
    app.http_router
        .add("GET", "/error/{code:int}", |req: HttpRequest| async move {
            let wait = Duration::from_millis(2500);
            Err::<(), _>(match req.matches.parse::<u16>("code").unwrap() {
                409 => HttpError::conflict("name taken"),
                413 => HttpError::payload_too_large("too big"),
                415 => HttpError::unsupported_media_type("send JSON"),
                422 => HttpError::unprocessable_entity("age must be positive"),
                429 => HttpError::too_many_requests("slow down").retry_after(wait),
                503 => {
                    HttpError::service_unavailable("db down").retry_after(Duration::from_secs(5))
                }
                _ => HttpError::bad_request("unknown"),
            })
        });
    app
}

#[tokio::test]
async fn html_is_text_html_with_its_status() {
    let client = TestClient::new(app());
    let page = client.get("/html").await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.text().await, "<h1>hi</h1>");

    let missing = client.get("/html/missing").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(missing.text().await, "<p>nothing at /html/missing</p>");

    let cached = client.get("/html/cached").await;
    assert_eq!(cached.header("cache-control"), Some("max-age=60"));
    assert_eq!(
        cached.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(cached.text().await, "<p>cached</p>");
}

#[tokio::test]
async fn redirects_carry_their_status_and_location() {
    let client = TestClient::new(app());
    for (path, method, status, location) in [
        ("/to", Method::GET, 307, "/a"),
        ("/permanent", Method::GET, 308, "/b"),
        ("/login", Method::POST, 303, "/admin"),
    ] {
        let response = client.request(method, path).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(response.header("location"), Some(location), "{path}");
        assert_eq!(response.text().await, "", "{path}: a redirect has no body");
    }
}

#[tokio::test]
async fn a_redirect_keeps_a_cookie_added_to_it() {
    let client = TestClient::new(app());
    let response = client.post("/login").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.header("set-cookie"),
        Some("session=abc; HttpOnly; Path=/")
    );
}

// A target with a line break must never reach the wire (header injection): it is a 500.
#[tokio::test]
async fn a_redirect_target_that_is_not_header_text_is_a_500_not_an_injection() {
    let client = TestClient::new(app());
    let response = client.get("/bad-redirect").await;
    assert_eq!(response.status(), 500);
    assert!(response.header("location").is_none());
    assert!(response.header("set-cookie").is_none());
}

#[tokio::test]
async fn a_tuple_response_takes_cookies_and_keeps_its_own_headers() {
    let client = TestClient::new(app());
    let response = client.get("/tuple-cookie").await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.header("x-kept"), Some("yes"));
    let cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(cookies, ["theme=dark", "lang=en"]);
    assert_eq!(response.text().await, "made");
}

#[tokio::test]
async fn each_error_constructor_answers_its_status_and_message() {
    let client = TestClient::new(app());
    for (code, message) in [
        (409, "name taken"),
        (413, "too big"),
        (415, "send JSON"),
        (422, "age must be positive"),
        (429, "slow down"),
        (503, "db down"),
    ] {
        let response = client.get(&format!("/error/{code}")).await;
        assert_eq!(response.status(), code);
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        let retry_after = response.header("retry-after").map(str::to_owned);
        assert_eq!(response.text().await, message);
        let expected = match code {
            429 => Some("3"), // 2.5 s rounded up: never invite a client back early
            503 => Some("5"),
            _ => None,
        };
        assert_eq!(retry_after.as_deref(), expected, "{code}");
    }
}

#[tokio::test]
async fn a_single_method_route_still_answers_405_to_others() {
    let client = TestClient::new(app());
    let response = client.post("/html").await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("allow"), Some("GET, HEAD, OPTIONS"));
}
