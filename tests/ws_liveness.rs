//! WebSockets whose peer vanished or stopped reading never hold a socket and its handler
//! forever: the server pings a silent socket and gives up on a peer that answers nothing,
//! and a send the peer does not read fails at the write-stall timeout. And a handler that
//! fails after accepting closes with 1011, not 1000.
#![cfg(feature = "ws")]

mod common;

use std::time::{Duration, Instant};

use bareasgi::Application;
use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest, close_code};
use common::TestServer;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(server: &TestServer, path: &str) -> Client {
    let url = format!("ws://{}{}", server.addr, path);
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// `/echo` echoes and reports how the conversation ended (code, reason) and when.
fn reporting_echo() -> (Application, mpsc::UnboundedReceiver<(u16, String, Instant)>) {
    let (report, reports) = mpsc::unbounded_channel();
    let mut app = Application::new();
    app.ws_router
        .add("/echo", move |_req: WebSocketRequest, mut ws: WebSocket| {
            let report = report.clone();
            async move {
                ws.accept(None, ()).await?;
                loop {
                    match ws.receive().await? {
                        Message::Close { code, reason } => {
                            let _ = report.send((code, reason, Instant::now()));
                            return Ok::<_, WebSocketError>(());
                        }
                        message => ws.send(message).await?,
                    }
                }
            }
        });
    (app, reports)
}

#[tokio::test]
async fn a_peer_that_answers_pings_is_kept_and_one_that_stops_is_let_go() {
    let (mut app, mut reports) = reporting_echo();
    app.ws_ping_interval(Some(Duration::from_millis(200)))
        .ws_ping_timeout(Duration::from_millis(300));
    let server = TestServer::start(app).await;

    // A live client (tungstenite answers pings while it reads) stays open through many
    // intervals, and sees the pings.
    let mut live = connect(&server, "/echo").await;
    let mut pings = 0;
    let until = Instant::now() + Duration::from_millis(1500);
    while let Ok(Some(message)) = tokio::time::timeout_at(until.into(), live.next()).await {
        if matches!(message.unwrap(), WsMessage::Ping(_)) {
            pings += 1;
        }
    }
    assert!(pings >= 3, "{pings} pings in 1.5 s at a 200 ms interval");
    live.send(WsMessage::text("still here")).await.unwrap();
    loop {
        match live.next().await.unwrap().unwrap() {
            WsMessage::Text(text) => break assert_eq!(text.as_str(), "still here"),
            WsMessage::Ping(_) | WsMessage::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(reports.try_recv().is_err(), "the live socket was closed");

    // A client that stops reading answers nothing: its handler hears 1006.
    let silent = connect(&server, "/echo").await;
    let started = Instant::now();
    let (code, reason, at) = tokio::time::timeout(Duration::from_secs(5), reports.recv())
        .await
        .expect("the silent peer was never let go")
        .unwrap();
    assert_eq!(code, close_code::ABNORMAL);
    assert_eq!(reason, "the peer stopped answering pings");
    let after = at - started;
    assert!(
        after >= Duration::from_millis(450) && after < Duration::from_secs(4),
        "let go after {after:?}"
    );
    drop(silent);
}

#[tokio::test]
async fn a_handler_that_returns_an_error_after_accepting_closes_with_1011() {
    let mut app = Application::new();
    app.ws_router.add(
        "/fails",
        |_req: WebSocketRequest, mut ws: WebSocket| async move {
            ws.accept(None, ()).await?;
            let _ = ws.receive().await?;
            Err::<(), _>(WebSocketError::Connection("the database is down".into()))
        },
    );
    app.ws_router.add(
        "/fine",
        |_req: WebSocketRequest, mut ws: WebSocket| async move {
            ws.accept(None, ()).await?;
            let _ = ws.receive().await?;
            Ok::<_, WebSocketError>(())
        },
    );
    app.ws_router.add(
        "/drops-early",
        |_req: WebSocketRequest, mut ws: WebSocket| async move {
            ws.accept(None, ()).await?;
            drop(ws);
            // The socket is closed now, not when this handler ends.
            tokio::time::sleep(Duration::from_secs(30)).await;
            Err::<(), WebSocketError>(WebSocketError::Closed)
        },
    );
    let server = TestServer::start(app).await;
    for (path, code) in [
        ("/fails", close_code::INTERNAL_ERROR),
        ("/fine", close_code::NORMAL),
        ("/drops-early", close_code::NORMAL),
    ] {
        let mut socket = connect(&server, path).await;
        socket.send(WsMessage::text("go")).await.unwrap();
        let close = loop {
            let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
                .await
                .unwrap_or_else(|_| panic!("{path}: no close within 5 s"));
            if let WsMessage::Close(frame) = message.unwrap().unwrap() {
                break frame.map(|frame| u16::from(frame.code));
            }
        };
        assert_eq!(close, Some(code), "{path}");
    }
}

#[tokio::test]
async fn a_send_the_peer_never_reads_fails_at_the_write_stall_timeout() {
    let (report, mut reports) = mpsc::unbounded_channel();
    let mut app = Application::new();
    app.ws_ping_interval(None)
        .write_stall_timeout(Some(Duration::from_millis(500)));
    app.ws_router.add(
        "/flood",
        move |_req: WebSocketRequest, mut ws: WebSocket| {
            let report = report.clone();
            async move {
                ws.accept(None, ()).await?;
                let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
                let failed = loop {
                    if let Err(error) = ws.send(chunk.clone()).await {
                        break error;
                    }
                };
                let _ = report.send((failed.is_disconnect(), failed.to_string(), Instant::now()));
                Ok::<_, WebSocketError>(())
            }
        },
    );
    let server = TestServer::start(app).await;
    let socket = connect(&server, "/flood").await; // and never read
    let started = Instant::now();
    let (is_disconnect, error, at) = tokio::time::timeout(Duration::from_secs(10), reports.recv())
        .await
        .expect("the handler was still sending after 10 s")
        .unwrap();
    assert!(is_disconnect, "{error}");
    assert!(error.contains("read nothing for 500ms"), "{error}");
    assert!(at - started < Duration::from_secs(5));
    drop(socket);
}
