//! "Hello, World!" as `text/plain` at `/`.
//!
//! ```text
//! cargo run --release --example hello        # PORT=8000 by default
//! curl http://localhost:8000/
//! ```

use bareasgi::{Application, HttpRequest, IntoResponse};

async fn hello(_req: HttpRequest) -> impl IntoResponse {
    (200, [("content-type", "text/plain")], "Hello, World!")
}

#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    // Log what the server does, and why a handler answered 500 (RUST_LOG=debug for more).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(8000);
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", hello);
    println!("Listening on http://localhost:{port}");
    app.serve(format!("127.0.0.1:{port}")).await
}
