//! The WebSocket examples, served for real: the echo page and socket, and the chat room
//! with two clients and one that falls behind.
#![cfg(feature = "ws")]

mod common;

#[path = "../examples/ws_echo.rs"]
mod ws_echo;

#[path = "../examples/ws_chat.rs"]
mod ws_chat;

use std::time::Duration;

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

#[tokio::test]
async fn chat_example_broadcasts_to_everyone() {
    let server = TestServer::start(ws_chat::app()).await;
    let mut alice = connect(&server, "/ws").await;
    assert_eq!(next_text(&mut alice).await, "guest-1 joined");
    let mut bob = connect(&server, "/ws").await;
    assert_eq!(next_text(&mut alice).await, "guest-2 joined");
    assert_eq!(next_text(&mut bob).await, "guest-2 joined");
    alice.send(Message::text("hi bob")).await.unwrap();
    assert_eq!(next_text(&mut alice).await, "guest-1: hi bob");
    assert_eq!(next_text(&mut bob).await, "guest-1: hi bob");
    bob.close(None).await.unwrap();
    assert_eq!(next_text(&mut alice).await, "guest-2 left");
}

#[tokio::test]
async fn chat_example_tells_a_lagging_client_what_it_missed() {
    let server = TestServer::start(ws_chat::app()).await;
    // A small receive buffer, so the server's writes to this client block soon after it
    // stops reading, as they would for a client on a slow link.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(8 * 1024).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let url = format!("ws://{}/ws", server.addr);
    let (mut slow, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    assert_eq!(next_text(&mut slow).await, "guest-1 joined");
    let (mut talker, mut talker_hears) = connect(&server, "/ws").await.split();
    // The talker reads everything, so only the slow client falls behind.
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = talker_hears.next().await {} });
    // 8 MB: more than the kernel buffers between the server and the slow client hold
    // (a 4 MiB send buffer at most here, measured ~3.5 MB), and then the room's backlog.
    let line = "z".repeat(4000);
    for _ in 0..2000 {
        talker.send(Message::text(line.clone())).await.unwrap();
    }
    talker.send(Message::text("the end")).await.unwrap();
    let mut missed = None;
    loop {
        let text = next_text(&mut slow).await;
        if let Some(count) = text
            .strip_prefix("(you missed ")
            .and_then(|rest| rest.strip_suffix(" messages)"))
        {
            missed = Some(count.parse::<u64>().unwrap());
        }
        if text == "guest-2: the end" {
            break;
        }
    }
    assert!(
        missed.is_some_and(|count| count > 0),
        "the slow client was never told it missed lines"
    );
    drain.abort();
}
