//! "Hello, World!" as `text/plain` at `/`.
//!
//! ```text
//! cargo run --release --example hello        # PORT=8000 by default
//! curl http://localhost:8000/
//! ```

use bareasgi::{Application, HttpRequest, IntoResponse};

#[path = "support/serve.rs"]
mod serve;

async fn hello(_req: HttpRequest) -> impl IntoResponse {
    (200, [("content-type", "text/plain")], "Hello, World!")
}

#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", hello);
    serve::serve(app, 8000, "").await
}
