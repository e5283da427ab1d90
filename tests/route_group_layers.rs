//! Tower layers on a route group (`RouteGroup::layer`), over a real socket: they run for
//! the group's routes only, may change the request on its way (its headers, its body's
//! type), and the handler still gets the route's captures, the app's info and the
//! middleware's context.

use std::time::{Duration, Instant};

use bareasgi::http::StatusCode;
use bareasgi::test::TestClient;
use bareasgi::{Application, HttpError, HttpRequest, HttpResponse, Next};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;

struct Greeting(&'static str);
struct Tag(&'static str);

async fn tag(mut req: HttpRequest, next: Next) -> HttpResponse {
    req.context.insert(Tag("tagged"));
    next.run(req).await
}

async fn slow(_req: HttpRequest) -> &'static str {
    tokio::time::sleep(Duration::from_secs(2)).await;
    "too late"
}

async fn show(mut req: HttpRequest) -> Result<String, HttpError> {
    let greeting = req.state::<Greeting>()?;
    let id: u32 = req.matches.parse("id")?;
    let request_id = req.headers()["x-request-id"].to_str().unwrap().len();
    let tag = req.context.get::<Tag>().map_or("none", |tag| tag.0);
    let body = req.text().await?;
    Ok(format!(
        "{} {id} {tag} id-len={request_id} body={body}",
        greeting.0
    ))
}

fn app() -> Application {
    let mut app = Application::new();
    app.info.insert(Greeting("hi"));
    app.http_router
        .group("/api")
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_millis(200),
        ))
        // Set (outer) before propagate (inner), which copies it into the response.
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(RequestBodyLimitLayer::new(16))
        .middleware(tag)
        .add(["GET", "POST"], "/items/{id:int}", show)
        .add("GET", "/slow", slow);
    app.http_router
        .add("GET", "/outside-slow", |_req: HttpRequest| async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            "outside the group, no timeout"
        });
    app
}

#[tokio::test]
async fn the_handler_sees_what_the_layers_changed_and_what_the_router_and_middleware_gave() {
    let client = TestClient::new(app());
    let response = client.post("/api/items/7").body("small").await;
    assert_eq!(response.status(), 200);
    // A UUID request id (36 characters) set by the layer; the captures, info and context
    // carried across the layers.
    assert_eq!(response.text().await, "hi 7 tagged id-len=36 body=small");
}

#[tokio::test]
async fn a_layer_that_changes_the_body_type_still_limits_it() {
    let client = TestClient::new(app());
    let response = client.post("/api/items/7").body("x".repeat(17)).await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_timeout_layer_cuts_the_groups_slow_route_but_not_one_outside() {
    let client = TestClient::new(app());
    let started = Instant::now();
    let response = client.get("/api/slow").await;
    assert_eq!(response.status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let outside = client.get("/outside-slow").await;
    assert_eq!(outside.status(), 200);
    assert_eq!(outside.text().await, "outside the group, no timeout");
}

#[tokio::test]
async fn not_found_and_method_not_allowed_do_not_go_through_the_layers() {
    let client = TestClient::new(app());
    let missing = client.get("/api/nothing").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.header("x-request-id").is_none());
    let wrong = client.delete("/api/items/7").await;
    assert_eq!(wrong.status(), 405);
    assert!(wrong.header("x-request-id").is_none());
    let found = client.get("/api/items/7").await;
    assert_eq!(found.status(), 200);
    assert_eq!(found.header("x-request-id").map(str::len), Some(36));
}

#[test]
fn a_layer_added_after_the_groups_routes_is_refused() {
    let mut app = Application::new();
    let mut group = app.http_router.group("/api");
    group.add("GET", "/a", show);
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        group.layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    }));
    let message = *refused.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("a layer was added to the route group \"/api\" after its routes"),
        "{message}"
    );
}
