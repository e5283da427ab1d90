//! axum 0.8 on the same hyper: `axum_server [PORT] [--layers]`. The router holds the same
//! 1,000 extra routes as bareasgi's; served by `axum::serve` with `TCP_NODELAY`, as bareasgi
//! does. `--layers` wraps it in the CORS and compression layers (see the crate docs).

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;
use bareasgi_bench_servers::{
    CHUNKS, HELLO, axum_pattern, chunk, compression, cors, extra_routes, layers, port,
};
use futures_util::stream;
use tokio::net::TcpListener;

const TEXT: [(axum::http::HeaderName, HeaderValue); 1] =
    [(CONTENT_TYPE, HeaderValue::from_static("text/plain"))];

async fn hello() -> impl IntoResponse {
    (TEXT, HELLO)
}

async fn user_post(Path((id, slug)): Path<(i64, String)>) -> impl IntoResponse {
    (TEXT, format!("user {id} post {slug}"))
}

async fn chunks() -> impl IntoResponse {
    let chunks = stream::iter((0..CHUNKS).map(|_| Ok::<_, Infallible>(chunk())));
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        Body::from_stream(chunks),
    )
}

async fn filler() -> &'static str {
    "filler"
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut app = Router::new()
        .route("/", get(hello))
        .route("/users/{id}/posts/{slug}", get(user_post))
        .route("/stream", get(chunks));
    for pattern in extra_routes() {
        app = app.route(&axum_pattern(&pattern), get(filler));
    }
    if layers() {
        // As `ServiceBuilder` (and `app.layer` in bareasgi) order them: CORS outermost.
        app = app.layer(
            tower::ServiceBuilder::new()
                .layer(cors())
                .layer(compression()),
        );
    }
    let listener = TcpListener::bind(("127.0.0.1", port()))
        .await?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    axum::serve(listener, app).await
}
