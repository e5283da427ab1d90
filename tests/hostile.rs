//! Hostile and faulty clients: slowloris, slow readers, malformed requests, panics under
//! load, shutdown under load, request timeouts. Each check is bounded in time and ends with
//! "and the next client is fine".

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::{Application, Body, BoxError, HttpRequest, TypeMap};
use common::{TestServer, client, raw, read_until_close, status_of};
use futures_util::stream::{self, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    app.http_router.add(
        ["GET", "POST"],
        "/items/{id:int}",
        |req: HttpRequest| async move { format!("item {}", req.matches.get("id").unwrap()) },
    );
    app.http_router.add(
        ["GET"],
        "/files/{rest:path}",
        |req: HttpRequest| async move { req.matches.get("rest").unwrap().to_owned() },
    );
    app.http_router
        .add(["POST"], "/echo", |mut req: HttpRequest| async move {
            req.text().await
        });
    app
}

async fn next_client_is_fine(server: &TestServer) {
    let response = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "Hello, World!");
}

#[tokio::test]
async fn slowloris_is_cut_off_at_the_header_timeout_while_others_are_served() {
    let mut app = app();
    app.header_read_timeout(Some(Duration::from_millis(800)));
    let server = TestServer::start(app).await;
    let addr = server.addr;
    // Five attackers, each sending its headers a byte every 50 ms (they would need ~2 s).
    let attackers: Vec<_> = (0..5)
        .map(|_| {
            tokio::spawn(async move {
                let mut socket = TcpStream::connect(addr).await.unwrap();
                let started = Instant::now();
                for byte in b"GET / HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaa\r\n\r\n" {
                    if socket.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let mut rest = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut rest))
                    .await;
                (
                    started.elapsed(),
                    String::from_utf8_lossy(&rest).into_owned(),
                )
            })
        })
        .collect();
    // Meanwhile the server answers others at once.
    for _ in 0..10 {
        let started = Instant::now();
        next_client_is_fine(&server).await;
        assert!(started.elapsed() < Duration::from_millis(500));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for attacker in attackers {
        let (elapsed, reply) = attacker.await.unwrap();
        assert!(
            !reply.contains("Hello"),
            "a slowloris request must not be served: {reply}"
        );
        assert!(
            elapsed < Duration::from_millis(2000),
            "cut off after {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn headers_over_the_limit_get_431_and_the_connection_closes() {
    let server = TestServer::start(app()).await; // default limit: 64 KiB
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let huge = format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let _ = socket.write_all(huge.as_bytes()).await;
    let started = Instant::now();
    let reply = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(status_of(&reply), 431, "{reply}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the connection must be closed, not left open"
    );
    next_client_is_fine(&server).await;
}

#[tokio::test]
async fn malformed_requests_get_a_4xx_or_a_closed_connection_and_never_take_the_server_down() {
    let server = TestServer::start(app()).await;
    let cases: &[(&str, &[u8])] = &[
        ("garbage request line", b"THIS IS NOT HTTP\r\n\r\n"),
        ("missing version", b"GET /\r\n\r\n"),
        ("bad version", b"GET / HTTP/9.9\r\nhost: x\r\n\r\n"),
        ("invalid method token", b"G(T / HTTP/1.1\r\nhost: x\r\n\r\n"),
        ("space in header name", b"GET / HTTP/1.1\r\nhost: x\r\nbad name: v\r\n\r\n"),
        ("control byte in header value", b"GET / HTTP/1.1\r\nhost: x\r\nx-a: a\x01b\r\n\r\n"),
        ("newline without CR in header", b"GET / HTTP/1.1\r\nhost: x\r\nx-a: b\nx-c\r\n\r\n"),
        ("non-numeric content-length", b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n"),
        ("conflicting content-lengths", b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd"),
        ("bad chunk size", b"POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        ("chunk longer than announced", b"POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n"),
        ("invalid percent-encoding", b"GET /files/%zz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        ("truncated escape", b"GET /files/a%2 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        ("dot-dot traversal", b"GET /files/../../etc/passwd HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        ("encoded dot-dot", b"GET /files/%2e%2E/secret HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        ("encoded slash in a capture", b"GET /files/a%2Fb HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        ("invalid UTF-8 after decoding", b"GET /files/%C0%AF HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        ("encoded NUL", b"GET /files/a%00b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        ("URI too long", format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70 * 1024)).leak().as_bytes()),
        ("binary noise", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
    ];
    for (name, request) in cases {
        let started = Instant::now();
        let reply = raw(server.addr, request).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{name}: the connection was left open"
        );
        if !reply.is_empty() {
            let status = status_of(&reply);
            assert!(
                (400..500).contains(&status),
                "{name}: got {status}: {reply}"
            );
            assert!(
                !reply.contains("Hello") && !reply.contains("item"),
                "{name}: served anyway: {reply}"
            );
        }
        next_client_is_fine(&server).await;
    }
    let reply = raw(
        server.addr,
        b"GET /items/abc HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        status_of(&reply),
        404,
        "a typed capture that does not parse is simply not that route"
    );
}

/// A request's status and body, or what went wrong on the client's side.
type Outcome = Result<(u16, String), String>;

#[tokio::test]
async fn under_concurrent_load_exactly_the_panicking_requests_fail() {
    let mut app = app();
    app.http_router
        .add(["GET"], "/work/{n:int}", |req: HttpRequest| async move {
            let n: u64 = req.matches.parse("n").unwrap();
            tokio::time::sleep(Duration::from_millis(n % 7)).await;
            if n % 10 == 3 {
                panic!("request {n} fails");
            }
            if n % 10 == 7 {
                // This one fails later, inside its body stream.
                let body = stream::iter(0..2).then(move |part| async move {
                    if part == 1 {
                        panic!("stream {n} fails");
                    }
                    format!("{n} partial ")
                });
                return Body::from_stream(body);
            }
            Body::from(n.to_string())
        });
    let server = TestServer::start(app).await;
    let http = client();
    let outcomes: Vec<(u64, Outcome)> = stream::iter(0..1000u64)
        .map(|n| {
            let request = http.get(server.url(&format!("/work/{n}")));
            async move {
                let outcome = async {
                    let response = request.send().await?;
                    let status = response.status().as_u16();
                    Ok::<_, reqwest::Error>((status, response.text().await?))
                }
                .await;
                (n, outcome.map_err(|error| error.to_string()))
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(outcomes.len(), 1000);
    for (n, outcome) in outcomes {
        match n % 10 {
            3 => assert_eq!(outcome.map(|(status, _)| status), Ok(500), "request {n}"),
            7 => assert!(
                outcome.is_err(),
                "request {n}'s stream panicked, the client must see it cut: {outcome:?}"
            ),
            _ => assert_eq!(outcome, Ok((200, n.to_string())), "request {n}"),
        }
    }
    next_client_is_fine(&server).await;
}

#[tokio::test]
async fn graceful_shutdown_under_load_completes_every_accepted_request() {
    let started = Arc::new(Mutex::new(HashSet::new()));
    let log = started.clone();
    let shutdown_handler_ran = Arc::new(AtomicUsize::new(0));
    let ran = shutdown_handler_ran.clone();
    let mut app = Application::new();
    app.shutdown_timeout(Duration::from_secs(5));
    app.on_shutdown(move |_info: &TypeMap| {
        ran.fetch_add(1, Ordering::SeqCst);
        async { Ok::<(), BoxError>(()) }
    });
    app.http_router
        .add(["GET"], "/work/{n:int}", move |req: HttpRequest| {
            let n: u64 = req.matches.parse("n").unwrap();
            log.lock().unwrap().insert(n);
            async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                n.to_string()
            }
        });
    let mut server = TestServer::start(app).await;
    let base = server.url("");
    let next = Arc::new(AtomicUsize::new(0));
    // 32 clients, each with its own keep-alive connection, sending requests back to back.
    let clients: Vec<_> = (0..32)
        .map(|_| {
            let (base, next) = (base.clone(), next.clone());
            tokio::spawn(async move {
                let http = client();
                let mut completed = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst) as u64;
                    match http.get(format!("{base}/work/{n}")).send().await {
                        Ok(response) => {
                            let body = response
                                .text()
                                .await
                                .expect("an accepted request's body must be complete");
                            assert_eq!(body, n.to_string());
                            completed.push(n);
                        }
                        Err(_) => return completed, // refused or closed before it was accepted
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = Instant::now();
    server.trigger_stop();
    let served = tokio::time::timeout(Duration::from_secs(6), server.take_handle()).await;
    let stop_took = stopping.elapsed();
    served
        .expect("serve must return within the shutdown timeout")
        .unwrap()
        .unwrap();
    let mut completed = HashSet::new();
    for client in clients {
        completed.extend(client.await.unwrap());
    }
    let started = started.lock().unwrap().clone();
    let lost: Vec<_> = started.difference(&completed).collect();
    assert!(
        lost.is_empty(),
        "requests whose handler ran but whose response was lost: {lost:?}"
    );
    assert!(
        completed.len() > 100,
        "the load was real: {} requests",
        completed.len()
    );
    assert_eq!(shutdown_handler_ran.load(Ordering::SeqCst), 1);
    println!(
        "{} requests completed; serve returned {stop_took:?} after the signal",
        completed.len()
    );
}

#[tokio::test]
async fn a_handler_over_the_request_timeout_gets_503_but_a_long_stream_is_not_cut() {
    let mut app = app();
    app.request_timeout(Some(Duration::from_millis(200)));
    app.http_router
        .add(["GET"], "/stuck", |_req: HttpRequest| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "too late"
        });
    app.http_router
        .add(["GET"], "/long-stream", |_req: HttpRequest| async {
            let ticks = stream::iter(0..5).then(|n| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                format!("{n}")
            });
            Body::from_stream(ticks)
        });
    let server = TestServer::start(app).await;
    let started = Instant::now();
    let response = client().get(server.url("/stuck")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(2));
    let streamed = client()
        .get(server.url("/long-stream"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        streamed, "01234",
        "a body streaming for 500 ms is not governed by the 200 ms timeout"
    );
    next_client_is_fine(&server).await;
}

#[tokio::test]
async fn a_client_that_connects_and_sends_nothing_is_cut_off_at_the_header_timeout() {
    let mut app = app();
    app.header_read_timeout(Some(Duration::from_millis(500)));
    let server = TestServer::start(app).await;
    for prefix in [&b""[..], b"PRI * HTTP/2.0\r\n"] {
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        silent.write_all(prefix).await.unwrap();
        let started = Instant::now();
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut rest)).await;
        assert!(
            closed.is_ok(),
            "a connection that sent {prefix:?} and then nothing was never closed"
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(400) && elapsed < Duration::from_secs(2),
            "closed after {elapsed:?}"
        );
    }
    next_client_is_fine(&server).await;
}

#[tokio::test]
async fn the_header_read_timeout_never_cuts_a_slow_handler_or_a_silent_stream() {
    // Regression: the timeout is the connection's, so it must know a request is open.
    let mut app = app();
    app.header_read_timeout(Some(Duration::from_millis(200)));
    app.http_router
        .add(["GET"], "/long-poll", |_req: HttpRequest| async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            "news"
        });
    app.http_router
        .add(["GET"], "/silent-stream", |_req: HttpRequest| async {
            let chunks = stream::iter(["first ", "second"]).then(|chunk| async move {
                if chunk == "second" {
                    tokio::time::sleep(Duration::from_millis(700)).await;
                }
                chunk
            });
            Body::from_stream(chunks)
        });
    let server = TestServer::start(app).await;
    let http = client();
    let long_poll = http
        .get(server.url("/long-poll"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(long_poll, "news");
    let streamed = http
        .get(server.url("/silent-stream"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(streamed, "first second");
    // And the same keep-alive connection still serves, being used again within the timeout.
    assert_eq!(
        http.get(server.url("/")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_missing_repeated_or_invalid_host_gets_400_while_absolute_form_targets_still_work() {
    // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one valid Host.
    let server = TestServer::start(app()).await;
    for (request, status, body) in [
        ("GET / HTTP/1.1\r\n\r\n", 400, "missing Host header"),
        (
            "GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n",
            400,
            "more than one Host header",
        ),
        (
            "GET / HTTP/1.1\r\nhost: a b/c\r\n\r\n",
            400,
            "invalid Host header",
        ),
        (
            "GET / HTTP/1.1\r\nhost: me@a\r\n\r\n",
            400,
            "invalid Host header",
        ),
        (
            "GET http://example.com/items/7 HTTP/1.1\r\nhost: example.com\r\nconnection: close\r\n\r\n",
            200,
            "item 7",
        ),
        (
            "GET / HTTP/1.1\r\nhost: [::1]:9009\r\nconnection: close\r\n\r\n",
            200,
            "Hello, World!",
        ),
        ("GET / HTTP/1.0\r\n\r\n", 200, "Hello, World!"),
    ] {
        let reply = raw(server.addr, request.as_bytes()).await;
        assert_eq!(status_of(&reply), status, "{request:?}: {reply}");
        assert!(reply.ends_with(body), "{request:?}: {reply}");
        if status == 400 {
            assert!(reply.contains("connection: close"), "{reply}");
        }
    }
    next_client_is_fine(&server).await;
}
