//! A chat over server-sent events on the hub: `POST /messages` publishes the text body,
//! every open `GET /events` stream receives it.
//!
//! ```text
//! cargo run --example sse_chat                          # in-process hub, PORT=9013
//! REDIS_URL=redis://127.0.0.1:6379/ PORT=9101 cargo run --features redis --example sse_chat
//! ```
//! Open <http://localhost:9013> in two tabs and type.
//!
//! With `REDIS_URL` every instance publishes and subscribes through Redis, so several of them
//! behind a load balancer (see `examples/deploy/`) make one chat; `REUSE_PORT=1` lets
//! several share one port instead. Each message is an event with an id: a browser that
//! reconnects (to any instance) sends `Last-Event-ID` and receives what it missed, from the
//! hub's history. A browser too slow to keep up catches up from the history too; one that
//! fell behind more than the history holds receives a `missed` event. While Redis is down,
//! `POST /messages` answers `503` and the streams stay open (a new one is refused with
//! `503` until Redis is back; the browser retries by itself).

use bareasgi::hub::Hub;
use bareasgi::sse::EventStream;
use bareasgi::{Application, HttpError, HttpRequest, IntoResponse, text_writer};
use http::StatusCode;

#[cfg(not(test))] // the tests that include this file take its routes, and do not serve
#[path = "support/serve.rs"]
mod serve;

/// The one topic of this chat.
const TOPIC: &str = "chat";
/// The longest message accepted.
const MAX_MESSAGE: usize = 4 * 1024;

const PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>SSE chat</title></head>
  <body>
    <h1>SSE chat</h1>
    <p>Status: <span id="status">connecting...</span></p>
    <form id="form"><input id="text" autocomplete="off" autofocus><button>Send</button></form>
    <ul id="messages"></ul>
    <script>
      const list = document.getElementById("messages");
      const status = document.getElementById("status");
      const add = (text) => {
        const item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      };
      // EventSource reconnects by itself, sending the last id it saw as Last-Event-ID.
      const events = new EventSource("/events");
      events.onopen = () => { status.textContent = "connected"; };
      events.onerror = () => { status.textContent = "reconnecting..."; };
      events.onmessage = (event) => add(event.data);
      events.addEventListener("missed", (event) => add(`(missed ${event.data} messages)`));
      document.getElementById("form").onsubmit = async (submit) => {
        submit.preventDefault();
        const input = document.getElementById("text");
        if (!input.value) return;
        const response = await fetch("/messages", { method: "POST", body: input.value });
        if (response.ok) input.value = "";
        else add(`(not sent: ${response.status}, try again)`);
      };
    </script>
  </body>
</html>
"#;

async fn index(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "text/html; charset=utf-8")],
        text_writer(PAGE),
    )
}

/// `201` with the message's id, `503` while the hub's Redis is unreachable.
async fn post_message(mut req: HttpRequest) -> Result<impl IntoResponse, HttpError> {
    let hub = req.state::<Hub>()?;
    let text = req.text().await?;
    let id = hub.publish(TOPIC, text).await?;
    Ok((StatusCode::CREATED, id.to_string()))
}

/// The chat's events; `503` with `retry-after` (the browser retries) while Redis is down.
async fn events(req: HttpRequest) -> Result<EventStream, HttpError> {
    let hub = req.state::<Hub>()?;
    // Resolves once the subscription's start is fixed: a newcomer sees its own first message.
    let subscription = hub.subscribe(TOPIC, req.last_event_id()).await?;
    Ok(EventStream::new(subscription))
}

/// The chat's routes on `hub`, shared with the tests.
pub fn app(hub: Hub) -> Application {
    let mut app = Application::new();
    app.info.insert(hub);
    app.body_limit(MAX_MESSAGE);
    app.http_router.add(["GET"], "/", index);
    app.http_router.add(["POST"], "/messages", post_message);
    app.http_router.add(["GET"], "/events", events);
    app
}

/// Redis if `REDIS_URL` is set (with the `redis` feature), the in-process hub otherwise.
#[cfg(not(test))]
fn hub_from_env() -> Hub {
    match std::env::var("REDIS_URL") {
        #[cfg(feature = "redis")]
        Ok(url) => Hub::redis(&url).unwrap_or_else(|error| panic!("REDIS_URL={url}: {error}")),
        #[cfg(not(feature = "redis"))]
        Ok(_) => panic!("REDIS_URL needs the `redis` feature: cargo run --features redis ..."),
        Err(_) => Hub::memory(),
    }
}

#[cfg(not(test))] // the tests that include this file use `app` only
#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    let hub = hub_from_env();
    eprintln!("hub: {hub:?}");
    let mut app = app(hub);
    app.reuse_port(std::env::var("REUSE_PORT").is_ok_and(|value| value == "1"));
    serve::serve(app, 9013, "").await
}
