//! What the three benchmark servers share: the endpoints' fixed content, the route table
//! and the command line.
//!
//! Every server serves, on a current-thread tokio runtime (the load script pins each
//! server to one core, so one thread is the fair setting for all of them):
//!
//! - `GET /` — `Hello, World!` as `text/plain`, with a content-length;
//! - `GET /users/{id:int}/posts/{slug}` — `user {id} post {slug}` as `text/plain`, the
//!   `id` parsed as an `i64` and the slug percent-decoded;
//! - `GET /stream` — 1 MiB as 64 chunks of 16 KiB, `application/octet-stream`, streamed
//!   (chunked, no content-length);
//!
//! and the routers of axum and bareasgi hold [`ROUTES`] more routes besides.
//!
//! With `--layers` (axum and bareasgi), the whole application is wrapped in tower-http's
//! `CorsLayer::permissive()` (outermost) and `CompressionLayer::new()`, the same stack for
//! both: the "hello world through CorsLayer + CompressionLayer" row of the load benchmark.

use bytes::Bytes;

pub mod streams;

/// The body of `GET /`.
pub const HELLO: &str = "Hello, World!";

/// The size of one chunk of `GET /stream`.
pub const CHUNK_SIZE: usize = 16 * 1024;

/// The number of chunks of `GET /stream`: 1 MiB in all.
pub const CHUNKS: usize = 64;

static CHUNK: [u8; CHUNK_SIZE] = [b'x'; CHUNK_SIZE];

/// One chunk of `GET /stream`, without copying.
#[must_use]
pub fn chunk() -> Bytes {
    Bytes::from_static(&CHUNK)
}

/// How many routes the framework servers register besides their three endpoints.
pub const ROUTES: usize = 1_000;

/// The extra routes, as bareASGI patterns: neighbours of the captures route
/// (`/users/me/settings`, `/users/{id:int}/posts`...) and then resources shaped like a
/// real API, one literal prefix each with eight routes under it.
#[must_use]
pub fn extra_routes() -> Vec<String> {
    let neighbours = [
        "/users",
        "/users/me/settings",
        "/users/{id:int}",
        "/users/{id:int}/posts",
        "/assets/{rest:path}",
    ];
    let mut routes: Vec<String> = neighbours.iter().map(|route| (*route).to_owned()).collect();
    for k in 0..ROUTES - neighbours.len() {
        let r = k / 8;
        routes.push(match k % 8 {
            0 => format!("/res{r}"),
            1 => format!("/res{r}/{{id:int}}"),
            2 => format!("/res{r}/{{id:int}}/edit"),
            3 => format!("/res{r}/{{id:int}}/items/{{item}}"),
            4 => format!("/res{r}/search/{{term}}"),
            5 => format!("/res{r}/static/page"),
            6 => format!("/res{r}/{{id:int}}/items/{{item}}/history"),
            _ => format!("/res{r}/files/{{rest:path}}"),
        });
    }
    routes
}

/// A bareASGI pattern in axum's syntax: `{id:int}` becomes `{id}`, `{rest:path}` `{*rest}`.
#[must_use]
pub fn axum_pattern(pattern: &str) -> String {
    pattern
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(capture) => match capture.split_once(':') {
                    Some((name, "path")) => format!("{{*{name}}}"),
                    Some((name, _)) => format!("{{{name}}}"),
                    None => format!("{{{capture}}}"),
                },
                None => segment.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// The port from the first argument, 8000 without one.
///
/// # Panics
/// When the argument is not a port number.
#[must_use]
pub fn port() -> u16 {
    std::env::args()
        .nth(1)
        .map_or(8000, |port| port.parse().expect("usage: SERVER [PORT]"))
}

/// Whether `--layers` was given: wrap the application in [`cors`] and [`compression`].
#[must_use]
pub fn layers() -> bool {
    std::env::args().skip(2).any(|arg| arg == "--layers")
}

/// The outer layer of the `--layers` stack.
pub fn cors() -> tower_http::cors::CorsLayer {
    tower_http::cors::CorsLayer::permissive()
}

/// The inner layer of the `--layers` stack.
#[must_use]
pub fn compression() -> tower_http::compression::CompressionLayer {
    tower_http::compression::CompressionLayer::new()
}

/// `--tls CERT KEY` from the arguments: serve HTTPS with that PEM certificate and key.
///
/// # Panics
/// When `--tls` is not followed by two paths.
#[must_use]
pub fn tls_paths() -> Option<(String, String)> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == "--tls")?;
    match (args.get(at + 1), args.get(at + 2)) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => panic!("usage: SERVER PORT --tls CERT KEY"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_patterns_for_axum() {
        assert_eq!(
            axum_pattern("/users/{id:int}/posts/{slug}"),
            "/users/{id}/posts/{slug}"
        );
        assert_eq!(axum_pattern("/assets/{rest:path}"), "/assets/{*rest}");
        assert_eq!(axum_pattern("/res1/static/page"), "/res1/static/page");
    }

    #[test]
    fn there_are_exactly_routes_extra_routes() {
        let routes = extra_routes();
        assert_eq!(routes.len(), ROUTES);
        let mut unique = routes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ROUTES);
    }
}
