//! The four ways in of issue 12, and its two smaller findings, measured against a server at
//! its default settings (the figures before and after the fix come from this harness):
//!
//! 1. `h2-memory`: HTTP/2 clients that open their flow-control windows, ask for an endless
//!    body on 200 streams per connection and never read: server RSS with 3 and 10 such
//!    connections, and after they leave.
//! 2. `h2-idle`: an HTTP/2 connection that sends the preface and then nothing, and one that
//!    sends one request and then nothing: how long until the server closes them.
//! 3. `body-stall`: a request body announced as 4,000 bytes that never comes, one that
//!    comes at a byte a second (HTTP/1.1), and a stalled body over HTTP/2.
//! 4. `slow-reader`: a client reading a 50 MB buffered body steadily at 512 KiB/s: how
//!    much it gets.
//! 5. `host`: requests with no `Host`, two `Host` fields and `Host: a b/c`.
//! 6. `fd-flood`: a server left at a soft limit of 1,024 open files, flooded with 5,000
//!    connections that send nothing: how long a fresh client waits for its answer.
//!
//! ```text
//! cargo bench --bench ways_in                       # everything (about 4 minutes)
//! cargo bench --bench ways_in -- h2-memory host     # some of it
//! ```
//! Each scenario starts the server in a child process (this binary in server mode, on a
//! two-thread runtime as `#[tokio::main]` gives), so its RSS is its own and its open-file
//! limit can be set apart; the attackers run here. Only the default settings and the API
//! that existed before the fix are used, so the same file measures both.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bareasgi::{Application, Body, HttpRequest};
use bytes::Bytes;
use futures_util::future::join_all;
use futures_util::stream;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const SERVER_MODE: &str = "BAREASGI_WAYS_IN_SERVER";
/// How long a scenario waits for the server to close a connection before calling it
/// "never": three times the default header-read timeout, and then some.
const NEVER: Duration = Duration::from_secs(100);
const BIG_BODY: usize = 50_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--list") {
        return; // `cargo test --benches` asks bench binaries for their tests
    }
    if let Ok(soft) = std::env::var(SERVER_MODE) {
        if let Ok(soft) = soft.parse::<u64>() {
            let (_, hard) = rlimit::Resource::NOFILE.get().unwrap();
            rlimit::Resource::NOFILE.set(soft, hard).unwrap();
        }
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(server());
        return;
    }
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let chosen: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let wants = |name: &str| chosen.is_empty() || chosen.contains(&name);
    runtime.block_on(async {
        if wants("h2-memory") {
            h2_memory().await;
        }
        if wants("host") {
            host().await;
        }
        // The timed scenarios share one server and run side by side.
        let server = Server::start(None).await;
        let addr = server.addr;
        let mut timed = Vec::new();
        if wants("h2-idle") {
            timed.push(tokio::spawn(h2_idle(addr)));
        }
        if wants("body-stall") {
            timed.push(tokio::spawn(body_stall(addr)));
        }
        if wants("slow-reader") {
            timed.push(tokio::spawn(slow_reader(addr)));
        }
        for report in join_all(timed).await {
            for line in report.unwrap() {
                println!("{line}");
            }
        }
        drop(server);
        if wants("fd-flood") {
            fd_flood().await;
        }
    });
}

/// Server mode: the routes the attacks aim at, at the default settings.
async fn server() {
    let mut app = Application::new();
    app.http_router
        .add(["GET"], "/", |_req: HttpRequest| async { "Hello, World!" });
    app.http_router
        .add(["GET"], "/firehose", |_req: HttpRequest| async {
            Body::from_stream(stream::repeat_with(|| Bytes::from(vec![b'x'; 64 * 1024])))
        });
    app.http_router
        .add(["GET"], "/big", |_req: HttpRequest| async {
            Body::from(vec![b'x'; BIG_BODY])
        });
    app.http_router
        .add(["POST"], "/upload", |mut req: HttpRequest| async move {
            // `?`, as most handlers would: a body error answers with its own status.
            req.bytes()
                .await
                .map(|bytes| format!("read {} bytes", bytes.len()))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("Listening on {}", listener.local_addr().unwrap());
    app.serve_listener(listener).await.unwrap();
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(soft_nofile: Option<u64>) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(
                SERVER_MODE,
                soft_nofile.map_or_else(String::new, |soft| soft.to_string()),
            )
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next_line().await.unwrap().unwrap();
        let addr = line.strip_prefix("Listening on ").unwrap().parse().unwrap();
        Self { child, addr }
    }

    fn rss_mib(&self) -> f64 {
        let pid = self.child.id().unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kib: f64 = status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .unwrap()
            .parse()
            .unwrap();
        kib / 1024.0
    }

    fn open_files(&self) -> usize {
        let pid = self.child.id().unwrap();
        std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
    }
}

// --- raw HTTP/2 frames, for clients that must not read ---------------------------------

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = payload.len() as u32;
    let mut bytes = length.to_be_bytes()[1..].to_vec();
    bytes.extend([kind, flags]);
    bytes.extend(stream.to_be_bytes());
    bytes.extend(payload);
    bytes
}

/// The preface, SETTINGS with the largest stream window, and the largest connection window.
fn open_windows() -> Vec<u8> {
    let mut bytes = PREFACE.to_vec();
    let mut settings = vec![0, 4]; // SETTINGS_INITIAL_WINDOW_SIZE
    settings.extend(0x7fff_ffffu32.to_be_bytes());
    bytes.extend(frame(0x4, 0, 0, &settings));
    bytes.extend(frame(0x8, 0, 0, &(0x7fff_ffffu32 - 65_535).to_be_bytes()));
    bytes
}

/// A HEADERS frame for `GET path` (HPACK literals without Huffman coding), ending the
/// stream.
fn get(stream: u32, path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86, 0x04, path.len() as u8]; // :method GET, :scheme http, :path
    block.extend(path.as_bytes());
    block.extend([0x01, 0x01, b'x']); // :authority x
    frame(0x1, 0x5, stream, &block)
}

// --- 1. never-read HTTP/2 streams ----------------------------------------------------

async fn h2_memory() {
    let server = Server::start(None).await;
    let mut warm = TcpStream::connect(server.addr).await.unwrap();
    http1_request(&mut warm, "GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_mib();
    println!("h2-memory: server RSS at rest {before:.1} MiB");
    // 10 twice: memory the first round left is reused by the second, not added to.
    for connections in [3, 10, 10] {
        let mut sockets = Vec::new();
        for _ in 0..connections {
            let mut socket = TcpStream::connect(server.addr).await.unwrap();
            let mut bytes = open_windows();
            for index in 0..200 {
                bytes.extend(get(1 + 2 * index, "/firehose"));
            }
            socket.write_all(&bytes).await.unwrap();
            sockets.push(socket); // and never read from it
        }
        let mut peak = 0.0f64;
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            peak = peak.max(server.rss_mib());
        }
        drop(sockets);
        let mut after = Vec::new();
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            after.push(format!("{:.1}", server.rss_mib()));
        }
        println!(
            "h2-memory: {connections} connections x 200 never-read streams: RSS peak {peak:.1} MiB \
             (+{:.1} MiB); after they left, each second for 5 s: {} MiB ({} files open)",
            peak - before,
            after.join(", "),
            server.open_files()
        );
    }
}

// --- 2. silent HTTP/2 connections ------------------------------------------------------

async fn h2_idle(addr: SocketAddr) -> Vec<String> {
    let preface_only = async {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        let mut bytes = PREFACE.to_vec();
        bytes.extend(frame(0x4, 0, 0, &[]));
        socket.write_all(&bytes).await.unwrap();
        format!(
            "h2-idle: preface then silence: {}",
            time_to_close(&mut socket).await
        )
    };
    let one_request = async {
        // A polite client (it answers pings) that sends one request and then nothing.
        let socket = TcpStream::connect(addr).await.unwrap();
        let (client, connection) = h2::client::handshake(socket).await.unwrap();
        let started = Instant::now();
        let driver = tokio::spawn(connection);
        let mut client = client.ready().await.unwrap();
        let request = http::Request::get(format!("http://{addr}/"))
            .body(())
            .unwrap();
        let (response, _) = client.send_request(request, true).unwrap();
        let status = response.await.unwrap().status();
        let closed = tokio::time::timeout(NEVER, driver).await;
        let outcome = match closed {
            Ok(_) => format!("closed after {:.1?}", started.elapsed()),
            Err(_) => format!("still open after {NEVER:?}"),
        };
        format!("h2-idle: one request ({status}) then silence: {outcome}")
    };
    let (first, second) = tokio::join!(preface_only, one_request);
    vec![first, second]
}

/// Reads until the server closes the connection: "closed after ..." or "still open".
async fn time_to_close(socket: &mut TcpStream) -> String {
    let started = Instant::now();
    let mut sink = Vec::new();
    match tokio::time::timeout(NEVER, socket.read_to_end(&mut sink)).await {
        Ok(_) => format!("closed after {:.1?}", started.elapsed()),
        Err(_) => format!("still open after {NEVER:?}"),
    }
}

// --- 3. stalled request bodies ---------------------------------------------------------

async fn body_stall(addr: SocketAddr) -> Vec<String> {
    let head = "POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 4000\r\n\r\n";
    let nothing = async {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let reply = read_for(&mut socket, NEVER).await;
        format!(
            "body-stall: HTTP/1.1 content-length 4000, no body: {} after {:.1?}",
            describe(&reply),
            started.elapsed()
        )
    };
    let trickle = async {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let (mut reader, mut writer) = socket.into_split();
        let writing = tokio::spawn(async move {
            let mut sent = 0;
            while sent < 4000 && writer.write_all(b"x").await.is_ok() {
                sent += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            sent
        });
        let mut reply = Vec::new();
        let _ = tokio::time::timeout(NEVER, reader.read_to_end(&mut reply)).await;
        writing.abort();
        format!(
            "body-stall: HTTP/1.1 content-length 4000 at 1 byte/s: {} after {:.1?}",
            describe(&String::from_utf8_lossy(&reply)),
            started.elapsed()
        )
    };
    let http2 = async {
        let socket = TcpStream::connect(addr).await.unwrap();
        let (client, connection) = h2::client::handshake(socket).await.unwrap();
        tokio::spawn(connection);
        let mut client = client.ready().await.unwrap();
        let request = http::Request::post(format!("http://{addr}/upload"))
            .header("content-length", "4000")
            .body(())
            .unwrap();
        let started = Instant::now();
        let (response, _body) = client.send_request(request, false).unwrap();
        let outcome = match tokio::time::timeout(NEVER, response).await {
            Ok(Ok(response)) => format!("answered {}", response.status()),
            Ok(Err(error)) => format!("stream ended: {error}"),
            Err(_) => "nothing".to_owned(),
        };
        format!(
            "body-stall: HTTP/2 content-length 4000, no body: {outcome} after {:.1?}",
            started.elapsed()
        )
    };
    let (nothing, trickle, http2) = tokio::join!(nothing, trickle, http2);
    vec![nothing, trickle, http2]
}

async fn read_for(socket: &mut TcpStream, limit: Duration) -> String {
    let mut received = Vec::new();
    let _ = tokio::time::timeout(limit, socket.read_to_end(&mut received)).await;
    String::from_utf8_lossy(&received).into_owned()
}

fn describe(reply: &str) -> String {
    match reply.lines().next() {
        Some(line) if !line.is_empty() => format!("answered {line:?}"),
        _ => "no answer".to_owned(),
    }
}

// --- 4. a slow but steady reader -------------------------------------------------------

async fn slow_reader(addr: SocketAddr) -> Vec<String> {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut received = 0usize;
    let mut buffer = vec![0u8; 32 * 1024];
    let mut tick = tokio::time::interval(Duration::from_micros(62_500)); // 512 KiB/s
    let limit = BIG_BODY + 1024;
    loop {
        tick.tick().await;
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => received += read,
        }
        if received >= limit || started.elapsed() > Duration::from_secs(200) {
            break;
        }
    }
    // The head is a little over 70 bytes.
    let complete = received > BIG_BODY;
    vec![format!(
        "slow-reader: 50 MB body read at 512 KiB/s: {received} bytes in {:.1?}, {}",
        started.elapsed(),
        if complete {
            "complete"
        } else {
            "then the server closed the connection"
        }
    )]
}

// --- 5. Host ---------------------------------------------------------------------------

async fn host() {
    let server = Server::start(None).await;
    for (what, request) in [
        ("no Host", "GET / HTTP/1.1\r\n\r\n"),
        (
            "two Host fields",
            "GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n",
        ),
        ("Host: a b/c", "GET / HTTP/1.1\r\nhost: a b/c\r\n\r\n"),
        (
            "absolute-form target",
            "GET http://a/ HTTP/1.1\r\nhost: a\r\n\r\n",
        ),
    ] {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut reply = vec![0u8; 1024];
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut reply))
            .await
            .map_or(0, Result::unwrap_or_default);
        println!(
            "host: {what}: {}",
            describe(&String::from_utf8_lossy(&reply[..read]))
        );
    }
}

// --- 6. a file-descriptor flood --------------------------------------------------------

async fn fd_flood() {
    let server = Server::start(Some(1024)).await;
    // All at once, each held by its own task until the end: the server meets them as a
    // flood, not as batches it has time to time out.
    let (stop, stopped) = tokio::sync::watch::channel(());
    let connected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let addr = server.addr;
    for _ in 0..5000 {
        let mut stopped = stopped.clone();
        let connected = connected.clone();
        tokio::spawn(async move {
            if let Ok(_socket) = TcpStream::connect(addr).await {
                connected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let _ = stopped.changed().await;
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();
    let answered = tokio::time::timeout(NEVER, async {
        let mut socket = TcpStream::connect(addr).await.unwrap();
        http1_request(&mut socket, "GET / HTTP/1.1\r\nhost: x\r\n\r\n").await
    })
    .await;
    println!(
        "fd-flood: soft limit 1024 at start, 5,000 idle connections at once ({} connected \
         after 1 s): a fresh client {} (server holds {} open files)",
        connected.load(std::sync::atomic::Ordering::Relaxed),
        match answered {
            Ok(true) => format!("was answered after {:.1?}", started.elapsed()),
            Ok(false) => format!("was refused after {:.1?}", started.elapsed()),
            Err(_) => format!("was not answered within {NEVER:?}"),
        },
        server.open_files()
    );
    drop(stop);
}

/// Sends one request and reads its answer: whether "Hello, World!" came back.
async fn http1_request(socket: &mut TcpStream, request: &str) -> bool {
    if socket.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&received).contains("Hello, World!") {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
        }
    }
    true
}
