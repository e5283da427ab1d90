//! The application a user actually writes: a JSON todo API over an in-memory store, for a
//! browser app on another origin (CORS), gzip-compressed, with a signed-cookie session
//! counter. Its tests are `tests/todos_example.rs`, through `bareasgi::test::TestClient`.
//!
//! ```text
//! cargo run --example todos      # PORT=9013, APP_ORIGIN=http://localhost:3000 by default
//! curl -i localhost:9013/todos -H 'content-type: application/json' -d '{"title":"try it"}'
//! curl -i 'localhost:9013/todos?done=false&limit=10'
//! curl -i -X PATCH localhost:9013/todos/1 -H 'content-type: application/json' -d '{"done":true}'
//! curl -i -X DELETE localhost:9013/todos/1
//! curl -i -c jar -b jar localhost:9013/visits   # again: the count goes up
//! ```

#[path = "support/serve.rs"]
mod serve;

use std::collections::BTreeMap;
use std::sync::Mutex;

use bareasgi::cookie::{Cookie, Key};
use bareasgi::http::header::CONTENT_TYPE;
use bareasgi::http::{HeaderValue, Method, StatusCode};
use bareasgi::{Application, HttpError, HttpRequest, HttpResponse, IntoResponse, Json};
use serde::{Deserialize, Serialize};
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;

/// A todo, as stored and as sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Todo {
    /// Given by the store: 1, 2, 3, ...
    pub id: u64,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
}

#[derive(Deserialize)]
struct NewTodo {
    title: String,
}

/// A `PATCH` body: the fields to change.
#[derive(Deserialize)]
struct TodoChange {
    title: Option<String>,
    done: Option<bool>,
}

/// `GET /todos?done=true&limit=10`
#[derive(Deserialize)]
struct Filter {
    done: Option<bool>,
    limit: Option<usize>,
}

#[derive(Default)]
struct Store {
    last_id: u64,
    todos: BTreeMap<u64, Todo>,
}

/// The key that signs the session cookie.
struct SessionKey(Key);

fn store(req: &HttpRequest) -> std::sync::MutexGuard<'_, Store> {
    let store = req.info.get::<Mutex<Store>>().expect("inserted by app()");
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn not_found(id: u64) -> HttpError {
    HttpError::not_found(format!("no todo {id}"))
}

async fn list(req: HttpRequest) -> Result<Json<Vec<Todo>>, HttpError> {
    let filter: Filter = req.query_as()?;
    let store = store(&req);
    let todos = store.todos.values();
    let matching = todos.filter(|todo| filter.done.is_none_or(|done| todo.done == done));
    let limited = matching.take(filter.limit.unwrap_or(usize::MAX));
    Ok(Json(limited.cloned().collect()))
}

async fn create(mut req: HttpRequest) -> Result<impl IntoResponse, HttpError> {
    let new: NewTodo = req.json().await?;
    let mut store = store(&req);
    store.last_id += 1;
    let id = store.last_id;
    let todo = Todo {
        id,
        title: new.title,
        done: false,
    };
    store.todos.insert(id, todo.clone());
    Ok((201, [("location", format!("/todos/{id}"))], Json(todo)))
}

async fn read(req: HttpRequest) -> Result<Json<Todo>, HttpError> {
    let id = req.matches.parse("id")?;
    let todo = store(&req).todos.get(&id).cloned();
    todo.map(Json).ok_or_else(|| not_found(id))
}

async fn update(mut req: HttpRequest) -> Result<Json<Todo>, HttpError> {
    let id = req.matches.parse("id")?;
    let change: TodoChange = req.json().await?;
    let mut store = store(&req);
    let todo = store.todos.get_mut(&id).ok_or_else(|| not_found(id))?;
    if let Some(title) = change.title {
        todo.title = title;
    }
    todo.done = change.done.unwrap_or(todo.done);
    Ok(Json(todo.clone()))
}

async fn delete(req: HttpRequest) -> Result<StatusCode, HttpError> {
    let id = req.matches.parse("id")?;
    let removed = store(&req).todos.remove(&id);
    removed
        .map(|_| StatusCode::NO_CONTENT)
        .ok_or_else(|| not_found(id))
}

/// Counts this browser's visits in a signed cookie: a value the client changed does not
/// verify, and counts as no visit.
async fn visits(req: HttpRequest) -> HttpResponse {
    let key = &req.info.get::<SessionKey>().expect("inserted by app()").0;
    let cookie = req.signed_cookie("visits", key);
    let seen: u64 = cookie.and_then(|value| value.parse().ok()).unwrap_or(0);
    let count = (seen + 1).to_string();
    // The browser's default `SameSite=Lax` lets the cookie go along from another origin of
    // the same site (localhost:3000 to localhost:9013); an app on another site needs
    // `.same_site(SameSite::None).secure(true)`, over HTTPS.
    let cookie = Cookie::build(("visits", count.clone()))
        .path("/")
        .http_only(true);
    HttpResponse::text(StatusCode::OK, count).with_signed_cookie(cookie, key)
}

/// The application; `key` signs the session cookie (keep it secret and stable across
/// restarts in production: `Key::try_from(&64_secret_bytes[..])`), `origin` is the browser
/// app's, which may call the API with the cookie.
pub fn app(key: Key, origin: &str) -> Application {
    let cors = CorsLayer::new()
        .allow_origin(origin.parse::<HeaderValue>().expect("an origin"))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([CONTENT_TYPE])
        .allow_credentials(true);
    let mut app = Application::new();
    app.info.insert(Mutex::new(Store::default()));
    app.info.insert(SessionKey(key));
    app.http_router.add(["GET"], "/todos", list);
    app.http_router.add(["POST"], "/todos", create);
    app.http_router.add(["GET"], "/todos/{id:int}", read);
    app.http_router.add(["PATCH"], "/todos/{id:int}", update);
    app.http_router.add(["DELETE"], "/todos/{id:int}", delete);
    app.http_router.add(["GET"], "/visits", visits);
    // The first layer added is the outermost: CORS answers preflights before anything else.
    app.layer(cors).layer(CompressionLayer::new());
    app
}

#[allow(dead_code)] // the test includes this file for `app` alone
#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    let origin = std::env::var("APP_ORIGIN").unwrap_or_else(|_| "http://localhost:3000".into());
    serve::serve(app(Key::generate(), &origin), 9013, "/todos").await
}
