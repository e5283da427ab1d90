//! The open-file limit: `serve` raises the soft limit to the hard one (unless told not
//! to), and a server that runs out of file descriptors anyway backs off instead of
//! spinning, logs it at most once a second, and serves again once descriptors free up.
//!
//! One test in a file of its own: the limit belongs to the whole process.
#![cfg(unix)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::{Application, HttpRequest};
use common::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn app() -> Application {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    app
}

fn open_files() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count() as u64)
}

/// CPU time (user + system) of this process, read through `stat`, opened beforehand (there
/// may be no descriptor left to open it with when it is needed).
fn cpu_time(stat: &mut std::fs::File) -> Duration {
    use std::io::{Read, Seek};
    stat.rewind().unwrap();
    let mut stat_text = String::new();
    stat.read_to_string(&mut stat_text).unwrap();
    let stat = stat_text;
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// A log sink that keeps the lines for the test to count.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn hello(addr: std::net::SocketAddr) -> bool {
    let Ok(mut socket) = TcpStream::connect(addr).await else {
        return false;
    };
    if socket
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut reply = String::new();
    let _ = socket.read_to_string(&mut reply).await;
    reply.ends_with("Hello, World!")
}

#[tokio::test]
async fn serve_raises_the_open_file_limit_and_rides_out_running_out_of_descriptors() {
    let (original, hard) = rlimit::Resource::NOFILE.get().unwrap();
    if hard < 512 {
        eprintln!("skipped: the hard open-file limit is {hard}");
        return;
    }

    // 1. Left at a low soft limit, `serve` raises it to the hard one.
    rlimit::Resource::NOFILE.set(256, hard).unwrap();
    let server = TestServer::start(app()).await;
    assert!(hello(server.addr).await);
    assert_eq!(rlimit::Resource::NOFILE.get_soft().unwrap(), hard);
    server.stop().await.unwrap();

    // 2. Told not to, it leaves the limit alone, and then runs out: this process holds
    //    both ends of every connection, so a few dozen connections use up the room left.
    let log = Lines::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);
    let mut stat = std::fs::File::open("/proc/self/stat").unwrap();
    rlimit::Resource::NOFILE
        .set(open_files() + 40, hard)
        .unwrap();
    let mut app = app();
    app.raise_fd_limit(false);
    let server = TestServer::start(app).await;
    assert!(hello(server.addr).await);
    assert!(rlimit::Resource::NOFILE.get_soft().unwrap() < 256);
    let mut flood = Vec::new();
    for _ in 0..200 {
        match TcpStream::connect(server.addr).await {
            Ok(socket) => flood.push(socket),
            Err(_) => break, // out of descriptors on the client side too
        }
        tokio::task::yield_now().await;
    }
    // The backlog now holds connections the server cannot accept.
    let busy_since = cpu_time(&mut stat);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cpu = cpu_time(&mut stat) - busy_since;
    let wall = started.elapsed();
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let reports = text.matches("accept failed").count();
    assert!(
        text.contains("Too many open files") || text.contains("os error 24"),
        "the server never ran out: {} connections opened; log: {text}",
        flood.len()
    );
    assert!(
        cpu < wall / 2,
        "the accept loop spun: {cpu:?} of CPU in {wall:?}"
    );
    assert!(
        (1..=3).contains(&reports),
        "{reports} reports in {wall:?}: {text}"
    );

    // 3. Once descriptors free up, it serves again.
    drop(flood);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !hello(server.addr).await {
        assert!(
            Instant::now() < deadline,
            "not serving 10 s after the flood left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await.unwrap();
    rlimit::Resource::NOFILE.set(original, hard).unwrap();
}
