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
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(8000);
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", hello);
    println!("Listening on http://localhost:{port}");
    app.serve(format!("127.0.0.1:{port}")).await
}
