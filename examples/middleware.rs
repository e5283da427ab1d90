//! Middleware: a timing middleware around every request, and an authorization middleware
//! that answers `401` on its own, for one route and for a group of routes under `/account`.
//!
//! ```text
//! cargo run --example middleware             # PORT=9014 by default
//! curl -i http://localhost:9014/                                   # x-elapsed header
//! curl -i http://localhost:9014/private                            # 401
//! curl -i -H 'authorization: Bearer sesame' http://localhost:9014/private
//! curl -i -H 'authorization: Bearer sesame' http://localhost:9014/account/settings
//! curl -i http://localhost:9014/account/nothing                    # 404: no route, no auth
//! ```

use std::time::Instant;

use bareasgi::{Application, HttpRequest, HttpResponse, Next, make_middleware_chain};
use http::StatusCode;
use http::header::{HeaderValue, WWW_AUTHENTICATE};

#[path = "support/serve.rs"]
mod serve;

/// Who the authorization middleware let in, for the handler to read.
struct User(String);

async fn timing(req: HttpRequest, next: Next) -> HttpResponse {
    let started = Instant::now();
    let mut response = next.run(req).await;
    let elapsed = format!("{}us", started.elapsed().as_micros());
    if let Ok(value) = HeaderValue::from_str(&elapsed) {
        response.headers.insert("x-elapsed", value);
    }
    response
}

async fn require_token(mut req: HttpRequest, next: Next) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok());
    match token.and_then(|value| value.strip_prefix("Bearer ")) {
        Some("sesame") => {
            req.context.insert(User("ada".into()));
            next.run(req).await
        }
        _ => {
            let mut response =
                HttpResponse::text(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
            response
                .headers
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
    }
}

async fn public(_req: HttpRequest) -> &'static str {
    "anyone may read this\n"
}

async fn private(req: HttpRequest) -> String {
    let user = req
        .context
        .get::<User>()
        .map_or("nobody", |user| user.0.as_str());
    format!("hello {user}, here is the secret\n")
}

async fn settings(req: HttpRequest) -> String {
    let user = req
        .context
        .get::<User>()
        .map_or("nobody", |user| user.0.as_str());
    format!("settings of {user}\n")
}

fn app() -> Application {
    let mut app = Application::new();
    app.middleware(timing);
    app.http_router.add(["GET"], "/", public);
    app.http_router.add(
        ["GET"],
        "/private",
        make_middleware_chain((require_token,), private),
    );
    // Every route of the group runs inside `require_token`: no wrapping route by route.
    app.http_router
        .group("/account")
        .middleware(require_token)
        .add("GET", "", private)
        .add("GET", "/settings", settings);
    app
}

#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    serve::serve(app(), 9014, "").await
}
