//! A WebSocket echo: a page with a text box whose messages come back from the server.
//!
//! ```text
//! cargo run --example ws_echo                # PORT=9011 by default
//! ```
//! Open <http://localhost:9011>, type, press Enter.

use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
use bareasgi::{Application, HttpRequest, IntoResponse, text_writer};

#[cfg(not(test))] // the tests that include this file take its routes, and do not serve
#[path = "support/serve.rs"]
mod serve;

const PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8">
    <title>WebSocket echo</title>
  </head>
  <body>
    <h1>WebSocket echo</h1>
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
        item.className = "echo";
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

async fn index(_req: HttpRequest) -> impl IntoResponse {
    (
        200,
        [("content-type", "text/html; charset=utf-8")],
        text_writer(PAGE),
    )
}

async fn echo(_req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept(None, ()).await?;
    loop {
        match ws.receive().await? {
            Message::Close { .. } => return Ok(()),
            message => ws.send(message).await?,
        }
    }
}

/// The echo's routes, shared with the tests and the benchmark.
pub fn app() -> Application {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", index);
    app.ws_router.add("/ws", echo);
    app
}

#[cfg(not(test))] // the tests that include this file use `app` only
#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    serve::serve(app(), 9011, "").await
}
