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
