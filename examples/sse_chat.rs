//! A chat over server-sent events: `POST /messages` with a text body fans out to every open
//! `GET /events` stream through a tokio `broadcast` channel.
//!
//! ```text
//! cargo run --example sse_chat               # PORT=9013 by default
//! ```
//! Open <http://localhost:9013> in two tabs and type.
//!
//! Slow clients: the channel keeps the last `CAPACITY` messages. A client that falls further
//! behind skips the messages it missed and receives a `missed` event saying how many, so a
//! stalled client never makes the server hold an unbounded backlog.

use bareasgi::sse::{Event, EventStream};
use bareasgi::{Application, BodyError, HttpRequest, IntoResponse, text_writer};
use futures_util::Stream;
use futures_util::stream;
use http::StatusCode;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

#[cfg(not(test))] // the tests that include this file take its routes, and do not serve
#[path = "support/serve.rs"]
mod serve;

/// How many messages a client may fall behind before it skips some.
const CAPACITY: usize = 256;
/// The longest message accepted.
const MAX_MESSAGE: usize = 4 * 1024;

const PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>SSE chat</title></head>
  <body>
    <h1>SSE chat</h1>
    <form id="form"><input id="text" autocomplete="off" autofocus><button>Send</button></form>
    <ul id="messages"></ul>
    <script>
      const list = document.getElementById("messages");
      const add = (text) => {
        const item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      };
      const events = new EventSource("/events");
      events.onmessage = (event) => add(event.data);
      events.addEventListener("missed", (event) => add(`(missed ${event.data} messages)`));
      document.getElementById("form").onsubmit = async (submit) => {
        submit.preventDefault();
        const input = document.getElementById("text");
        if (input.value) await fetch("/messages", { method: "POST", body: input.value });
        input.value = "";
      };
    </script>
  </body>
</html>
"#;

/// The channel every message goes through, kept in `app.info`.
struct Room(broadcast::Sender<String>);

async fn index(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "text/html; charset=utf-8")],
        text_writer(PAGE),
    )
}

async fn post_message(mut req: HttpRequest) -> Result<StatusCode, BodyError> {
    let text = req.text().await?;
    let room = req
        .info
        .get::<Room>()
        .expect("the room is created with the app");
    // No receiver is not an error: nobody is listening yet.
    let _ = room.0.send(text);
    Ok(StatusCode::NO_CONTENT)
}

async fn events(req: HttpRequest) -> EventStream {
    let receiver = req
        .info
        .get::<Room>()
        .expect("the room is created with the app")
        .0
        .subscribe();
    EventStream::new(messages(receiver))
}

/// The events a subscriber sees: each message, and a `missed` event when it lagged behind.
pub fn messages(receiver: broadcast::Receiver<String>) -> impl Stream<Item = Event> + Send {
    stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(text) => Event::data(text),
            Err(RecvError::Lagged(missed)) => Event::data(missed.to_string())
                .event("missed")
                .expect("a constant name"),
            Err(RecvError::Closed) => return None,
        };
        Some((event, receiver))
    })
}

/// The chat's routes, shared with the tests.
pub fn app() -> Application {
    let mut app = Application::new();
    app.info.insert(Room(broadcast::channel(CAPACITY).0));
    app.body_limit(MAX_MESSAGE);
    app.http_router.add(["GET"], "/", index);
    app.http_router.add(["POST"], "/messages", post_message);
    app.http_router.add(["GET"], "/events", events);
    app
}

#[cfg(not(test))] // the tests that include this file use `app` and `messages`
#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    serve::serve(app(), 9013, "").await
}
