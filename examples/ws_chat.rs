//! A WebSocket chat room on the hub: every line goes to everyone connected, on every
//! instance when the hub is Redis.
//!
//! ```text
//! cargo run --example ws_chat                           # in-process hub, PORT=9012
//! REDIS_URL=redis://127.0.0.1:6379/ PORT=9101 cargo run --features redis --example ws_chat
//! ```
//! Open <http://localhost:9012> in two tabs.
//!
//! Each connection subscribes to the room's topic and forwards what it receives to its
//! client as JSON, `{"id": "...", "text": "..."}`, while publishing what the client says.
//! The page remembers the last id and, when the connection drops (say its instance went
//! away), reconnects with `?last_event_id=<id>` and receives what it missed from the hub's
//! history. A client too slow to keep up catches up from the history; one further behind
//! than the history holds gets `{"missed": <count or null>}`. While Redis is down, what a
//! client says is refused with `{"error": "..."}` and the connection stays open.

use std::sync::atomic::{AtomicU64, Ordering};

use bareasgi::hub::{Event, Hub, Subscription};
use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
use bareasgi::{Application, HttpRequest, IntoResponse, text_writer};
use futures_util::StreamExt;
use serde_json::json;

#[cfg(not(test))] // the tests that include this file take its routes, and do not serve
#[path = "support/serve.rs"]
mod serve;

/// The room's topic.
const TOPIC: &str = "room";
/// The longest line a client may send, in bytes.
const MAX_LINE: usize = 4096;

const PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>WebSocket chat</title>
  </head>
  <body>
    <h1>WebSocket chat</h1>
    <p>Status: <span id="status">connecting...</span></p>
    <form id="form">
      <input id="message" autocomplete="off" placeholder="say something">
      <button id="send" type="submit">Send</button>
    </form>
    <ul id="log"></ul>
    <script>
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const status = document.getElementById("status");
      const log = document.getElementById("log");
      const input = document.getElementById("message");
      const add = (text) => {
        const item = document.createElement("li");
        item.textContent = text;
        log.appendChild(item);
      };
      let socket = null;
      let lastId = null;
      let delay = 250;
      function connect() {
        const resume = lastId ? "?last_event_id=" + encodeURIComponent(lastId) : "";
        socket = new WebSocket(scheme + location.host + "/ws" + resume);
        socket.onopen = () => { status.textContent = "connected"; delay = 250; };
        socket.onclose = (event) => {
          status.textContent = "closed (" + event.code + "), reconnecting...";
          setTimeout(connect, delay);
          delay = Math.min(delay * 2, 5000);
        };
        socket.onmessage = (event) => {
          const message = JSON.parse(event.data);
          if (message.id) {
            lastId = message.id;
            add(message.text);
          } else if ("missed" in message) {
            add("(missed " + (message.missed ?? "some") + " messages)");
          } else if (message.error) {
            add("(" + message.error + ")");
          }
        };
      }
      connect();
      document.getElementById("form").onsubmit = (event) => {
        event.preventDefault();
        if (input.value && socket.readyState === WebSocket.OPEN) {
          socket.send(input.value);
          input.value = "";
        }
      };
    </script>
  </body>
</html>
"#;

/// The room: the hub, this instance's name, and a counter to name guests.
struct Room {
    hub: Hub,
    instance: String,
    guests: AtomicU64,
}

async fn index(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "text/html; charset=utf-8")],
        text_writer(PAGE),
    )
}

/// The `last_event_id` query parameter: ids are digits and `-`, nothing to decode.
fn last_event_id(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("last_event_id="))
}

async fn chat(req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
    let room = req.info.get::<Room>().expect("the room is set up in app()");
    // Subscribed (its start fixed) before announcing, so the newcomer sees its own arrival.
    let mut events = match room.hub.subscribe(TOPIC, last_event_id(req.query())).await {
        Ok(events) => events,
        // A 503 with retry-after while Redis is down.
        Err(error) => return ws.reject(error),
    };
    ws.accept(None, ()).await?;
    let guest = room.guests.fetch_add(1, Ordering::Relaxed) + 1;
    let name = format!("guest-{guest}@{}", room.instance);
    let _ = room.hub.publish(TOPIC, format!("{name} joined")).await;
    let result = converse(&mut ws, &mut events, &room.hub, &name).await;
    let _ = room.hub.publish(TOPIC, format!("{name} left")).await;
    result
}

async fn converse(
    ws: &mut WebSocket,
    events: &mut Subscription,
    hub: &Hub,
    name: &str,
) -> Result<(), WebSocketError> {
    loop {
        tokio::select! {
            // Both are cancel-safe: losing the race to the other side loses nothing.
            message = ws.receive() => match message? {
                Message::Text(text) => {
                    if let Err(error) = hub.publish(TOPIC, format!("{name}: {text}")).await {
                        tracing::warn!(%error, "chat line refused");
                        let refusal = json!({"error": "not sent: the chat is unavailable, try again"});
                        ws.send(refusal.to_string()).await?;
                    }
                }
                Message::Binary(_) => {}
                Message::Close { .. } => return Ok(()),
            },
            event = events.next() => match event {
                Some(Ok(Event::Message(message))) => {
                    let line = json!({"id": message.id().to_string(), "text": message.data()});
                    ws.send(line.to_string()).await?;
                }
                Some(Ok(Event::Missed(missed))) => {
                    ws.send(json!({"missed": missed.count()}).to_string()).await?;
                }
                Some(Err(error)) => {
                    tracing::error!(%error, "chat subscription failed");
                    return ws.close(1011, "the chat failed").await;
                }
                None => return ws.close(1011, "the chat ended").await,
            },
        }
    }
}

/// The chat's routes on `hub`; `instance` tells guests of different instances apart.
/// Shared with the tests.
pub fn app(hub: Hub, instance: &str) -> Application {
    let mut app = Application::new();
    app.info.insert(Room {
        hub,
        instance: instance.to_owned(),
        guests: AtomicU64::new(0),
    });
    app.ws_max_message_size(MAX_LINE);
    app.http_router.add(["GET"], "/", index);
    app.ws_router.add("/ws", chat);
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
    let mut app = app(hub, &std::process::id().to_string());
    app.reuse_port(std::env::var("REUSE_PORT").is_ok_and(|value| value == "1"));
    serve::serve(app, 9012, "").await
}
