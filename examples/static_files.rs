//! Static files beside routes: tower-http's `ServeDir` mounted at `/static`, a JSON route
//! and a server-sent event stream, the whole application behind CORS and compression layers.
//!
//! ```text
//! cargo run --example static_files           # PORT=9009 by default
//! ```
//! Open <http://localhost:9009>: the page loads `/static/app.js` and `/static/style.css`
//! (served with Range, ETag / 304 and HEAD by `ServeDir`, gzip-compressed by the
//! `CompressionLayer` for clients that accept it), which fetch `/api/greeting` and listen
//! to `/events`. The compression layer leaves `text/event-stream` alone, so each event
//! still arrives the moment it is produced.
//!
//! ```text
//! curl -i localhost:9009/static/style.css -H 'Range: bytes=0-15'     # 206
//! curl -i localhost:9009/static/app.js -H 'accept-encoding: gzip'    # content-encoding: gzip
//! curl -i -X OPTIONS localhost:9009/api/greeting \
//!     -H 'origin: https://example.com' -H 'access-control-request-method: GET'   # CORS preflight
//! ```

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, HttpRequest, IntoResponse, text_writer};
use futures_util::stream;
use http::Method;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::ServeDir;

const PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>Static files, routes and events</title>
    <link rel="stylesheet" href="/static/style.css">
  </head>
  <body>
    <h1 id="greeting">…</h1>
    <p>Server time: <span id="clock">waiting for the first event…</span></p>
    <script src="/static/app.js"></script>
  </body>
</html>
"#;

async fn index(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "text/html; charset=utf-8")],
        text_writer(PAGE),
    )
}

async fn greeting(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "application/json")],
        r#"{"greeting":"Hello from a bareasgi route, through tower-http's layers"}"#,
    )
}

async fn events(_req: HttpRequest) -> EventStream {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ticks = stream::unfold(interval, |mut interval| async move {
        interval.tick().await;
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let time = format!(
            "{:02}:{:02}:{:02} UTC",
            seconds / 3600 % 24,
            seconds / 60 % 60,
            seconds % 60
        );
        Some((Event::data(time), interval))
    });
    EventStream::new(ticks)
}

/// The application, serving the files of `dir` under `/static`; shared with its test.
pub fn app(dir: impl AsRef<Path>) -> Application {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", index);
    app.http_router.add(["GET"], "/api/greeting", greeting);
    app.http_router.add(["GET"], "/events", events);
    // `redirect_path_prefix`: ServeDir redirects `/static/dir` to `/static/dir/`, and must
    // know the prefix it is mounted at to say so.
    app.http_router.mount(
        "/static",
        ServeDir::new(dir).redirect_path_prefix("/static"),
    );
    // The first layer added is the outermost: CORS sees every request first, then
    // compression, then the routes (and the mounted ServeDir).
    app.layer(
        CorsLayer::new()
            .allow_origin(Any)
            .allow_methods([Method::GET]),
    )
    .layer(CompressionLayer::new());
    app
}

/// The directory this example serves: `examples/static`.
pub fn static_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/static")
}

#[allow(dead_code)] // the test includes this file for `app` alone
#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "9009".into());
    app(static_dir()).serve(format!("127.0.0.1:{port}")).await
}
