//! WebSockets over a real socket with a tokio-tungstenite client: echo, fragments, pings,
//! close codes both ways, size limits, routing (unknown path, 426, 400), middleware,
//! subprotocols, the handler's refusals, and shutdown.
#![cfg(all(feature = "ws", feature = "test"))]

mod common;

use std::time::{Duration, Instant};

use bareasgi::test::TestClient;
use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest, WsNext, close_code};
use bareasgi::{Application, HttpRequest, HttpResponse};
use common::{TestServer, client, status_of};
use futures_util::{SinkExt, StreamExt};
use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const LIMIT: Duration = Duration::from_secs(5);

async fn connect(server: &TestServer, path: &str) -> Client {
    let url = format!("ws://{}{}", server.addr, path);
    let (socket, response) = tokio::time::timeout(LIMIT, tokio_tungstenite::connect_async(url))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 101);
    socket
}

/// The HTTP status a failed handshake was answered with.
async fn refused(
    server: &TestServer,
    request: impl IntoClientRequest + Unpin,
) -> http::Response<Option<Vec<u8>>> {
    let _ = server;
    match tokio::time::timeout(LIMIT, tokio_tungstenite::connect_async(request))
        .await
        .unwrap()
    {
        Err(tungstenite::Error::Http(response)) => *response,
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, got a WebSocket"),
    }
}

/// Sends a raw request and returns the response head, without waiting for the server to
/// close (a `101` leaves the connection open).
async fn head_of(server: &TestServer, request: &str) -> String {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(LIMIT, async {
        let mut buffer = [0u8; 1024];
        while !received.windows(4).any(|window| window == b"\r\n\r\n") {
            match stream.read(&mut buffer).await.unwrap() {
                0 => break,
                n => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .expect("no response head within 5 s");
    String::from_utf8_lossy(&received).into_owned()
}

/// The next message that is not a ping or pong.
async fn next(socket: &mut Client) -> WsMessage {
    loop {
        match tokio::time::timeout(LIMIT, socket.next())
            .await
            .expect("no message within 5 s")
        {
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
            Some(Ok(message)) => return message,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

fn close_of(message: WsMessage) -> (u16, String) {
    match message {
        WsMessage::Close(Some(frame)) => (u16::from(frame.code), frame.reason.as_str().to_owned()),
        other => panic!("expected a close frame, got {other:?}"),
    }
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

/// An echo app whose handler reports the close it received on `closes`.
fn reporting_echo() -> (Application, mpsc::UnboundedReceiver<(u16, String)>) {
    let (report, closes) = mpsc::unbounded_channel();
    let mut app = Application::new();
    app.ws_router
        .add("/echo", move |_req: WebSocketRequest, mut ws: WebSocket| {
            let report = report.clone();
            async move {
                ws.accept(None, ()).await?;
                loop {
                    match ws.receive().await? {
                        Message::Close { code, reason } => {
                            assert_eq!(ws.close_code(), Some(code));
                            let _ = report.send((code, reason));
                            return Ok::<_, WebSocketError>(());
                        }
                        message => ws.send(message).await?,
                    }
                }
            }
        });
    (app, closes)
}

async fn reported(closes: &mut mpsc::UnboundedReceiver<(u16, String)>) -> (u16, String) {
    tokio::time::timeout(LIMIT, closes.recv())
        .await
        .expect("the handler did not report a close")
        .unwrap()
}

#[tokio::test]
async fn text_and_binary_echo_including_empty_frames() {
    let mut app = Application::new();
    app.ws_router.add("/echo", echo);
    let client = TestClient::new(app);
    let mut socket = client.websocket("/echo").await;
    let messages = [
        Message::from("hello"),
        Message::from(""),
        Message::from(vec![0u8, 1, 2, 255]),
        // bareASGI reads an empty binary frame as text; it must stay binary.
        Message::from(Vec::new()),
        Message::from("héllo ✓"),
    ];
    for message in messages {
        socket.send(message.clone()).await.unwrap();
        assert_eq!(socket.receive().await.unwrap(), message);
    }
    let big = "x".repeat(200_000);
    socket.send(big.clone()).await.unwrap();
    assert_eq!(socket.receive().await.unwrap(), Message::Text(big));
}

#[tokio::test]
async fn fragmented_messages_arrive_whole() {
    let mut app = Application::new();
    app.ws_router.add("/echo", echo);
    let server = TestServer::start(app).await;
    let mut socket = connect(&server, "/echo").await;
    let fragments = [
        Frame::message("frag", OpCode::Data(Data::Text), false),
        Frame::message("men", OpCode::Data(Data::Continue), false),
        // A ping may come between fragments.
        Frame::ping(b"in between".to_vec()),
        Frame::message("ted", OpCode::Data(Data::Continue), true),
    ];
    for frame in fragments {
        socket.send(WsMessage::Frame(frame)).await.unwrap();
    }
    assert_eq!(next(&mut socket).await, WsMessage::text("fragmented"));
    socket
        .send(WsMessage::Frame(Frame::message(
            vec![1u8],
            OpCode::Data(Data::Binary),
            false,
        )))
        .await
        .unwrap();
    socket
        .send(WsMessage::Frame(Frame::message(
            vec![2u8, 3],
            OpCode::Data(Data::Continue),
            true,
        )))
        .await
        .unwrap();
    assert_eq!(next(&mut socket).await, WsMessage::binary(vec![1u8, 2, 3]));
}

#[tokio::test]
async fn ping_is_answered_with_pong() {
    let mut app = Application::new();
    app.ws_router.add("/echo", echo);
    let server = TestServer::start(app).await;
    let mut socket = connect(&server, "/echo").await;
    socket
        .send(WsMessage::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(LIMIT, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, WsMessage::Pong(b"are you there".to_vec().into()));
    // And the conversation goes on.
    socket.send(WsMessage::text("after")).await.unwrap();
    assert_eq!(next(&mut socket).await, WsMessage::text("after"));
}

#[tokio::test]
async fn client_close_code_and_reason_reach_the_handler() {
    let (app, mut closes) = reporting_echo();
    let server = TestServer::start(app).await;
    let mut socket = connect(&server, "/echo").await;
    socket
        .close(Some(CloseFrame {
            code: CloseCode::from(4001),
            reason: "bye now".into(),
        }))
        .await
        .unwrap();
    assert_eq!(reported(&mut closes).await, (4001, "bye now".into()));
    // The server replies with the same code, then ends the connection.
    assert_eq!(close_of(next(&mut socket).await), (4001, "bye now".into()));
    assert!(
        tokio::time::timeout(LIMIT, socket.next())
            .await
            .unwrap()
            .is_none()
    );

    // A close frame without a code is reported as 1005.
    let mut socket = connect(&server, "/echo").await;
    socket.close(None).await.unwrap();
    assert_eq!(
        reported(&mut closes).await,
        (close_code::NO_STATUS, String::new())
    );

    // A connection that drops without a close is reported as 1006.
    let socket = connect(&server, "/echo").await;
    drop(socket);
    assert_eq!(reported(&mut closes).await.0, close_code::ABNORMAL);
}

#[tokio::test]
async fn server_close_code_and_reason_reach_the_client() {
    let (report, mut closes) = mpsc::unbounded_channel();
    let mut app = Application::new();
    app.ws_router.add(
        "/close",
        move |_req: WebSocketRequest, mut ws: WebSocket| {
            let report = report.clone();
            async move {
                ws.accept(None, ()).await?;
                assert!(matches!(
                    ws.close(1005, "").await,
                    Err(WebSocketError::InvalidCloseCode(1005))
                ));
                assert!(matches!(
                    ws.close(4000, &"x".repeat(124)).await,
                    Err(WebSocketError::CloseReasonTooLong)
                ));
                ws.close(4002, "done here").await?;
                assert_eq!(ws.close_code(), Some(4002));
                assert!(matches!(ws.send("late").await, Err(WebSocketError::Closed)));
                // The handler's own close is reported once, then the socket is spent.
                let _ = report.send(ws.receive().await?);
                assert!(matches!(ws.receive().await, Err(WebSocketError::Closed)));
                Ok::<_, WebSocketError>(())
            }
        },
    );
    app.ws_router.add(
        "/returns",
        |_req: WebSocketRequest, mut ws: WebSocket| async move {
            ws.accept(None, ()).await?;
            ws.send("one message").await
        },
    );
    let server = TestServer::start(app).await;
    let mut socket = connect(&server, "/close").await;
    assert_eq!(
        close_of(next(&mut socket).await),
        (4002, "done here".into())
    );
    assert!(
        tokio::time::timeout(LIMIT, socket.next())
            .await
            .unwrap()
            .is_none()
    );
    let reported = tokio::time::timeout(LIMIT, closes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reported,
        Message::Close {
            code: 4002,
            reason: "done here".into()
        }
    );

    // A handler that returns closes normally.
    let mut socket = connect(&server, "/returns").await;
    assert_eq!(next(&mut socket).await, WsMessage::text("one message"));
    assert_eq!(close_of(next(&mut socket).await).0, 1000);
}

#[tokio::test]
async fn a_panicking_handler_closes_with_1011() {
    let mut app = Application::new();
    app.ws_router.add(
        "/boom",
        |_req: WebSocketRequest, mut ws: WebSocket| async move {
            ws.accept(None, ()).await.unwrap();
            let _ = ws.receive().await;
            if ws.is_open() {
                panic!("the handler broke");
            }
        },
    );
    async fn boom_early(req: WebSocketRequest, _ws: WebSocket) {
        if req.path() == "/boom-early" {
            panic!("the handler broke before accepting");
        }
    }
    app.ws_router.add("/boom-early", boom_early);
    let server = TestServer::start(app).await;
    let mut socket = connect(&server, "/boom").await;
    socket.send(WsMessage::text("go")).await.unwrap();
    assert_eq!(
        close_of(next(&mut socket).await).0,
        close_code::INTERNAL_ERROR
    );
    let response = refused(&server, format!("ws://{}/boom-early", server.addr)).await;
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn oversize_message_is_closed_with_1009() {
    let (mut app, mut closes) = reporting_echo();
    app.ws_max_message_size(1024);
    let server = TestServer::start(app).await;

    let mut socket = connect(&server, "/echo").await;
    socket
        .send(WsMessage::text("x".repeat(1024)))
        .await
        .unwrap();
    assert_eq!(
        next(&mut socket).await,
        WsMessage::text("x".repeat(1024)),
        "the limit itself is allowed"
    );
    // Sent in full without waiting: the server must not read it all before closing.
    let _ = socket.send(WsMessage::binary(vec![7u8; 64 * 1024])).await;
    assert_eq!(
        close_of(next(&mut socket).await).0,
        close_code::MESSAGE_TOO_BIG
    );
    assert_eq!(reported(&mut closes).await.0, close_code::MESSAGE_TOO_BIG);

    // Fragments that add up to more than the limit count as one message.
    let mut socket = connect(&server, "/echo").await;
    for (opcode, last) in [
        (Data::Text, false),
        (Data::Continue, false),
        (Data::Continue, true),
    ] {
        let frame = Frame::message("y".repeat(400), OpCode::Data(opcode), last);
        let _ = socket.send(WsMessage::Frame(frame)).await;
    }
    assert_eq!(
        close_of(next(&mut socket).await).0,
        close_code::MESSAGE_TOO_BIG
    );
    assert_eq!(reported(&mut closes).await.0, close_code::MESSAGE_TOO_BIG);
}

#[tokio::test]
async fn invalid_utf8_text_is_closed_with_1007() {
    let (app, mut closes) = reporting_echo();
    let server = TestServer::start(app).await;
    let mut socket = connect(&server, "/echo").await;
    socket
        .send(WsMessage::Frame(Frame::message(
            vec![0xffu8, 0xfe],
            OpCode::Data(Data::Text),
            true,
        )))
        .await
        .unwrap();
    assert_eq!(
        close_of(next(&mut socket).await).0,
        close_code::INVALID_DATA
    );
    assert_eq!(reported(&mut closes).await.0, close_code::INVALID_DATA);
}

#[tokio::test]
async fn websocket_routes_use_the_http_patterns_and_precedence() {
    let mut app = Application::new();
    for pattern in ["/r/{rest:path}", "/r/{name}", "/r/{id:int}", "/r/me"] {
        app.ws_router.add(
            pattern,
            move |req: WebSocketRequest, mut ws: WebSocket| async move {
                let captures: Vec<String> = req
                    .matches
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                ws.accept(None, ()).await?;
                ws.send(
                    format!("{pattern} {}", captures.join(" "))
                        .trim_end()
                        .to_owned(),
                )
                .await
            },
        );
    }
    assert!(
        app.ws_router
            .try_add("/r/{other:int}", echo)
            .unwrap_err()
            .to_string()
            .contains("/r/{id:int}")
    );
    let server = TestServer::start(app).await;
    for (path, expected) in [
        ("/r/me", "/r/me"),
        ("/r/42", "/r/{id:int} id=42"),
        ("/r/J%C3%BCrgen", "/r/{name} name=Jürgen"),
        ("/r/a/b", "/r/{rest:path} rest=a/b"),
    ] {
        let mut socket = connect(&server, path).await;
        assert_eq!(next(&mut socket).await, WsMessage::text(expected), "{path}");
    }
}

#[tokio::test]
async fn unknown_path_is_404() {
    let mut app = Application::new();
    app.ws_router.add("/ws", echo);
    let server = TestServer::start(app).await;
    let response = refused(&server, format!("ws://{}/elsewhere", server.addr)).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn plain_request_to_a_websocket_only_path_is_426_and_shared_paths_serve_both() {
    let mut app = Application::new();
    app.ws_router.add("/ws", echo);
    app.ws_router.add("/both", echo);
    app.http_router
        .add(["GET"], "/both", |_req: HttpRequest| async { "plain page" });
    app.ws_router.add("/posted", echo);
    app.http_router
        .add(["POST"], "/posted", |_req: HttpRequest| async { "posted" });
    let server = TestServer::start(app).await;

    let response = client().get(server.url("/ws")).send().await.unwrap();
    assert_eq!(response.status(), 426);
    assert_eq!(response.headers()["upgrade"], "websocket");
    assert_eq!(response.headers()["sec-websocket-version"], "13");
    assert_eq!(
        client()
            .post(server.url("/ws"))
            .send()
            .await
            .unwrap()
            .status(),
        426
    );

    let response = client().get(server.url("/both")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "plain page");
    let mut socket = connect(&server, "/both").await;
    socket.send(WsMessage::text("ws too")).await.unwrap();
    assert_eq!(next(&mut socket).await, WsMessage::text("ws too"));

    assert_eq!(
        client()
            .get(server.url("/posted"))
            .send()
            .await
            .unwrap()
            .status(),
        426
    );
    assert_eq!(
        client()
            .post(server.url("/posted"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let response = client().delete(server.url("/posted")).send().await.unwrap();
    assert_eq!(response.status(), 405, "other methods keep their 405");
}

#[tokio::test]
async fn invalid_handshakes_are_400() {
    let mut app = Application::new();
    app.ws_router.add("/ws", echo);
    let server = TestServer::start(app).await;
    let good = "host: x\r\nconnection: close, upgrade\r\nupgrade: websocket\r\n";
    let key = "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let cases = [
        ("no version", format!("GET /ws HTTP/1.1\r\n{good}{key}\r\n")),
        (
            "version 8",
            format!("GET /ws HTTP/1.1\r\n{good}{key}sec-websocket-version: 8\r\n\r\n"),
        ),
        (
            "no key",
            format!("GET /ws HTTP/1.1\r\n{good}sec-websocket-version: 13\r\n\r\n"),
        ),
        (
            "short key",
            format!(
                "GET /ws HTTP/1.1\r\n{good}sec-websocket-key: abc\r\nsec-websocket-version: 13\r\n\r\n"
            ),
        ),
        (
            "no connection: upgrade",
            format!(
                "GET /ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\n{key}sec-websocket-version: 13\r\n\r\n"
            ),
        ),
        (
            "POST",
            format!(
                "POST /ws HTTP/1.1\r\n{good}{key}sec-websocket-version: 13\r\ncontent-length: 0\r\n\r\n"
            ),
        ),
        (
            "HTTP/1.0",
            format!("GET /ws HTTP/1.0\r\n{good}{key}sec-websocket-version: 13\r\n\r\n"),
        ),
    ];
    for (case, request) in cases {
        let reply = head_of(&server, &request).await;
        assert_eq!(status_of(&reply), 400, "{case}: {reply}");
        if case == "version 8" {
            assert!(
                reply
                    .to_ascii_lowercase()
                    .contains("sec-websocket-version: 13\r\n"),
                "{reply}"
            );
        }
    }
    // The same request, valid, is switched.
    let valid = format!(
        "GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n{key}sec-websocket-version: 13\r\n\r\n"
    );
    let reply = head_of(&server, &valid).await;
    assert_eq!(status_of(&reply), 101, "{reply}");
    assert!(
        reply.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{reply}"
    );
}

#[tokio::test]
async fn middleware_can_refuse_before_the_upgrade_and_fill_the_context() {
    struct User(&'static str);
    async fn authorize(mut req: WebSocketRequest, next: WsNext) -> HttpResponse {
        match req
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
        {
            Some("Bearer good") => {
                req.context.insert(User("alice"));
                let mut response = next.run(req).await;
                response
                    .headers
                    .insert("x-authorized", "yes".parse().unwrap());
                response
            }
            _ => HttpResponse::text(StatusCode::UNAUTHORIZED, "who are you?"),
        }
    }
    let (started, mut handlers) = mpsc::unbounded_channel::<()>();
    let mut app = Application::new();
    app.ws_middleware(authorize);
    app.ws_router.add(
        "/private",
        move |req: WebSocketRequest, mut ws: WebSocket| {
            let started = started.clone();
            async move {
                let _ = started.send(());
                let user = req.context.get::<User>().map_or("nobody", |user| user.0);
                ws.accept(None, ()).await?;
                ws.send(format!("hello {user}")).await
            }
        },
    );
    let server = TestServer::start(app).await;

    let response = refused(&server, format!("ws://{}/private", server.addr)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.body().as_deref(), Some(&b"who are you?"[..]));
    assert!(
        handlers.try_recv().is_err(),
        "the handler must not run for a refused connection"
    );

    let mut request = format!("ws://{}/private", server.addr)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer good".parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["x-authorized"], "yes");
    assert_eq!(next(&mut socket).await, WsMessage::text("hello alice"));
}

#[tokio::test]
async fn accept_sends_the_chosen_subprotocol_and_headers() {
    let mut app = Application::new();
    app.ws_router.add(
        "/proto",
        |req: WebSocketRequest, mut ws: WebSocket| async move {
            let offered: Vec<String> = req.subprotocols().map(str::to_owned).collect();
            assert!(matches!(
                ws.accept(Some("unoffered"), ()).await,
                Err(WebSocketError::UnknownSubprotocol(_))
            ));
            ws.accept(Some("chat.v2"), [("x-room", "lobby")]).await?;
            ws.send(offered.join("|")).await
        },
    );
    let server = TestServer::start(app).await;
    let mut request = format!("ws://{}/proto", server.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "chat.v1, chat.v2".parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "chat.v2");
    assert_eq!(response.headers()["x-room"], "lobby");
    assert_eq!(next(&mut socket).await, WsMessage::text("chat.v1|chat.v2"));
}

#[tokio::test]
async fn a_handler_that_does_not_accept_refuses_the_handshake() {
    let mut app = Application::new();
    app.ws_router
        .add("/silent", |_req: WebSocketRequest, _ws: WebSocket| async {});
    app.ws_router.add(
        "/rooms/{room}",
        |req: WebSocketRequest, mut ws: WebSocket| async move {
            if req.matches.get("room") == Some("lobby") {
                ws.accept(None, ()).await?;
                ws.send("welcome").await
            } else {
                ws.reject((404, "no such room"))
            }
        },
    );
    app.ws_router.add(
        "/closed-early",
        |_req: WebSocketRequest, mut ws: WebSocket| async move { ws.close(1000, "").await },
    );
    let server = TestServer::start(app).await;
    assert_eq!(
        refused(&server, format!("ws://{}/silent", server.addr))
            .await
            .status(),
        403
    );
    assert_eq!(
        refused(&server, format!("ws://{}/closed-early", server.addr))
            .await
            .status(),
        403
    );
    let response = refused(&server, format!("ws://{}/rooms/attic", server.addr)).await;
    assert_eq!(response.status(), 404);
    assert_eq!(response.body().as_deref(), Some(&b"no such room"[..]));
    let mut socket = connect(&server, "/rooms/lobby").await;
    assert_eq!(next(&mut socket).await, WsMessage::text("welcome"));
}

#[tokio::test]
async fn server_shutdown_closes_open_sockets_with_1001() {
    let (app, mut closes) = reporting_echo();
    let mut server = TestServer::start(app).await;
    let mut first = connect(&server, "/echo").await;
    let mut second = connect(&server, "/echo").await;
    first.send(WsMessage::text("still here")).await.unwrap();
    assert_eq!(next(&mut first).await, WsMessage::text("still here"));

    let started = Instant::now();
    server.trigger_stop();
    for socket in [&mut first, &mut second] {
        assert_eq!(close_of(next(socket).await).0, close_code::GOING_AWAY);
        // Reading on sends the client's reply, completing the closing handshake.
        assert!(
            tokio::time::timeout(LIMIT, socket.next())
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(reported(&mut closes).await.0, close_code::GOING_AWAY);
    assert_eq!(reported(&mut closes).await.0, close_code::GOING_AWAY);
    tokio::time::timeout(LIMIT, server.take_handle())
        .await
        .expect("serve did not return")
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn shutdown_drops_a_handler_that_ignores_it_after_the_timeout() {
    let mut app = Application::new();
    app.shutdown_timeout(Duration::from_millis(300));
    app.ws_router.add(
        "/stuck",
        |_req: WebSocketRequest, mut ws: WebSocket| async move {
            ws.accept(None, ()).await?;
            // Never receives, never sends: only the hard stop ends it.
            std::future::pending::<()>().await;
            Ok::<_, WebSocketError>(())
        },
    );
    let mut server = TestServer::start(app).await;
    let mut socket = connect(&server, "/stuck").await;
    let started = Instant::now();
    server.trigger_stop();
    tokio::time::timeout(LIMIT, server.take_handle())
        .await
        .expect("serve did not return")
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        started.elapsed()
    );
    // The connection is gone (closed without a frame, or with one: either way it ends).
    let ended = tokio::time::timeout(LIMIT, async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok());
}

#[tokio::test]
async fn a_handler_too_slow_to_decide_gets_the_request_timeout() {
    // The wait for accept() is part of the request: past the request timeout the client gets
    // 503 and the late accept() learns that the handshake is gone.
    let (report, mut outcomes) = mpsc::unbounded_channel();
    let mut app = Application::new();
    app.request_timeout(Some(Duration::from_millis(200)));
    app.ws_router
        .add("/slow", move |_req: WebSocketRequest, mut ws: WebSocket| {
            let report = report.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let _ = report.send(ws.accept(None, ()).await);
            }
        });
    let server = TestServer::start(app).await;
    assert_eq!(
        refused(&server, format!("ws://{}/slow", server.addr))
            .await
            .status(),
        503
    );
    let outcome = tokio::time::timeout(LIMIT, outcomes.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(outcome, Err(WebSocketError::HandshakeAbandoned)),
        "{outcome:?}"
    );
}
