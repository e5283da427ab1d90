//! The `todos` example (examples/todos.rs) on axum 0.8 + tower-http + axum-extra: the same
//! routes, filters, status codes, CORS, compression and signed-cookie counter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{FromRef, Path, Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, Key, SignedCookieJar};
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

#[derive(Clone)]
struct AppState {
    store: Arc<Mutex<Store>>,
    key: Key,
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Key {
        state.key.clone()
    }
}

impl AppState {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn not_found(id: u64) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, format!("no todo {id}"))
}

async fn list(State(state): State<AppState>, Query(filter): Query<Filter>) -> Json<Vec<Todo>> {
    let store = state.store();
    let todos = store.todos.values();
    let matching = todos.filter(|todo| filter.done.is_none_or(|done| todo.done == done));
    let limited = matching.take(filter.limit.unwrap_or(usize::MAX));
    Json(limited.cloned().collect())
}

async fn create(State(state): State<AppState>, Json(new): Json<NewTodo>) -> impl IntoResponse {
    let mut store = state.store();
    store.last_id += 1;
    let id = store.last_id;
    let todo = Todo {
        id,
        title: new.title,
        done: false,
    };
    store.todos.insert(id, todo.clone());
    (
        StatusCode::CREATED,
        [(LOCATION, format!("/todos/{id}"))],
        Json(todo),
    )
}

async fn read(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<Json<Todo>, (StatusCode, String)> {
    let todo = state.store().todos.get(&id).cloned();
    todo.map(Json).ok_or_else(|| not_found(id))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<u64>,
    Json(change): Json<TodoChange>,
) -> Result<Json<Todo>, (StatusCode, String)> {
    let mut store = state.store();
    let todo = store.todos.get_mut(&id).ok_or_else(|| not_found(id))?;
    if let Some(title) = change.title {
        todo.title = title;
    }
    todo.done = change.done.unwrap_or(todo.done);
    Ok(Json(todo.clone()))
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<u64>,
) -> Result<StatusCode, (StatusCode, String)> {
    let removed = state.store().todos.remove(&id);
    removed
        .map(|_| StatusCode::NO_CONTENT)
        .ok_or_else(|| not_found(id))
}

/// Counts this browser's visits in a signed cookie: a value the client changed does not
/// verify, and counts as no visit.
async fn visits(jar: SignedCookieJar) -> (SignedCookieJar, String) {
    let cookie = jar.get("visits");
    let seen: u64 = cookie
        .and_then(|cookie| cookie.value().parse().ok())
        .unwrap_or(0);
    let count = (seen + 1).to_string();
    // The browser's default `SameSite=Lax` lets the cookie go along from another origin of
    // the same site (localhost:3000 to localhost:9013); an app on another site needs
    // `.same_site(SameSite::None).secure(true)`, over HTTPS.
    let cookie = Cookie::build(("visits", count.clone()))
        .path("/")
        .http_only(true);
    (jar.add(cookie), count)
}

/// The application; `key` signs the session cookie, `origin` is the browser app's.
pub fn app(key: Key, origin: &str) -> Router {
    let state = AppState {
        store: Arc::default(),
        key,
    };
    let cors = CorsLayer::new()
        .allow_origin(origin.parse::<HeaderValue>().expect("an origin"))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([CONTENT_TYPE])
        .allow_credentials(true);
    Router::new()
        .route("/todos", get(list).post(create))
        .route("/todos/{id}", get(read).patch(update).delete(delete))
        .route("/visits", get(visits))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(cors)
}

#[tokio::main]
async fn main() {
    let origin = std::env::var("APP_ORIGIN").unwrap_or_else(|_| "http://localhost:3000".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "9013".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    axum::serve(listener, app(Key::generate(), &origin))
        .await
        .unwrap();
}
