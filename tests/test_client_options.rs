//! TestClient's conveniences over a real socket: a multipart body builder, an opt-in
//! cookie jar, and HTTP/2 with prior knowledge.

use std::time::Duration;

use bareasgi::cookie::Cookie;
use bareasgi::http::Version;
use bareasgi::multipart::MultipartLimits;
use bareasgi::sse::{Event, EventStream};
use bareasgi::test::{MultipartForm, TestClient};
use bareasgi::{Application, HttpError, HttpRequest, HttpResponse, IntoResponse, Redirect};
use futures_util::{StreamExt, stream};

/// Lists each field as `name|file name|content type|length|sum of bytes`.
async fn describe(mut req: HttpRequest) -> Result<String, HttpError> {
    let mut form = req.multipart_with(MultipartLimits::new().field("small", 8))?;
    let mut lines = Vec::new();
    while let Some(field) = form.next_field().await? {
        let name = field.name().unwrap_or("").to_owned();
        let file = field.file_name().unwrap_or("-").to_owned();
        let kind = field
            .content_type()
            .map_or("-".to_owned(), ToString::to_string);
        let bytes = field.bytes().await?;
        let sum: u64 = bytes.iter().map(|&b| u64::from(b)).sum();
        lines.push(format!("{name}|{file}|{kind}|{}|{sum}", bytes.len()));
    }
    Ok(lines.join("\n"))
}

#[tokio::test]
async fn a_multipart_form_reaches_req_multipart_field_by_field() {
    let mut app = Application::new();
    app.http_router.add("POST", "/upload", describe);
    let client = TestClient::new(app);

    // A quote in a file name travels as %22, as browsers send it. Binary data holding what a careless encoder would take for a boundary or a head end.
    let mut data = b"--\r\n\r\n--boundary\r\n".to_vec();
    data.extend((0..=255u8).cycle().take(100_000));
    let sum: u64 = data.iter().map(|&b| u64::from(b)).sum();
    let title = "a \"quoted\" title";
    let form = MultipartForm::new()
        .text("title", title)
        .file(
            "photo",
            "beach \"1\".bin",
            "application/octet-stream",
            data.clone(),
        )
        .text("empty", "");
    let response = client.post("/upload").multipart(form).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await,
        format!(
            "title|-|-|{}|{}\nphoto|beach %221%22.bin|application/octet-stream|{}|{sum}\nempty|-|-|0|0",
            title.len(),
            title.bytes().map(u64::from).sum::<u64>(),
            data.len()
        )
    );
}

#[tokio::test]
async fn a_multipart_field_over_its_limit_is_a_413_that_says_too_large() {
    let mut app = Application::new();
    app.http_router.add("POST", "/upload", describe);
    let client = TestClient::new(app);
    let form = MultipartForm::new().text("small", "nine bytes");
    let response = client.post("/upload").multipart(form).await;
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.text().await,
        "multipart body too large: field \"small\" exceeded the size limit: 8 bytes"
    );
}

fn session_app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add("POST", "/login", |_req: HttpRequest| async {
            Redirect::see_other("/me")
                .with_cookie(
                    Cookie::build(("session", "alice"))
                        .path("/")
                        .http_only(true),
                )
                .with_cookie(Cookie::build(("admin-view", "tables")).path("/admin"))
        });
    app.http_router
        .add("POST", "/logout", |_req: HttpRequest| async {
            let mut response = HttpResponse::default();
            response.remove_cookie(Cookie::build("session").path("/"));
            response
        });
    let show = |req: HttpRequest| async move {
        let mut names: Vec<String> = req
            .cookies()
            .map(|cookie| format!("{}={}", cookie.name(), cookie.value()))
            .collect();
        names.sort();
        names.join("; ").into_response()
    };
    app.http_router.add("GET", "/me", show);
    app.http_router.add("GET", "/admin/page", show);
    app.http_router.add("GET", "/administrators", show);
    app
}

#[tokio::test]
async fn the_cookie_jar_keeps_what_responses_set_and_sends_it_back_by_path() {
    let client = TestClient::new(session_app()).with_cookie_jar();
    assert_eq!(client.get("/me").await.text().await, "");

    assert_eq!(client.post("/login").await.status(), 303);
    assert_eq!(client.cookie("session").as_deref(), Some("alice"));
    assert_eq!(client.get("/me").await.text().await, "session=alice");
    assert_eq!(
        client.get("/admin/page").await.text().await,
        "admin-view=tables; session=alice"
    );
    assert_eq!(
        client.get("/administrators").await.text().await,
        "session=alice",
        "/admin's cookie is not sent to /administrators"
    );
    // A cookie set by hand wins over the jar's.
    let by_hand = client.get("/me").cookie("session", "mallory").await;
    assert_eq!(by_hand.text().await, "session=mallory");

    // The removal (Max-Age=0, an expiry in the past) takes it out of the jar.
    client.post("/logout").await;
    assert_eq!(client.cookie("session"), None);
    assert_eq!(client.get("/me").await.text().await, "");
}

#[tokio::test]
async fn without_a_jar_no_cookie_is_kept() {
    let client = TestClient::new(session_app());
    let login = client.post("/login").await;
    assert_eq!(login.headers().get_all("set-cookie").iter().count(), 2);
    assert_eq!(client.cookie("session"), None);
    assert_eq!(client.get("/me").await.text().await, "");
}

#[tokio::test]
async fn http2_with_prior_knowledge_carries_requests_bodies_and_event_streams() {
    let mut app = Application::new();
    app.http_router
        .add("POST", "/echo", |mut req: HttpRequest| async move {
            let version = format!("{:?}", req.version());
            let text = req.text().await?;
            Ok::<_, HttpError>(format!(
                "{version} {} {text}",
                req.headers()["x-test"].to_str().unwrap()
            ))
        });
    app.http_router
        .add("GET", "/ticks", |_req: HttpRequest| async {
            let ticks = stream::iter(0..3u64).then(|n| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Event::data(format!("tick {n}")).id(n)
            });
            EventStream::new(ticks)
        });
    let client = TestClient::new(app).http2().with_cookie_jar();

    let echoed = client
        .post("/echo")
        .header("x-test", "yes")
        .body("over h2")
        .await;
    assert_eq!(echoed.version(), Version::HTTP_2);
    assert_eq!(echoed.status(), 200);
    assert_eq!(echoed.text().await, "HTTP/2.0 yes over h2");

    let ticks = client.get("/ticks").await;
    assert_eq!(ticks.version(), Version::HTTP_2);
    let events: Vec<_> = ticks.events().take(3).collect().await;
    let ids: Vec<&str> = events.iter().map(|event| event.id.as_str()).collect();
    assert_eq!(ids, ["0", "1", "2"]);
}

// The WebSocket handshake is a request like the others: a client with a jar logs in over
// HTTP and then opens the socket with its session.
#[tokio::test]
async fn a_websocket_handshake_carries_the_jars_cookies() {
    use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};

    async fn greet(req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
        let Some(user) = req.cookie("session").map(str::to_owned) else {
            return ws.reject((401, "log in first"));
        };
        ws.accept(None, ()).await?;
        ws.send(format!("hello {user}")).await
    }

    let mut app = session_app();
    app.ws_router.add("/ws", greet);
    let client = TestClient::new(app).with_cookie_jar();
    let refused = client.websocket("/ws").try_connect().await.unwrap_err();
    assert_eq!(refused.status(), 401);

    client.post("/login").await;
    let mut ws = client.websocket("/ws").await;
    assert_eq!(
        ws.receive().await.unwrap(),
        Message::Text("hello alice".into())
    );
}
