//! Middleware: order, short-circuit, request and response rewriting, 404s, per-route chains.
#![cfg(feature = "test")]

mod common;

use std::sync::{Arc, Mutex};

use bareasgi::BoxFuture;
use bareasgi::test::TestClient;
use bareasgi::{
    Application, Body, HttpRequest, HttpResponse, Middleware, Next, make_middleware_chain,
};
use common::{TestServer, client};
use futures_util::TryStreamExt;
use http::StatusCode;

type Log = Arc<Mutex<Vec<String>>>;

/// A middleware as a struct: logs "<name> in" and "<name> out" around the rest of the chain.
struct Recorder {
    name: &'static str,
    log: Log,
}

impl Middleware for Recorder {
    fn call(&self, req: HttpRequest, next: Next) -> BoxFuture<'static, HttpResponse> {
        let (name, log) = (self.name, self.log.clone());
        Box::pin(async move {
            log.lock().unwrap().push(format!("{name} in"));
            let response = next.run(req).await;
            log.lock().unwrap().push(format!("{name} out"));
            response
        })
    }
}

fn recorder(name: &'static str, log: &Log) -> Recorder {
    Recorder {
        name,
        log: log.clone(),
    }
}

#[tokio::test]
async fn the_first_added_is_outermost_and_runs_for_404_too() {
    let log: Log = Arc::default();
    let mut app = Application::new();
    app.middleware(recorder("outer", &log))
        .middleware(recorder("inner", &log));
    let handler_log = log.clone();
    app.http_router.add(["GET"], "/", move |_req: HttpRequest| {
        handler_log.lock().unwrap().push("handler".into());
        async { "ok" }
    });
    let client = TestClient::new(app);
    assert_eq!(client.get("/").await.status(), 200);
    assert_eq!(
        *log.lock().unwrap(),
        ["outer in", "inner in", "handler", "inner out", "outer out"]
    );
    log.lock().unwrap().clear();
    assert_eq!(client.get("/missing").await.status(), 404);
    assert_eq!(
        *log.lock().unwrap(),
        ["outer in", "inner in", "inner out", "outer out"]
    );
    log.lock().unwrap().clear();
    assert_eq!(client.delete("/").await.status(), 405);
    assert_eq!(log.lock().unwrap().len(), 4, "middlewares also see 405s");
}

async fn require_token(req: HttpRequest, next: Next) -> HttpResponse {
    match req.headers().get("authorization") {
        Some(token) if token == "Bearer sesame" => next.run(req).await,
        _ => HttpResponse::text(StatusCode::UNAUTHORIZED, "missing or wrong token"),
    }
}

#[tokio::test]
async fn a_middleware_can_answer_without_calling_next() {
    let called = Arc::new(Mutex::new(false));
    let flag = called.clone();
    let mut app = Application::new();
    app.middleware(require_token);
    app.http_router.add(["GET"], "/", move |_req: HttpRequest| {
        *flag.lock().unwrap() = true;
        async { "secret" }
    });
    let server = TestServer::start(app).await;
    let refused = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(!*called.lock().unwrap(), "the handler must not run");
    let allowed = client()
        .get(server.url("/"))
        .header("authorization", "Bearer sesame")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.text().await.unwrap(), "secret");
}

struct User(&'static str);

async fn authenticate(mut req: HttpRequest, next: Next) -> HttpResponse {
    req.context.insert(User("ada"));
    req.headers_mut()
        .insert("x-added-by-middleware", "yes".parse().unwrap());
    next.run(req).await
}

async fn rewrite_path(mut req: HttpRequest, next: Next) -> HttpResponse {
    if let Some(rest) = req.path().strip_prefix("/v1") {
        let uri = rest.parse().unwrap();
        req.parts_mut().uri = uri;
    }
    next.run(req).await
}

#[tokio::test]
async fn a_middleware_can_change_the_request_and_routing_sees_the_change() {
    let mut app = Application::new();
    app.middleware(rewrite_path).middleware(authenticate);
    app.http_router
        .add(["GET"], "/whoami", |req: HttpRequest| async move {
            let user = req.context.get::<User>().map_or("nobody", |user| user.0);
            let header = req.headers()["x-added-by-middleware"]
                .to_str()
                .unwrap()
                .to_owned();
            format!("{user} {header}")
        });
    let server = TestServer::start(app).await;
    assert_eq!(
        client()
            .get(server.url("/v1/whoami"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ada yes"
    );
}

async fn shout(req: HttpRequest, next: Next) -> HttpResponse {
    let mut response = next.run(req).await;
    response.status = StatusCode::ACCEPTED;
    response
        .headers
        .insert("x-shouted", "true".parse().unwrap());
    response.headers.remove("content-length");
    let body = std::mem::take(&mut response.body);
    response.body = Body::try_from_stream(body.map_ok(|chunk| chunk.to_ascii_uppercase()));
    response
}

#[tokio::test]
async fn a_middleware_can_change_status_headers_and_wrap_the_body_stream() {
    let mut app = Application::new();
    app.middleware(shout);
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async {
            Body::from_stream(futures_util::stream::iter(["quiet ", "words"]))
        });
    let server = TestServer::start(app).await;
    let response = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["x-shouted"], "true");
    assert_eq!(response.text().await.unwrap(), "QUIET WORDS");
}

#[tokio::test]
async fn a_per_route_chain_wraps_only_its_route() {
    let log: Log = Arc::default();
    let mut app = Application::new();
    let chain = make_middleware_chain(
        (recorder("first", &log), recorder("second", &log)),
        |_req: HttpRequest| async { "chained" },
    );
    app.http_router.add(["GET"], "/chained", chain);
    app.http_router
        .add(["GET"], "/plain", |_req: HttpRequest| async { "plain" });
    app.http_router.add(
        ["GET"],
        "/guarded",
        make_middleware_chain((require_token,), |_req: HttpRequest| async { "in" }),
    );
    let server = TestServer::start(app).await;
    assert_eq!(
        client()
            .get(server.url("/plain"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "plain"
    );
    assert!(log.lock().unwrap().is_empty());
    assert_eq!(
        client()
            .get(server.url("/chained"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "chained"
    );
    assert_eq!(
        *log.lock().unwrap(),
        ["first in", "second in", "second out", "first out"]
    );
    assert_eq!(
        client()
            .get(server.url("/guarded"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
