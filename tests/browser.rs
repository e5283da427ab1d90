//! Real-browser checks: headless Debian Chromium driven by playwright-core opens an example's
//! page, served by the example binary itself.
//!
//! They need `/usr/bin/chromium` and `tests/browser/node_modules` (`npm ci` there), which
//! `.ci/run` installs, so they are `#[ignore]`d in a plain `cargo test`; run them with
//! `cargo test --test browser -- --ignored`.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An example binary running on a free port, killed when dropped.
struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn target_dir() -> PathBuf {
    // tests run from target/<profile>/deps/<name>-<hash>
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .to_path_buf()
}

/// Starts `examples/<name>` (built by `cargo test`) and returns it with its base URL.
fn start_example(name: &str) -> (Example, String) {
    start_example_with(name, &[])
}

/// As [`start_example`], with environment variables (`TLS_CERT` and `TLS_KEY` for HTTPS).
fn start_example_with(name: &str, env: &[(&str, &std::path::Path)]) -> (Example, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = target_dir().join("examples").join(name);
    let mut command = Command::new(&binary);
    command.env("PORT", port.to_string()).stdout(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let example = Example(child);
    let scheme = match line.trim_end() {
        line if line.starts_with("Listening on https://") => "https",
        line if line.starts_with("Listening on http://") => "http",
        _ => panic!("unexpected first line {line:?}"),
    };
    // The line is printed just before the example binds: wait until it accepts.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{name} does not accept on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (example, format!("{scheme}://127.0.0.1:{port}/"))
}

fn run_script(script: &str, base: &str, screenshot: &str) {
    run_script_with(script, &[base], screenshot);
}

/// Runs `tests/browser/<script> ARGS... SCREENSHOT_PATH` with node; it must succeed.
fn run_script_with(script: &str, args: &[&str], screenshot: &str) {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let screenshot_path = format!(
        "{}/browser/{screenshot}",
        target_dir().parent().unwrap().display()
    );
    let output = Command::new("node")
        .arg(format!("{manifest}/tests/browser/{script}"))
        .args(args)
        .arg(&screenshot_path)
        .output()
        .expect("node must be installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
}

#[test]
#[ignore = "needs Chromium and playwright-core; .ci/run installs them and runs it"]
fn the_sse_clock_page_ticks_in_headless_chromium() {
    let (_server, base) = start_example("sse_clock");
    run_script("sse_clock.mjs", &base, "sse_clock.png");
}

#[cfg(feature = "ws")]
#[test]
#[ignore = "needs Chromium and playwright-core; .ci/run installs them and runs it"]
fn the_ws_echo_page_echoes_in_headless_chromium() {
    let (_server, base) = start_example("ws_echo");
    run_script("ws_echo.mjs", &base, "ws_echo.png");
}

// Issue 13, the reason for TLS: over HTTP/1.1 a browser opens at most six connections per
// origin, so the seventh EventSource of a page waits forever; over HTTPS the page gets
// HTTP/2 and all its streams share one connection. The certificate is made here by rcgen;
// Chromium runs with --ignore-certificate-errors.
#[cfg(feature = "tls")]
#[test]
#[ignore = "needs Chromium and playwright-core; .ci/run installs them and runs it"]
fn ten_event_streams_all_receive_over_https_and_at_most_six_over_http1() {
    let (cert, key) = make_certificate("sse_many");
    let (_https, base) = start_example_with("sse_clock", &[("TLS_CERT", &cert), ("TLS_KEY", &key)]);
    assert!(base.starts_with("https://"), "{base}");
    run_script_with("sse_many.mjs", &[&base, "all"], "sse_many_https.png");

    let (_http, base) = start_example("sse_clock");
    assert!(base.starts_with("http://"), "{base}");
    run_script_with("sse_many.mjs", &[&base, "capped"], "sse_many_http1.png");
}

/// A self-signed certificate for localhost made by rcgen, as PEM files: `(cert, key)`.
#[cfg(feature = "tls")]
fn make_certificate(name: &str) -> (PathBuf, PathBuf) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("browser-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

// A page served over HTTP/2 gets its WebSocket: the server offers WebSockets over HTTP/2
// (RFC 8441), so Chromium opens it as a stream of the page's connection (tests/browser_http2.rs
// checks that no connection of its own is opened).
#[cfg(all(feature = "tls", feature = "ws"))]
#[test]
#[ignore = "needs Chromium and playwright-core; .ci/run installs them and runs it"]
fn the_ws_echo_page_echoes_over_https_in_headless_chromium() {
    let (cert, key) = make_certificate("ws_echo");
    let (_server, base) = start_example_with("ws_echo", &[("TLS_CERT", &cert), ("TLS_KEY", &key)]);
    assert!(base.starts_with("https://"), "{base}");
    run_script("ws_echo.mjs", &base, "ws_echo_https.png");
}

/// Two instances of `example` on one fresh Redis (and the Redis, to keep it running).
#[cfg(feature = "redis")]
fn two_instances_on_redis(
    example: &str,
) -> (
    common::external::RedisServer,
    [common::external::ExampleProcess; 2],
) {
    let redis = common::external::RedisServer::start();
    let url = redis.url();
    let start = || common::external::ExampleProcess::start(example, &[("REDIS_URL", &url)]);
    let instances = [start(), start()];
    (redis, instances)
}

#[cfg(feature = "redis")]
#[test]
#[ignore = "needs Chromium, playwright-core and redis-server; .ci/run installs them and runs it"]
fn two_sse_chat_pages_on_two_instances_chat_through_redis() {
    let (_redis, [a, b]) = two_instances_on_redis("sse_chat");
    run_script_with(
        "hub_chat.mjs",
        &[&a.url("/"), &b.url("/")],
        "hub_sse_chat.png",
    );
}

#[cfg(all(feature = "redis", feature = "ws"))]
#[test]
#[ignore = "needs Chromium, playwright-core and redis-server; .ci/run installs them and runs it"]
fn two_ws_chat_pages_on_two_instances_chat_through_redis() {
    let (_redis, [a, b]) = two_instances_on_redis("ws_chat");
    run_script_with(
        "hub_chat.mjs",
        &[&a.url("/"), &b.url("/")],
        "hub_ws_chat.png",
    );
}
