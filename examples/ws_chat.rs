//! A WebSocket chat room: every message goes to everyone connected.
//!
//! ```text
//! cargo run --example ws_chat                # PORT=9012 by default
//! ```
//! Open <http://localhost:9012> in two tabs.
//!
//! One `tokio::sync::broadcast` channel, kept in `app.info`, carries every line, as the
//! server-sent-events chat does: each connection subscribes, and forwards what it receives
//! to its client while reading what the client says. The channel holds the last
//! [`BACKLOG`] lines only, so a client too slow to keep up never makes the server buffer
//! without bound: it skips ahead and is told how many lines it missed.

use std::sync::atomic::{AtomicU64, Ordering};

use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
use bareasgi::{Application, HttpRequest, IntoResponse, text_writer};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

#[cfg(not(test))] // the tests that include this file take its routes, and do not serve
#[path = "support/serve.rs"]
mod serve;

/// How many lines the room keeps for subscribers that are behind.
pub const BACKLOG: usize = 64;
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
      const socket = new WebSocket(scheme + location.host + "/ws");
      const status = document.getElementById("status");
      const log = document.getElementById("log");
      const input = document.getElementById("message");
      socket.onopen = () => { status.textContent = "connected"; };
      socket.onclose = (event) => { status.textContent = "closed (" + event.code + ")"; };
      socket.onmessage = (event) => {
        const item = document.createElement("li");
        item.textContent = event.data;
        log.appendChild(item);
      };
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

/// The room: the sending side of the channel, and a counter to name guests.
struct Room {
    lines: broadcast::Sender<String>,
    guests: AtomicU64,
}

async fn index(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "text/html; charset=utf-8")],
        text_writer(PAGE),
    )
}

async fn chat(req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
    let room = req.info.get::<Room>().expect("the room is set up in app()");
    let name = format!("guest-{}", room.guests.fetch_add(1, Ordering::Relaxed) + 1);
    // Subscribe before announcing, so the newcomer sees its own arrival.
    let mut lines = room.lines.subscribe();
    ws.accept(None, ()).await?;
    let _ = room.lines.send(format!("{name} joined"));
    let result = converse(&mut ws, &mut lines, &room.lines, &name).await;
    let _ = room.lines.send(format!("{name} left"));
    result
}

async fn converse(
    ws: &mut WebSocket,
    lines: &mut broadcast::Receiver<String>,
    room: &broadcast::Sender<String>,
    name: &str,
) -> Result<(), WebSocketError> {
    loop {
        tokio::select! {
            // `receive` is cancel-safe: losing the race to a broadcast line loses nothing.
            message = ws.receive() => match message? {
                Message::Text(text) => {
                    let _ = room.send(format!("{name}: {text}"));
                }
                Message::Binary(_) => {}
                Message::Close { .. } => return Ok(()),
            },
            line = lines.recv() => match line {
                Ok(line) => ws.send(line).await?,
                Err(RecvError::Lagged(missed)) => ws.send(format!("(you missed {missed} messages)")).await?,
                Err(RecvError::Closed) => return ws.close(1001, "the room closed").await,
            },
        }
    }
}

/// The chat's routes, shared with the test that runs a conversation.
pub fn app() -> Application {
    let mut app = Application::new();
    let (lines, _) = broadcast::channel(BACKLOG);
    app.info.insert(Room {
        lines,
        guests: AtomicU64::new(0),
    });
    app.ws_max_message_size(MAX_LINE);
    app.http_router.add(["GET"], "/", index);
    app.ws_router.add("/ws", chat);
    app
}

#[cfg(not(test))] // the test that includes this file uses `app` only
#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    serve::serve(app(), 9012, "").await
}
