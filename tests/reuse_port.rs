//! `app.reuse_port(true)`: several servers (processes, here tasks) share one port and the
//! kernel spreads connections among them; without it the second cannot bind.
#![cfg(unix)]

mod common;

use std::time::Duration;

use bareasgi::{Application, HttpRequest};
use common::external::free_port;

fn app(name: &'static str, reuse_port: bool) -> Application {
    let mut app = Application::new();
    app.reuse_port(reuse_port);
    app.http_router
        .add(["GET"], "/", move |_req: HttpRequest| async move { name });
    app
}

async fn wait_listening(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("nothing listens on {port}");
}

#[tokio::test]
async fn servers_with_reuse_port_share_a_port_and_both_serve() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let first = tokio::spawn(app("first", true).serve(addr.clone()));
    wait_listening(port).await;
    let second = tokio::spawn(app("second", true).serve(addr.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the second server could not bind");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..64 {
        // A new connection each time: the kernel picks a listener per connection.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let text = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        seen.insert(text);
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen.len(), 2, "only {seen:?} answered");
    first.abort();
    second.abort();
}

#[tokio::test]
async fn without_reuse_port_a_second_server_cannot_bind() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let first = tokio::spawn(app("first", false).serve(addr.clone()));
    wait_listening(port).await;
    let error = tokio::time::timeout(Duration::from_secs(5), app("second", true).serve(addr))
        .await
        .expect("bind fails at once")
        .unwrap_err();
    assert!(error.is_bind(), "{error}");
    first.abort();
}
