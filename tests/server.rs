//! Serving: HTTP/2 prior knowledge, keep-alive, timeouts, limits, shutdown, and the
//! application as a hyper `Service`.

mod common;

use std::time::{Duration, Instant};

use bareasgi::{Application, Body, HttpRequest};
use common::{TestServer, client, h2_client, raw, read_until_close, status_of};
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn hello_app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    app.http_router
        .add(["GET"], "/version", |req: HttpRequest| async move {
            format!("{:?}", req.version())
        });
    app
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served_on_the_same_port() {
    let server = TestServer::start(hello_app()).await;
    let response = h2_client()
        .get(server.url("/version"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.text().await.unwrap(), "HTTP/2.0");
    let response = client().get(server.url("/version")).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "HTTP/1.1");
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let server = TestServer::start(hello_app()).await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
    let replies = read_until_close(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(replies.matches("HTTP/1.1 200 OK").count(), 2, "{replies}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off_and_others_are_served() {
    let mut app = hello_app();
    app.header_read_timeout(Some(Duration::from_millis(300)));
    let server = TestServer::start(app).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // Meanwhile others are served.
    assert_eq!(
        client().get(server.url("/")).send().await.unwrap().status(),
        200
    );
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buffer)).await;
    let elapsed = started.elapsed();
    assert!(read.is_ok(), "the connection was never closed");
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "closed after {elapsed:?}"
    );
}

#[tokio::test]
async fn headers_over_the_size_limit_get_431() {
    let mut app = hello_app();
    app.max_header_size(8 * 1024);
    let server = TestServer::start(app).await;
    let huge = format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let reply = raw(server.addr, huge.as_bytes()).await;
    assert_eq!(status_of(&reply), 431, "{reply}");
    assert_eq!(
        client().get(server.url("/")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn graceful_shutdown_lets_the_request_in_flight_finish() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/slow", |_req: HttpRequest| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "finished"
        });
    let mut server = TestServer::start(app).await;
    let url = server.url("/slow");
    let request = tokio::spawn(async move { client().get(url).send().await?.text().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.trigger_stop();
    assert_eq!(request.await.unwrap().unwrap(), "finished");
    tokio::time::timeout(Duration::from_secs(5), server.take_handle())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn shutdown_cuts_off_an_endless_stream_after_the_shutdown_timeout() {
    let mut app = Application::new();
    app.shutdown_timeout(Duration::from_millis(300));
    app.http_router
        .add(["GET"], "/endless", |_req: HttpRequest| async {
            let ticks = stream::unfold((), |()| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Some(("tick\n", ()))
            });
            Body::from_stream(ticks)
        });
    let mut server = TestServer::start(app).await;
    let mut response = client().get(server.url("/endless")).send().await.unwrap();
    assert!(response.chunk().await.unwrap().is_some());
    let started = Instant::now();
    server.trigger_stop();
    tokio::time::timeout(Duration::from_secs(5), server.take_handle())
        .await
        .expect("serve never returned")
        .unwrap()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(2),
        "returned after {elapsed:?}"
    );
    // The stream was not marked end_on_shutdown, so the client sees it cut, not completed.
    let mut outcome = Ok(());
    for _ in 0..100 {
        match response.chunk().await {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }
    assert!(
        outcome.is_err(),
        "an endless stream cut by shutdown must not look complete"
    );
}

#[tokio::test]
async fn max_connections_holds_new_connections_until_one_closes() {
    let mut app = hello_app();
    app.max_connections(Some(1));
    let server = TestServer::start(app).await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    assert!(first.read(&mut buffer).await.unwrap() > 0);
    // The second connection is accepted by the kernel but not served while the first is open.
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    second
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(300), second.read(&mut buffer)).await;
    assert!(
        early.is_err(),
        "the second connection was served while the first held the only slot"
    );
    drop(first);
    let reply = read_until_close(&mut second, Duration::from_secs(5)).await;
    assert_eq!(status_of(&reply), 200);
}

#[tokio::test]
async fn serve_reports_an_address_it_cannot_bind() {
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = taken.local_addr().unwrap();
    let error = hello_app().serve(addr).await.unwrap_err();
    assert!(error.is_bind());
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot listen on {addr}: ")),
        "{error}"
    );
}

#[tokio::test]
async fn the_application_is_a_hyper_service_callable_without_a_socket() {
    use http_body_util::{BodyExt, Full};
    use hyper::service::Service;
    let mut app = hello_app();
    app.http_router
        .add(["POST"], "/echo", |mut req: HttpRequest| async move {
            req.text().await
        });
    let service = app.into_service();
    let request = http::Request::post("/echo")
        .body(Full::new(bytes::Bytes::from("in-process")))
        .unwrap();
    let response = service.call(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "in-process"
    );
    let missing = service
        .call(
            http::Request::get("/nope")
                .body(Full::new(bytes::Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
