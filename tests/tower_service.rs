//! The application as a tower `Service`: called in-process with `ServiceExt::oneshot`
//! (with and without layers), and nested in axum with `nest_service`, served over a real
//! socket — axum's request body is not `Sync`, which the application must accept.

mod common;

use std::time::Duration;

use bareasgi::{Application, HttpRequest, IntoResponse};
use bytes::Bytes;
use common::client;
use http::Request;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ORIGIN};
use http_body_util::{BodyExt, Empty, Full};
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::cors::CorsLayer;

fn legacy_app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/hello", |_req| async { "hello from bareasgi" });
    app.http_router
        .add(["POST"], "/echo", |mut req: HttpRequest| async move {
            let path = req.path().to_owned();
            let body = req.text().await;
            body.map(|text| format!("{path}: {text}"))
        });
    app.http_router
        .add(["GET"], "/users/{id:int}", |req: HttpRequest| async move {
            let id: i64 = req.matches.parse("id").unwrap();
            (200, [("content-type", "text/plain")], format!("user {id}")).into_response()
        });
    app
}

#[tokio::test]
async fn oneshot_answers_in_process() {
    let response = legacy_app()
        .into_service()
        .oneshot(
            Request::get("/users/7")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "user 7"
    );

    let response = legacy_app()
        .into_service()
        .oneshot(
            Request::post("/echo")
                .body(Full::new(Bytes::from_static(b"in-process")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "/echo: in-process"
    );

    let missing = legacy_app()
        .into_service()
        .oneshot(Request::get("/nope").body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn oneshot_goes_through_the_layers() {
    let mut app = legacy_app();
    app.layer(CorsLayer::permissive());
    let response = app
        .into_service()
        .oneshot(
            Request::get("/hello")
                .header(ORIGIN, "https://example.com")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

/// The hyper `Service` impl stays, for servers built on hyper-util by hand.
#[tokio::test]
async fn the_hyper_service_impl_still_answers() {
    let service = legacy_app().into_service();
    let request = Request::get("/hello").body(Empty::<Bytes>::new()).unwrap();
    let response = hyper::service::Service::call(&service, request)
        .await
        .unwrap();
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "hello from bareasgi"
    );
}

#[tokio::test]
async fn axum_nest_service_of_the_app_answers_over_a_socket() {
    async fn native() -> &'static str {
        "hello from axum"
    }
    let router = axum::Router::new()
        .route("/", axum::routing::get(native))
        .nest_service("/legacy", legacy_app().into_service());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let url = |path: &str| format!("http://{addr}{path}");
    let client = client();

    let native = client.get(url("/")).send().await.unwrap();
    assert_eq!(native.text().await.unwrap(), "hello from axum");

    let hello = client.get(url("/legacy/hello")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
    assert_eq!(hello.text().await.unwrap(), "hello from bareasgi");

    let user = client.get(url("/legacy/users/42")).send().await.unwrap();
    assert_eq!(user.text().await.unwrap(), "user 42");

    // axum's body (not `Sync`) streams into the application's handler.
    let echo = client
        .post(url("/legacy/echo"))
        .body("posted through axum")
        .send()
        .await
        .unwrap();
    assert_eq!(echo.text().await.unwrap(), "/echo: posted through axum");

    let missing = client.get(url("/legacy/missing")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// The `TestClient` serves the application as `serve` does: through its layers.
#[cfg(feature = "test")]
#[tokio::test]
async fn the_test_client_goes_through_the_layers() {
    let mut app = legacy_app();
    app.layer(CorsLayer::permissive());
    let client = bareasgi::test::TestClient::new(app);
    let response = client
        .get("/hello")
        .header("origin", "https://example.com")
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    assert_eq!(response.text().await, "hello from bareasgi");
}
