//! Cookies through a served application (via `TestClient`): reading what the client sends,
//! one `set-cookie` per cookie, and signed and private cookies that survive the round trip
//! but not tampering.

use bareasgi::cookie::{Cookie, Key, SameSite};
use bareasgi::http::StatusCode;
use bareasgi::test::TestClient;
use bareasgi::{Application, HttpRequest, HttpResponse};

struct Secret(Key);

fn key(req: &HttpRequest) -> &Key {
    &req.info.get::<Secret>().unwrap().0
}

/// A session counter in a signed cookie, and a private note.
async fn visit(req: HttpRequest) -> HttpResponse {
    let seen: u64 = req
        .signed_cookie("visits", key(&req))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let note = req.private_cookie("note", key(&req)).unwrap_or_default();
    let mut response =
        HttpResponse::text(StatusCode::OK, format!("visit {} note {note:?}", seen + 1));
    response.set_signed_cookie(
        Cookie::build(("visits", (seen + 1).to_string()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax),
        key(&req),
    );
    response.set_private_cookie(("note", "for the server only"), key(&req));
    response
}

async fn list(req: HttpRequest) -> String {
    let all: Vec<String> = req
        .cookies()
        .map(|cookie| format!("{}={}", cookie.name(), cookie.value()))
        .collect();
    format!(
        "{} | theme={}",
        all.join(","),
        req.cookie("theme").unwrap_or("-")
    )
}

fn app() -> Application {
    let mut app = Application::new();
    app.info.insert(Secret(Key::generate()));
    app.http_router.add(["GET"], "/visit", visit);
    app.http_router.add(["GET"], "/list", list);
    app.http_router
        .add(["GET"], "/whoami", |req: HttpRequest| async move {
            match req.signed_cookie("user", key(&req)) {
                Some(user) => format!("user {user}"),
                None => "anonymous".to_owned(),
            }
        });
    app.http_router
        .add(["GET"], "/several", |_req: HttpRequest| async {
            HttpResponse::text(StatusCode::OK, "set")
                .with_cookie(("a", "1"))
                .with_cookie(("b", "2"))
                .with_cookie(Cookie::build(("c", "3")).secure(true))
        });
    app.http_router
        .add(["GET"], "/bad", |_req: HttpRequest| async {
            HttpResponse::default().with_cookie(("name", "has spaces; and=more"))
        });
    app.http_router
        .add(["GET"], "/logout", |_req: HttpRequest| async {
            let mut response = HttpResponse::text(StatusCode::OK, "bye");
            response.remove_cookie(Cookie::build("visits").path("/"));
            response
        });
    app
}

#[tokio::test]
async fn cookies_the_client_sends_are_read_by_name_and_all_together() {
    let client = TestClient::new(app());
    let response = client
        .get("/list")
        .cookie("theme", "dark")
        .cookie("lang", "en")
        .await;
    assert_eq!(response.text().await, "theme=dark,lang=en | theme=dark");
    let none = client.get("/list").await.text().await;
    assert_eq!(none, " | theme=-");
}

#[tokio::test]
async fn each_cookie_is_its_own_set_cookie_header() {
    let client = TestClient::new(app());
    let response = client.get("/several").await;
    let values: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(values, ["a=1", "b=2", "c=3; Secure"]);
    assert_eq!(response.cookie("b").unwrap().value(), "2");
}

#[tokio::test]
async fn a_signed_counter_and_a_private_note_round_trip() {
    let client = TestClient::new(app());
    let first = client.get("/visit").await;
    let visits = first.cookie("visits").unwrap();
    let note = first.cookie("note").unwrap();
    assert_eq!(visits.http_only(), Some(true));
    assert_eq!(visits.same_site(), Some(SameSite::Lax));
    assert!(
        visits.value().ends_with('1'),
        "signed, still readable: {visits}"
    );
    assert!(!note.value().contains("server"), "private: {note}");
    assert_eq!(first.text().await, "visit 1 note \"\"");

    let second = client
        .get("/visit")
        .cookie("visits", visits.value())
        .cookie("note", note.value())
        .await;
    let again = second.cookie("visits").unwrap();
    assert_eq!(second.text().await, "visit 2 note \"for the server only\"");

    // A client that edits the signed value, or the encrypted one, is not believed.
    let forged = again.value().replace("2", "99");
    let tampered = client
        .get("/visit")
        .cookie("visits", &forged)
        .cookie("note", &note.value()[1..])
        .await;
    assert_eq!(tampered.text().await, "visit 1 note \"\"");
}

#[tokio::test]
async fn a_cookie_that_cannot_be_sent_is_a_500_and_removal_expires_it() {
    let client = TestClient::new(app());
    let bad = client.get("/bad").await;
    assert_eq!(bad.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(bad.headers().get("set-cookie").is_none());
    let logout = client.get("/logout").await;
    let removal = logout.cookie("visits").unwrap();
    assert_eq!(removal.value(), "");
    assert_eq!(
        removal.max_age(),
        Some(bareasgi::cookie::time::Duration::ZERO)
    );
}

// A WebSocket handshake carries the session cookie and, since a browser's
// `new WebSocket(url)` cannot add headers, options in the query string: the WebSocket
// request reads both as an HTTP request does.
#[cfg(all(feature = "ws", feature = "query"))]
#[tokio::test]
async fn a_websocket_handler_reads_cookies_and_the_query_like_an_http_handler() {
    use bareasgi::ws::{WebSocket, WebSocketError, WebSocketRequest};

    #[derive(serde::Deserialize)]
    struct Options {
        room: String,
    }

    let mut app = app();
    app.ws_router.add(
        "/ws",
        |req: WebSocketRequest, mut ws: WebSocket| async move {
            let options: Options = match req.query_as() {
                Ok(options) => options,
                Err(error) => return ws.reject(error),
            };
            let key = &req.info.get::<Secret>().unwrap().0;
            let note = req.private_cookie("note", key).unwrap_or_default();
            let visits = req.signed_cookie("visits", key).unwrap_or_default();
            let names: Vec<_> = req.cookies().map(|c| c.name().to_owned()).collect();
            ws.accept(None, ()).await?;
            ws.send(format!("{} {note} {visits} {names:?}", options.room))
                .await?;
            Ok::<_, WebSocketError>(())
        },
    );
    let client = TestClient::new(app);
    let first = client.get("/visit").await;
    let (visits, note) = (
        first.cookie("visits").unwrap(),
        first.cookie("note").unwrap(),
    );
    let cookies = format!("visits={}; note={}", visits.value(), note.value());

    let mut ws = client
        .websocket("/ws?room=blue")
        .header("cookie", cookies)
        .await;
    assert_eq!(
        ws.receive().await.unwrap(),
        bareasgi::ws::Message::Text(r#"blue for the server only 1 ["visits", "note"]"#.into())
    );

    let refused = client.websocket("/ws").try_connect().await.unwrap_err();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.text().await,
        "invalid query string: missing field `room`"
    );
}

// Regression: the cookie crate's signed jar authenticates the value alone, so with one key
// for every signed cookie, the value the server signed as the visit counter verified as
// any other signed cookie too: sent as `user`, it made the client user 1.
#[tokio::test]
async fn a_signed_value_does_not_verify_under_another_name() {
    let client = TestClient::new(app());
    let visits = client.get("/visit").await.cookie("visits").unwrap();
    let moved = client.get("/whoami").cookie("user", visits.value()).await;
    assert_eq!(moved.text().await, "anonymous");
}
