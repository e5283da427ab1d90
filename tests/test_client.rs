//! `bareasgi::test::TestClient`: the application served as production serves it — startup
//! handlers before the first request, shutdown handlers on `shutdown()` and on drop (inside a
//! runtime, at the end of one, and outside any), middlewares, limits and timeouts on every
//! request — and the fluent requests, responses, events and WebSockets a test reads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bareasgi::http::StatusCode;
use bareasgi::sse::{Event, EventStream};
use bareasgi::test::TestClient;
use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
use bareasgi::{
    Application, Body, BoxError, HttpError, HttpRequest, HttpResponse, IntoResponse, Json, Next,
    TypeMap,
};
use futures_util::{StreamExt, stream};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Todo {
    title: String,
    done: bool,
}

struct Lifespan(Arc<Mutex<Vec<&'static str>>>);
struct Store(Mutex<Vec<Todo>>);

fn lifespan_app(log: &Arc<Mutex<Vec<&'static str>>>) -> Application {
    let mut app = Application::new();
    app.info.insert(Lifespan(log.clone()));
    app.on_startup(async |info: &mut TypeMap| -> Result<(), BoxError> {
        info.get::<Lifespan>()
            .ok_or("no log")?
            .0
            .lock()
            .unwrap()
            .push("startup");
        info.insert(Store(Mutex::new(Vec::new())));
        Ok(())
    });
    app.on_shutdown(async |info: &TypeMap| -> Result<(), BoxError> {
        info.get::<Lifespan>()
            .ok_or("no log")?
            .0
            .lock()
            .unwrap()
            .push("shutdown");
        Ok(())
    });
    app.http_router
        .add(["GET"], "/todos", |req: HttpRequest| async move {
            // Inserted by the startup handler: missing without it.
            let store = req.info.get::<Store>().unwrap();
            Json(store.0.lock().unwrap().clone())
        });
    app.http_router
        .add(["POST"], "/todos", |mut req: HttpRequest| async move {
            let todo: Todo = req.json().await?;
            req.info
                .get::<Store>()
                .unwrap()
                .0
                .lock()
                .unwrap()
                .push(todo.clone());
            Ok::<_, HttpError>((201, [("location", "/todos/1")], Json(todo)))
        });
    app
}

#[tokio::test]
async fn startup_runs_before_new_returns_and_shutdown_when_shut_down() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = TestClient::new(lifespan_app(&log));
    assert_eq!(*log.lock().unwrap(), ["startup"]);
    let todo = Todo {
        title: "write tests".into(),
        done: false,
    };
    let created = client.post("/todos").json(&todo).send().await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.header("location"), Some("/todos/1"));
    assert_eq!(created.header("content-type"), Some("application/json"));
    assert_eq!(created.json::<Todo>().await, todo);
    let listed: Vec<Todo> = client.get("/todos").send().await.json().await;
    assert_eq!(listed, [todo]);
    client.shutdown().await;
    assert_eq!(*log.lock().unwrap(), ["startup", "shutdown"]);
}

#[tokio::test]
async fn dropping_the_client_at_the_end_of_a_test_runs_the_shutdown_handlers() {
    let log = Arc::new(Mutex::new(Vec::new()));
    {
        let client = TestClient::new(lifespan_app(&log));
        assert_eq!(client.get("/todos").await.status(), 200);
    } // dropped here, inside this current-thread runtime
    assert_eq!(*log.lock().unwrap(), ["startup", "shutdown"]);
}

#[test]
fn a_client_dropped_outside_any_runtime_still_runs_the_shutdown_handlers() {
    let log = Arc::new(Mutex::new(Vec::new()));
    // No runtime is needed to make one: the server has its own.
    let client = TestClient::new(lifespan_app(&log));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let status = runtime.block_on(async { client.get("/todos").await.status() });
    assert_eq!(status, 200);
    drop(runtime);
    drop(client);
    assert_eq!(*log.lock().unwrap(), ["startup", "shutdown"]);
}

#[test]
fn a_failing_startup_handler_is_reported_and_nothing_is_served() {
    let mut app = Application::new();
    app.on_startup(async |_info: &mut TypeMap| -> Result<(), BoxError> {
        Err("database unreachable".into())
    });
    let error = TestClient::try_new(app).unwrap_err();
    assert!(error.is_startup());
    assert_eq!(
        error.to_string(),
        "startup handler #0 failed: database unreachable"
    );

    let mut app = Application::new();
    app.on_startup(async |_info: &mut TypeMap| -> Result<(), BoxError> { Err("no".into()) });
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| TestClient::new(app)))
        .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "the application did not start: startup handler #0 failed: no"
    );
}

// Regression: a startup handler that panicked was reported as "the test server's thread
// ended before starting: Err(Any { .. })", without the panic's message.
#[test]
#[should_panic(
    expected = "the application did not start: a startup handler panicked: no config file"
)]
fn a_panicking_startup_handler_is_reported_with_its_message() {
    let mut app = Application::new();
    app.on_startup(async |_info: &mut TypeMap| -> Result<(), BoxError> {
        panic!("no config file")
    });
    drop(TestClient::new(app));
}

#[derive(Debug, Deserialize, Serialize)]
struct Filter {
    done: Option<bool>,
    limit: Option<usize>,
    #[serde(default)]
    tag: Vec<String>,
}

async fn describe(mut req: HttpRequest) -> Result<String, HttpError> {
    let filter: Filter = req.query_as()?;
    let session = req.cookie("session").unwrap_or("-").to_owned();
    let accept = req
        .headers()
        .get("accept")
        .map_or("-".into(), |v| v.to_str().unwrap().to_owned());
    let body = req.text().await?;
    Ok(format!(
        "{} {:?} {:?} {:?} session={session} accept={accept} body={body}",
        req.method(),
        filter.done,
        filter.limit,
        filter.tag
    ))
}

#[tokio::test]
async fn the_request_builder_sends_query_headers_cookies_and_bodies() {
    let mut app = Application::new();
    app.http_router.add(["GET", "PUT"], "/describe", describe);
    app.http_router
        .add(["POST"], "/form", |mut req: HttpRequest| async move {
            let filter: Filter = req.form().await?;
            Ok::<_, HttpError>(format!(
                "{:?} {:?} {:?}",
                filter.done, filter.limit, filter.tag
            ))
        });
    let client = TestClient::new(app);
    let response = client
        .get("/describe?done=true&limit=10&tag=a&tag=b")
        .header("accept", "text/plain")
        .cookie("session", "abc")
        .cookie("theme", "dark")
        .send()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await,
        "GET Some(true) Some(10) [\"a\", \"b\"] session=abc accept=text/plain body="
    );
    let put = client.put("/describe").body("hello").await.text().await;
    assert_eq!(put, "PUT None None [] session=- accept=- body=hello");
    let form = Filter {
        done: Some(false),
        limit: None,
        tag: vec!["x".into(), "y z".into()],
    };
    let posted = client.post("/form").form(&form).await.text().await;
    assert_eq!(posted, "Some(false) None [\"x\", \"y z\"]");
    let bad = client.get("/describe?limit=ten").await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.text().await,
        "invalid query string: limit: invalid digit found in string"
    );
    let wrong_type = client
        .post("/form")
        .header("content-type", "text/plain")
        .body("done=true")
        .await;
    assert_eq!(wrong_type.status(), 415);
}

#[tokio::test]
async fn requests_go_through_the_middlewares_limits_and_timeouts() {
    async fn stamp(req: HttpRequest, next: Next) -> HttpResponse {
        let mut response = next.run(req).await;
        response
            .headers
            .insert("x-seen-by", "middleware".parse().unwrap());
        response
    }
    let mut app = Application::new();
    app.middleware(stamp);
    app.body_limit(16);
    app.request_timeout(Some(Duration::from_millis(200)));
    app.http_router
        .add(["POST"], "/echo", |mut req: HttpRequest| async move {
            req.bytes().await.map(|bytes| bytes.len().to_string())
        });
    app.http_router
        .add(["GET"], "/slow", |_req: HttpRequest| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "never"
        });
    let client = TestClient::new(app);
    let small = client.post("/echo").body("twelve bytes").await;
    assert_eq!(small.header("x-seen-by"), Some("middleware"));
    assert_eq!(small.text().await, "12");
    let large = client.post("/echo").body(vec![0u8; 17]).await;
    assert_eq!(large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let slow = client.get("/slow").await;
    // The timeout covers the middlewares too, so its 503 is not stamped.
    assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
    let missing = client.get("/nowhere").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// Sends when dropped: put one in a stream to see when the server lets it go.
struct Dropped(Option<oneshot::Sender<()>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        if let Some(dropped) = self.0.take() {
            let _ = dropped.send(());
        }
    }
}

#[tokio::test]
async fn events_arrive_one_by_one_from_an_endless_stream() {
    let (dropped_tx, dropped) = oneshot::channel();
    let guard = Arc::new(Mutex::new(Some(Dropped(Some(dropped_tx)))));
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/ticks", move |_req: HttpRequest| {
            let guard = guard.lock().unwrap().take();
            async move {
                let ticks = stream::iter(0u64..).then(move |n| {
                    let _held = &guard;
                    async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Event::data(format!("tick {n}")).event("tick").id(n)
                    }
                });
                EventStream::new(ticks)
            }
        });
    let client = TestClient::new(app);
    let response = client.get("/ticks").await;
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    let mut events = response.events();
    let first = events.next().await.unwrap();
    assert_eq!(
        (first.event.as_str(), first.data.as_str(), first.id.as_str()),
        ("tick", "tick 0", "0")
    );
    let second = events.next().await.unwrap();
    assert_eq!(second.data, "tick 1");
    // The stream never ends; dropping the events closes the connection and the server
    // drops the stream.
    drop(events);
    tokio::time::timeout(Duration::from_secs(5), dropped)
        .await
        .expect("the server kept the stream after the client left")
        .unwrap();
}

#[tokio::test]
async fn a_streamed_body_is_read_chunk_by_chunk() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/chunks", |_req: HttpRequest| async {
            let chunks = stream::iter(["one", "two", "three"]).then(|chunk| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                chunk
            });
            (200, Body::from_stream(chunks)).into_response()
        });
    let client = TestClient::new(app);
    let mut response = client.get("/chunks").await;
    let mut chunks = Vec::new();
    while let Some(chunk) = response.chunk().await {
        chunks.push(String::from_utf8(chunk.to_vec()).unwrap());
    }
    assert_eq!(chunks.concat(), "onetwothree");
}

async fn echo(req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
    if req
        .headers()
        .get("origin")
        .is_some_and(|o| o != "http://good.example")
    {
        return ws.reject((403, "bad origin"));
    }
    let protocol = req.subprotocols().find(|p| *p == "echo.v1");
    ws.accept(protocol, [("x-hello", "1")]).await?;
    loop {
        match ws.receive().await? {
            Message::Text(text) if text == "bye" => return ws.close(4000, "asked to").await,
            Message::Close { code, .. } => {
                let closes = req.info.get::<Closes>().unwrap();
                closes
                    .0
                    .fetch_add(usize::from(code == 1000), Ordering::SeqCst);
                return Ok(());
            }
            message => ws.send(message).await?,
        }
    }
}

struct Closes(AtomicUsize);

#[tokio::test]
async fn websockets_send_receive_close_and_refuse_like_the_server_side() {
    let mut app = Application::new();
    app.info.insert(Closes(AtomicUsize::new(0)));
    app.ws_router.add("/ws", echo);
    app.http_router
        .add(["GET"], "/closes", |req: HttpRequest| async move {
            req.info
                .get::<Closes>()
                .unwrap()
                .0
                .load(Ordering::SeqCst)
                .to_string()
        });
    let client = TestClient::new(app);

    let mut ws = client.websocket("/ws").subprotocol("echo.v1").await;
    assert_eq!(ws.protocol(), Some("echo.v1"));
    assert_eq!(ws.headers()["x-hello"], "1");
    ws.send("hello").await.unwrap();
    assert_eq!(ws.receive().await.unwrap(), Message::Text("hello".into()));
    ws.send(vec![1u8, 2, 3]).await.unwrap();
    assert_eq!(ws.receive().await.unwrap(), Message::from(vec![1u8, 2, 3]));
    ws.send("bye").await.unwrap();
    assert_eq!(
        ws.receive().await.unwrap(),
        Message::Close {
            code: 4000,
            reason: "asked to".into()
        }
    );
    assert!(matches!(ws.receive().await, Err(WebSocketError::Closed)));
    assert!(matches!(ws.send("late").await, Err(WebSocketError::Closed)));

    // A server that picks none of the offered subprotocols is accepted, as browsers do.
    let mut plain = client.websocket("/ws").subprotocol("other").await;
    assert_eq!(plain.protocol(), None);
    plain.close(1000, "done").await.unwrap();
    assert!(matches!(
        plain.receive().await.unwrap(),
        Message::Close { code: 1000, .. }
    ));
    // Dropping an open socket closes it with 1000 too.
    drop(client.websocket("/ws").await);
    let mut closes = 0;
    for _ in 0..100 {
        closes = client.get("/closes").await.text().await.parse().unwrap();
        if closes == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(closes, 2, "the handler saw a 1000 for each client close");

    let refused = client
        .websocket("/ws")
        .header("origin", "http://evil.example")
        .try_connect()
        .await
        .unwrap_err();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(refused.text().await, "bad origin");
    let missing = client
        .websocket("/nowhere")
        .try_connect()
        .await
        .unwrap_err();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
