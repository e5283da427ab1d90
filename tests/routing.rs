//! Routing over a real socket: precedence, 404, 405 with Allow, HEAD, OPTIONS,
//! percent-decoding, typed captures, trailing slashes.

mod common;

use bareasgi::{Application, HttpRequest};
use common::{TestServer, client, raw, status_of};
use reqwest::Method;

/// Answers with the pattern that matched and the captures, so a test sees which route won.
fn echo(pattern: &'static str) -> impl Fn(HttpRequest) -> std::future::Ready<String> + Clone {
    move |req: HttpRequest| {
        let captures: Vec<String> = req
            .matches
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        std::future::ready(
            format!("{pattern} {}", captures.join(" "))
                .trim_end()
                .to_owned(),
        )
    }
}

fn app_with(patterns: &[&'static str]) -> Application {
    let mut app = Application::new();
    for pattern in patterns {
        app.http_router.add(["GET"], pattern, echo(pattern));
    }
    app
}

async fn get(server: &TestServer, path: &str) -> (u16, String) {
    let response = client().get(server.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn precedence_does_not_depend_on_the_order_of_add() {
    let patterns = [
        "/items/{rest:path}",
        "/items/{name}",
        "/items/{price:float}",
        "/items/{id:int}",
        "/items/new",
    ];
    let reversed: Vec<_> = patterns.iter().rev().copied().collect();
    for order in [patterns.to_vec(), reversed] {
        let server = TestServer::start(app_with(&order)).await;
        assert_eq!(get(&server, "/items/new").await.1, "/items/new");
        assert_eq!(get(&server, "/items/42").await.1, "/items/{id:int} id=42");
        assert_eq!(get(&server, "/items/-3").await.1, "/items/{id:int} id=-3");
        assert_eq!(
            get(&server, "/items/4.5").await.1,
            "/items/{price:float} price=4.5"
        );
        assert_eq!(
            get(&server, "/items/pear").await.1,
            "/items/{name} name=pear"
        );
        assert_eq!(
            get(&server, "/items/a/b").await.1,
            "/items/{rest:path} rest=a/b"
        );
    }
}

#[tokio::test]
async fn typed_captures_reject_what_they_cannot_parse() {
    let server = TestServer::start(app_with(&["/users/{id:int}", "/price/{p:float}"])).await;
    assert_eq!(
        get(&server, "/users/17").await,
        (200, "/users/{id:int} id=17".into())
    );
    assert_eq!(get(&server, "/users/bob").await.0, 404);
    assert_eq!(get(&server, "/users/1.5").await.0, 404);
    assert_eq!(get(&server, "/users/99999999999999999999").await.0, 404);
    assert_eq!(get(&server, "/price/2.5").await.0, 200);
    assert_eq!(get(&server, "/price/inf").await.0, 404);
    assert_eq!(get(&server, "/price/abc").await.0, 404);
}

#[tokio::test]
async fn matches_give_raw_text_and_parsed_values() {
    let mut app = Application::new();
    app.http_router.add(
        ["GET"],
        "/users/{id:int}/posts/{slug}",
        |req: HttpRequest| async move {
            let id: i64 = req.matches.parse("id").unwrap();
            let slug = req.matches.get("slug").unwrap().to_owned();
            let missing = req.matches.parse::<i64>("nope").unwrap_err().to_string();
            format!("{} {slug} {missing}", id * 2)
        },
    );
    let server = TestServer::start(app).await;
    assert_eq!(
        get(&server, "/users/21/posts/hello").await.1,
        "42 hello the route has no capture named \"nope\""
    );
}

#[tokio::test]
async fn str_and_path_captures_take_what_they_should() {
    let server = TestServer::start(app_with(&["/a/{x}", "/ui/{rest:path}"])).await;
    assert_eq!(
        get(&server, "/a/").await.0,
        404,
        "{{x}} needs a non-empty segment"
    );
    assert_eq!(get(&server, "/a/b/c").await.0, 404, "{{x}} is one segment");
    assert_eq!(get(&server, "/ui/").await.1, "/ui/{rest:path} rest=");
    assert_eq!(
        get(&server, "/ui/js/app.js").await.1,
        "/ui/{rest:path} rest=js/app.js"
    );
    assert_eq!(get(&server, "/ui").await.0, 404);
}

#[tokio::test]
async fn captures_are_percent_decoded() {
    let server = TestServer::start(app_with(&["/hello/{name}", "/files/{rest:path}"])).await;
    assert_eq!(
        get(&server, "/hello/J%C3%BCrgen%20M").await.1,
        "/hello/{name} name=Jürgen M"
    );
    assert_eq!(
        get(&server, "/files/a%20b/c%25d").await.1,
        "/files/{rest:path} rest=a b/c%d"
    );
}

#[tokio::test]
async fn invalid_utf8_and_unsafe_paths_are_400_not_a_panic() {
    let server = TestServer::start(app_with(&["/hello/{name}", "/files/{rest:path}"])).await;
    for path in [
        "/hello/%FF%FE",
        "/hello/a%2Fb",
        "/files/../secret",
        "/files/%2E%2E/secret",
        "/hello/%00",
    ] {
        let reply = raw(
            server.addr,
            format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(status_of(&reply), 400, "{path}: {reply}");
    }
    // And the server still answers.
    assert_eq!(get(&server, "/hello/ok").await.0, 200);
}

#[tokio::test]
async fn trailing_slash_is_significant() {
    let server = TestServer::start(app_with(&["/users", "/teams/"])).await;
    assert_eq!(get(&server, "/users").await.0, 200);
    assert_eq!(get(&server, "/users/").await.0, 404);
    assert_eq!(get(&server, "/teams/").await.0, 200);
    assert_eq!(get(&server, "/teams").await.0, 404);
}

#[tokio::test]
async fn unknown_path_is_404() {
    let server = TestServer::start(app_with(&["/"])).await;
    let response = client().get(server.url("/missing")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), "Not Found");
}

#[tokio::test]
async fn known_path_other_method_is_405_with_allow() {
    let mut app = Application::new();
    app.http_router
        .add(["GET", "POST"], "/things", echo("/things"));
    app.http_router.add(["PURGE"], "/cache", echo("/cache"));
    let server = TestServer::start(app).await;
    let response = client().delete(server.url("/things")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, POST, HEAD, OPTIONS");
    let purge = Method::from_bytes(b"PURGE").unwrap();
    assert_eq!(
        client()
            .request(purge, server.url("/cache"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client()
            .post(server.url("/cache"))
            .send()
            .await
            .unwrap()
            .headers()["allow"],
        "PURGE, OPTIONS"
    );
}

#[tokio::test]
async fn head_is_answered_by_get_without_a_body() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/page", |_req| async { "thirteen char" });
    let server = TestServer::start(app).await;
    let reply = raw(
        server.addr,
        b"HEAD /page HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&reply), 200);
    assert!(reply.contains("content-length: 13\r\n"), "{reply}");
    assert!(
        reply.ends_with("\r\n\r\n"),
        "HEAD must not carry a body: {reply:?}"
    );
}

#[tokio::test]
async fn options_is_204_with_allow_unless_a_handler_takes_it() {
    let mut app = Application::new();
    app.http_router.add(["GET", "PUT"], "/auto", echo("/auto"));
    app.http_router.add(["GET"], "/custom", echo("/custom"));
    app.http_router.add(["OPTIONS"], "/custom", |_req| async {
        (200, [("access-control-allow-origin", "*")], "")
    });
    let server = TestServer::start(app).await;
    let auto = client()
        .request(Method::OPTIONS, server.url("/auto"))
        .send()
        .await
        .unwrap();
    assert_eq!(auto.status(), 204);
    assert_eq!(auto.headers()["allow"], "GET, PUT, HEAD, OPTIONS");
    let custom = client()
        .request(Method::OPTIONS, server.url("/custom"))
        .send()
        .await
        .unwrap();
    assert_eq!(custom.status(), 200);
    assert_eq!(custom.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        client()
            .request(Method::OPTIONS, server.url("/none"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn a_thousand_routes_all_resolve() {
    let mut app = Application::new();
    for n in 0..1000 {
        app.http_router.add(
            ["GET"],
            &format!("/r{n}/{{id:int}}"),
            |req: HttpRequest| async move { req.path().to_owned() },
        );
    }
    let server = TestServer::start(app).await;
    for n in [0, 499, 999] {
        assert_eq!(
            get(&server, &format!("/r{n}/7")).await,
            (200, format!("/r{n}/7"))
        );
    }
}
