//! The `todos` example, one test per behaviour, through `TestClient` (the application served
//! on a real socket, its layers included).

#[path = "../examples/todos.rs"]
mod todos;

use std::io::Read;

use bareasgi::cookie::Key;
use bareasgi::test::TestClient;
use serde_json::{Value, json};
use todos::Todo;

/// The browser app's origin, allowed by the CORS layer.
const ORIGIN: &str = "https://app.example";

fn client() -> TestClient {
    TestClient::new(todos::app(Key::generate(), ORIGIN))
}

async fn create(client: &TestClient, title: &str) -> Todo {
    let response = client
        .post("/todos")
        .json(&json!({ "title": title }))
        .send()
        .await;
    assert_eq!(response.status(), 201);
    response.json().await
}

#[tokio::test]
async fn create_answers_201_with_the_location_and_the_todo() {
    let client = client();
    let response = client
        .post("/todos")
        .json(&json!({"title": "write tests"}))
        .send()
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.header("location"), Some("/todos/1"));
    assert_eq!(response.header("content-type"), Some("application/json"));
    let todo: Todo = response.json().await;
    assert_eq!(
        todo,
        Todo {
            id: 1,
            title: "write tests".into(),
            done: false
        }
    );

    let again = client.get("/todos/1").send().await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Todo>().await, todo);
}

#[tokio::test]
async fn a_create_without_a_title_or_json_is_refused() {
    let client = client();
    let missing = client
        .post("/todos")
        .json(&json!({"name": "x"}))
        .send()
        .await;
    assert_eq!(missing.status(), 400);
    assert!(missing.text().await.contains("title"));

    let not_json = client
        .post("/todos")
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await;
    assert_eq!(not_json.status(), 415);
}

#[tokio::test]
async fn list_filters_by_done_and_limits() {
    let client = client();
    for title in ["a", "b", "c", "d"] {
        create(&client, title).await;
    }
    for id in [2, 4] {
        let done = client
            .patch(&format!("/todos/{id}"))
            .json(&json!({"done": true}))
            .send()
            .await;
        assert_eq!(done.status(), 200);
    }
    let titles = |todos: Vec<Todo>| todos.into_iter().map(|todo| todo.title).collect::<Vec<_>>();

    let all: Vec<Todo> = client.get("/todos").send().await.json().await;
    assert_eq!(titles(all), ["a", "b", "c", "d"]);
    let done: Vec<Todo> = client.get("/todos?done=true").send().await.json().await;
    assert_eq!(titles(done), ["b", "d"]);
    let open: Vec<Todo> = client
        .get("/todos?done=false&limit=1")
        .send()
        .await
        .json()
        .await;
    assert_eq!(titles(open), ["a"]);
    let first_two: Vec<Todo> = client.get("/todos?limit=2").send().await.json().await;
    assert_eq!(titles(first_two), ["a", "b"]);
    // An empty value is no filter, as an HTML form with an empty field sends it.
    let unfiltered: Vec<Todo> = client.get("/todos?done=&limit=3").send().await.json().await;
    assert_eq!(titles(unfiltered), ["a", "b", "c"]);
}

#[tokio::test]
async fn a_bad_filter_is_a_400_naming_the_field() {
    let client = client();
    let response = client.get("/todos?limit=many").send().await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.contains("limit"));
}

#[tokio::test]
async fn update_changes_only_the_fields_given() {
    let client = client();
    create(&client, "first title").await;
    let response = client
        .patch("/todos/1")
        .json(&json!({"done": true}))
        .send()
        .await;
    assert_eq!(
        response.json::<Todo>().await,
        Todo {
            id: 1,
            title: "first title".into(),
            done: true
        }
    );
    let response = client
        .patch("/todos/1")
        .json(&json!({"title": "second"}))
        .send()
        .await;
    assert_eq!(
        response.json::<Todo>().await,
        Todo {
            id: 1,
            title: "second".into(),
            done: true
        }
    );
}

#[tokio::test]
async fn delete_answers_204_then_the_todo_is_gone() {
    let client = client();
    create(&client, "short-lived").await;
    assert_eq!(client.delete("/todos/1").send().await.status(), 204);
    assert_eq!(client.get("/todos/1").send().await.status(), 404);
    assert_eq!(client.delete("/todos/1").send().await.status(), 404);
    let update = client
        .patch("/todos/1")
        .json(&json!({"done": true}))
        .send()
        .await;
    assert_eq!(update.status(), 404);
    assert!(update.text().await.contains("no todo 1"));
}

#[tokio::test]
async fn ids_must_be_integers() {
    let client = client();
    // `{id:int}` does not match, so there is no such route: 404, never the handler.
    assert_eq!(client.get("/todos/abc").send().await.status(), 404);
    // An integer that does not fit the store's `u64`: the handler's `?` makes it a 400.
    assert_eq!(client.get("/todos/-1").send().await.status(), 400);
}

#[tokio::test]
async fn a_browser_on_another_origin_may_call_the_api() {
    let client = client();
    let preflight = client
        .options("/todos")
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await;
    assert_eq!(preflight.status(), 200);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap()
            .contains("content-type")
    );

    let response = client.get("/todos").header("origin", ORIGIN).send().await;
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://app.example")
    );
}

#[tokio::test]
async fn responses_are_gzipped_for_clients_that_accept_it() {
    let client = client();
    for n in 0..40 {
        create(
            &client,
            &format!("todo number {n}, long enough to be worth compressing"),
        )
        .await;
    }
    let plain = client.get("/todos").send().await.bytes().await;
    let response = client
        .get("/todos")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_eq!(response.header("content-encoding"), Some("gzip"));
    let compressed = response.bytes().await;
    assert!(
        compressed.len() < plain.len() / 3,
        "{} vs {}",
        compressed.len(),
        plain.len()
    );
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain);
    let todos: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(todos.as_array().unwrap().len(), 40);
}

#[tokio::test]
async fn the_visit_counter_lives_in_a_signed_cookie() {
    let client = client();
    let first = client.get("/visits").send().await;
    let cookie = first.cookie("visits").expect("a visits cookie");
    assert!(cookie.http_only().unwrap_or(false));
    assert_eq!(first.text().await, "1");

    let second = client
        .get("/visits")
        .cookie("visits", cookie.value())
        .send()
        .await;
    let cookie = second.cookie("visits").expect("a visits cookie");
    assert_eq!(second.text().await, "2");

    // The value carries its signature: a client that edits the count starts over.
    let forged = cookie.value().replace("2", "9");
    assert_ne!(forged, cookie.value());
    let third = client.get("/visits").cookie("visits", &forged).send().await;
    assert_eq!(third.text().await, "1");
    let plain = client.get("/visits").cookie("visits", "41").send().await;
    assert_eq!(plain.text().await, "1");
}
