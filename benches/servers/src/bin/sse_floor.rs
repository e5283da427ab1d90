//! The event-stream harness's floor: what one broadcast costs with no framework at all,
//! `sse_floor PORT`.
//!
//! Not a server anyone should run: std threads and blocking sockets, just enough HTTP/1.1
//! for the harness (`GET /events` answered with a chunked `text/event-stream` head and kept;
//! `POST /messages` on a keep-alive connection). A publish encodes the event once, then
//! `write(2)`s the same bytes to every open stream in one tight loop, and answers `201`.
//! That is the least any server can do for a broadcast over TCP, one system call per
//! stream; what the kernel charges for it on this machine is the floor under every other
//! row of the table.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bareasgi_bench_servers::streams::{EVENTS_PATH, PUBLISH_PATH, raise_open_files};

const EVENT_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";

type Streams = Arc<Mutex<Vec<TcpStream>>>;

fn main() -> std::io::Result<()> {
    let Some(port) = std::env::args().nth(1) else {
        eprintln!("usage: sse_floor PORT");
        std::process::exit(2);
    };
    let limit = raise_open_files();
    eprintln!("sse_floor: open-file limit {limit}");
    let listener = listen(port.parse().expect("PORT is a number"))?;
    let streams: Streams = Arc::default();
    let next_id = Arc::new(Mutex::new(0u64));
    for connection in listener.incoming() {
        let Ok(connection) = connection else { continue };
        let _ = connection.set_nodelay(true);
        let _ = connection.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = connection.set_write_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(connection);
        let Some((line, length)) = read_head(&mut reader) else {
            continue;
        };
        if line.starts_with(&format!("GET {EVENTS_PATH} ")) {
            let mut connection = reader.into_inner();
            if connection.write_all(EVENT_HEAD).is_ok() {
                lock(&streams).push(connection);
            }
        } else if line.starts_with(&format!("POST {PUBLISH_PATH} ")) {
            let (streams, next_id) = (streams.clone(), next_id.clone());
            std::thread::spawn(move || publisher(reader, length, &streams, &next_id));
        }
    }
    Ok(())
}

/// A blocking listener with the backlog bareasgi and the axum peer ask for (1,024; std's
/// `TcpListener::bind` asks for 128), by way of tokio's `TcpSocket`.
fn listen(port: u16) -> std::io::Result<TcpListener> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let listener = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(([127, 0, 0, 1], port).into())?;
        socket.listen(1024)?.into_std()
    })?;
    listener.set_nonblocking(false)?;
    Ok(listener)
}

/// Serves one keep-alive publisher: every request's body goes to every stream.
fn publisher(
    mut reader: BufReader<TcpStream>,
    mut length: usize,
    streams: &Streams,
    next_id: &Mutex<u64>,
) {
    loop {
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let id = {
            let mut next_id = lock(next_id);
            *next_id += 1;
            *next_id
        };
        let event = format!("id: {id}\ndata: {}\n\n", String::from_utf8_lossy(&body));
        let chunk = [
            format!("{:X}\r\n", event.len()).as_bytes(),
            event.as_bytes(),
            b"\r\n",
        ]
        .concat();
        // The broadcast: the same bytes, one write per stream; a stream whose client left
        // fails its write and is dropped.
        lock(streams).retain_mut(|stream| stream.write_all(&chunk).is_ok());
        let id = id.to_string();
        let answer = format!(
            "HTTP/1.1 201 Created\r\ncontent-length: {}\r\n\r\n{id}",
            id.len()
        );
        if reader.get_mut().write_all(answer.as_bytes()).is_err() {
            return;
        }
        match read_head(&mut reader) {
            Some((line, next_length)) if line.starts_with("POST ") => length = next_length,
            _ => return,
        }
    }
}

/// The request line and `content-length` of the next request head.
fn read_head(reader: &mut BufReader<TcpStream>) -> Option<(String, usize)> {
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Some((request_line, length));
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
