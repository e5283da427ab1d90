//! bareasgi: `bareasgi_server [PORT] [--tls CERT KEY] [--layers] [--metrics]`. The router holds 1,000
//! extra routes besides the three endpoints; served by `Application::serve` (or, with
//! `--tls`, `Application::serve_tls`) with its default limits. `--layers` wraps it in the
//! CORS and compression layers (see the crate docs). A diagnostic: with
//! `BAREASGI_H2_KEEP_ALIVE=0` in the environment, no HTTP/2 keep-alive pings (the default
//! sends one after 30 s without a frame from the client; hyper then reads the clock and
//! takes a lock for every frame it receives), to measure what they cost per request.

use bareasgi::tls::TlsConfig;
use bareasgi::{Application, Body, HttpRequest, IntoResponse};
use bareasgi_bench_servers::{
    CHUNKS, HELLO, chunk, compression, cors, extra_routes, layers, port, tls_paths,
};
use futures_util::stream;

async fn hello(_req: HttpRequest) -> impl IntoResponse {
    (200, [("content-type", "text/plain")], HELLO)
}

async fn user_post(req: HttpRequest) -> impl IntoResponse {
    let id: i64 = req.matches.parse("id").unwrap_or_default(); // checked by the router
    let slug = req.matches.get("slug").unwrap_or_default();
    (
        200,
        [("content-type", "text/plain")],
        format!("user {id} post {slug}"),
    )
}

async fn chunks(_req: HttpRequest) -> impl IntoResponse {
    let chunks = stream::iter((0..CHUNKS).map(|_| chunk()));
    (
        200,
        [("content-type", "application/octet-stream")],
        Body::from_stream(chunks),
    )
}

async fn filler(_req: HttpRequest) -> &'static str {
    "filler"
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), bareasgi::Error> {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", hello);
    app.http_router
        .add(["GET"], "/users/{id:int}/posts/{slug}", user_post);
    app.http_router.add(["GET"], "/stream", chunks);
    for pattern in extra_routes() {
        app.http_router.add(["GET"], &pattern, filler);
    }
    if layers() {
        app.layer(cors()).layer(compression());
    }
    // Built with the `metrics` feature, `--metrics` records every request (and the
    // exposition is at /metrics); without the flag the hooks see metrics off.
    #[cfg(feature = "metrics")]
    if std::env::args().skip(2).any(|arg| arg == "--metrics") {
        app.metrics();
        app.http_router
            .add(["GET"], "/metrics", bareasgi::metrics::handler());
    }
    if std::env::var("BAREASGI_H2_KEEP_ALIVE").is_ok_and(|value| value == "0") {
        app.http2_keep_alive_interval(None);
    }
    let addr = format!("127.0.0.1:{}", port());
    match tls_paths() {
        Some((cert, key)) => {
            app.serve_tls(addr, TlsConfig::from_pem_files(cert, key)?)
                .await
        }
        None => app.serve(addr).await,
    }
}
