//! The WebSocket examples, served for real: the echo page and socket, and the chat room
//! with two clients and one that falls behind.
#![cfg(feature = "ws")]

mod common;

#[path = "../examples/ws_echo.rs"]
mod ws_echo;

#[path = "../examples/ws_chat.rs"]
mod ws_chat;

use std::time::Duration;

use bareasgi::hub::Hub;
use common::{TestServer, client};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const LIMIT: Duration = Duration::from_secs(10);

async fn connect(server: &TestServer, path: &str) -> Client {
    let url = format!("ws://{}{}", server.addr, path);
    tokio::time::timeout(LIMIT, tokio_tungstenite::connect_async(url))
        .await
        .unwrap()
        .unwrap()
        .0
}

async fn next_text(socket: &mut Client) -> String {
    loop {
        match tokio::time::timeout(LIMIT, socket.next())
            .await
            .expect("no message in time")
        {
            Some(Ok(Message::Text(text))) => return text.as_str().to_owned(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn echo_example_serves_its_page_and_echoes() {
    let server = TestServer::start(ws_echo::app()).await;
    let page = client()
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<input id="message""#) && page.contains(r#"+ "/ws""#),
        "{page}"
    );
    let mut socket = connect(&server, "/ws").await;
    socket.send(Message::text("hello, echo")).await.unwrap();
    assert_eq!(next_text(&mut socket).await, "hello, echo");
    socket.send(Message::binary(Vec::new())).await.unwrap();
    assert_eq!(
        socket.next().await.unwrap().unwrap(),
        Message::binary(Vec::new())
    );
}

/// The next chat line: `(id, text)` for a message, `("missed", count)` for a gap.
async fn next_line(socket: &mut Client) -> (String, String) {
    let line: serde_json::Value = serde_json::from_str(&next_text(socket).await).unwrap();
    match (&line["id"], &line["text"], line.get("missed")) {
        (serde_json::Value::String(id), serde_json::Value::String(text), _) => {
            (id.clone(), text.clone())
        }
        (_, _, Some(count)) => ("missed".to_owned(), count.to_string()),
        _ => panic!("unexpected line {line}"),
    }
}

async fn next_chat_text(socket: &mut Client) -> String {
    next_line(socket).await.1
}

#[tokio::test]
async fn chat_example_broadcasts_to_everyone() {
    let server = TestServer::start(ws_chat::app(Hub::memory(), "a")).await;
    let mut alice = connect(&server, "/ws").await;
    assert_eq!(next_chat_text(&mut alice).await, "guest-1@a joined");
    let mut bob = connect(&server, "/ws").await;
    assert_eq!(next_chat_text(&mut alice).await, "guest-2@a joined");
    assert_eq!(next_chat_text(&mut bob).await, "guest-2@a joined");
    alice.send(Message::text("hi bob")).await.unwrap();
    assert_eq!(next_chat_text(&mut alice).await, "guest-1@a: hi bob");
    assert_eq!(next_chat_text(&mut bob).await, "guest-1@a: hi bob");
    bob.close(None).await.unwrap();
    assert_eq!(next_chat_text(&mut alice).await, "guest-2@a left");
}

// A client whose connection dropped reconnects with the last id it saw and receives what
// was said meanwhile, then the live lines, each once.
#[tokio::test]
async fn chat_example_resumes_after_the_last_event_id() {
    let server = TestServer::start(ws_chat::app(Hub::memory(), "a")).await;
    let mut alice = connect(&server, "/ws").await;
    assert_eq!(next_chat_text(&mut alice).await, "guest-1@a joined");
    let mut bob = connect(&server, "/ws").await;
    assert_eq!(next_chat_text(&mut bob).await, "guest-2@a joined");
    let (last_seen, text) = next_line(&mut alice).await;
    assert_eq!(text, "guest-2@a joined");
    alice.close(None).await.unwrap();
    assert_eq!(next_chat_text(&mut bob).await, "guest-1@a left");
    bob.send(Message::text("while alice was away"))
        .await
        .unwrap();
    assert_eq!(
        next_chat_text(&mut bob).await,
        "guest-2@a: while alice was away"
    );
    let mut alice = connect(&server, &format!("/ws?last_event_id={last_seen}")).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next_chat_text(&mut alice).await);
    }
    assert_eq!(
        seen,
        [
            "guest-1@a left",
            "guest-2@a: while alice was away",
            "guest-3@a joined",
        ]
    );
    bob.send(Message::text("welcome back")).await.unwrap();
    assert_eq!(next_chat_text(&mut alice).await, "guest-2@a: welcome back");
}

#[tokio::test]
async fn chat_example_tells_a_lagging_client_what_it_missed() {
    let server = TestServer::start(ws_chat::app(Hub::memory(), "a")).await;
    // A small receive buffer, so the server's writes to this client block soon after it
    // stops reading, as they would for a client on a slow link.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let url = format!("ws://{}/ws", server.addr);
    let (mut slow, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    assert_eq!(next_chat_text(&mut slow).await, "guest-1@a joined");
    let (mut talker, mut talker_hears) = connect(&server, "/ws").await.split();
    // The talker reads everything, so only the slow client falls behind.
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = talker_hears.next().await {} });
    // 8 MB: more than the kernel buffers between the server and the slow client hold
    // (a 4 MiB send buffer at most here, measured ~3.5 MB), and then the hub's history
    // (1,024 lines).
    let line = "z".repeat(4000);
    for _ in 0..2000 {
        talker.send(Message::text(line.clone())).await.unwrap();
    }
    talker.send(Message::text("the end")).await.unwrap();
    let mut missed = None;
    loop {
        let (id, text) = next_line(&mut slow).await;
        if id == "missed" {
            missed = Some(text.parse::<u64>().unwrap());
        }
        if text == "guest-2@a: the end" {
            break;
        }
    }
    assert!(
        missed.is_some_and(|count| count > 0),
        "the slow client was never told it missed lines"
    );
    drain.abort();
}
