//! Server-sent events written by hand: any `Stream` of bytes is a streaming body, and each
//! chunk goes out the moment it is yielded. (`sse_clock` does the same with the `sse`
//! module, which also handles keep-alive, shutdown and field validation.)
//!
//! ```text
//! cargo run --example sse_bytes              # PORT=9010 by default
//! curl -N http://localhost:9010/events
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bareasgi::{Application, Body, HttpRequest, IntoResponse};
use futures_util::stream;

#[path = "support/serve.rs"]
mod serve;

async fn events(_req: HttpRequest) -> impl IntoResponse {
    let chunks = stream::unfold(0u64, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        Some((format!("id: {n}\ndata: {now:.3}\n\n"), n + 1))
    });
    let headers = [
        ("content-type", "text/event-stream"),
        ("cache-control", "no-cache"),
    ];
    (200, headers, Body::from_stream(chunks))
}

#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/events", events);
    serve::serve(app, 9010, "/events").await
}
