//! The attack of issue 23 as it was made: many clients each ask `examples/sse_chat` for its
//! event stream (a hub subscription, a keep-alive registration, the connection's in-flight
//! token), send one more byte and reset the connection while the head is being written.
//! Each such stream used to live for ever: 100,000 requests took the server from 5 MB to
//! 89 MB of RSS. Now the server's RSS must come back to within 1 MiB of where it was once
//! it had served its first requests.
//!
//! 10,000 requests by default (a few seconds on a quiet machine); `SOAK_REQUESTS=100000`
//! for the full attack. The server runs as the example's `main` runs it (a runtime of its own); the process's
//! RSS is measured, the client's share of it (a few sockets at a time) being steady.

#[path = "../examples/sse_chat.rs"]
#[allow(dead_code)]
mod sse_chat;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bareasgi::hub::Hub;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// `requests` times, from `clients` clients at once: the request, one byte, a reset.
async fn attack(port: u16, requests: usize, clients: usize) {
    let left = Arc::new(AtomicUsize::new(requests));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let left = left.clone();
            tokio::spawn(async move {
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let Ok(mut socket) = TcpStream::connect(("127.0.0.1", port)).await else {
                        continue;
                    };
                    let _ = socket
                        .write_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\nx")
                        .await;
                    let _ = socket.set_zero_linger();
                    drop(socket);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// `examples/sse_chat`'s application on the in-process hub, served as its `main` serves
/// it: on a runtime of its own (two workers), in a thread of its own.
fn start_sse_chat() -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            sse_chat::app(Hub::memory())
                .serve_with_shutdown(listener, async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    (port, stop, server)
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_resets_during_the_head_leaves_the_servers_memory_where_it_was() {
    let requests: usize = std::env::var("SOAK_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let pid = std::process::id();
    let at_start = rss_kib(pid);
    let (port, stop, server) = start_sse_chat();
    attack(port, 1_000, 8).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let warmed_up = rss_kib(pid);
    let fds = open_fds(pid);

    let started = Instant::now();
    attack(port, requests, 8).await;
    let took = started.elapsed();
    // Once the connections are gone (the last resets may take the server a moment), the
    // memory must be back.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = rss_kib(pid);
    while (after.saturating_sub(warmed_up) > 1024 || open_fds(pid) > fds)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = rss_kib(pid);
    }
    eprintln!(
        "{requests} requests in {took:.2?}: RSS {at_start} KiB at start, {warmed_up} KiB \
         after 1,000 requests, {after} KiB after {requests} more; open fds {fds} -> {}",
        open_fds(pid)
    );
    let _ = stop.send(());
    server.join().unwrap();
    assert!(
        after <= warmed_up + 1024,
        "RSS grew from {warmed_up} KiB to {after} KiB over {requests} requests"
    );
}
