//! Real-browser checks: headless Debian Chromium driven by playwright-core opens an example's
//! page, served by the example binary itself.
//!
//! They need `/usr/bin/chromium` and `tests/browser/node_modules` (`npm ci` there), which
//! `.ci/run` installs, so they are `#[ignore]`d in a plain `cargo test`; run them with
//! `cargo test --test browser -- --ignored`.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

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
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = target_dir().join("examples").join(name);
    let mut child = Command::new(&binary)
        .env("PORT", port.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("Listening on"),
        "unexpected first line {line:?}"
    );
    (Example(child), format!("http://127.0.0.1:{port}/"))
}

fn run_script(script: &str, base: &str, screenshot: &str) {
    run_script_on(script, &[base], screenshot);
}

/// Runs `tests/browser/<script>` with the base URLs, then the screenshot's path.
fn run_script_on(script: &str, bases: &[&str], screenshot: &str) {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let screenshot_path = format!(
        "{}/browser/{screenshot}",
        target_dir().parent().unwrap().display()
    );
    let output = Command::new("node")
        .arg(format!("{manifest}/tests/browser/{script}"))
        .args(bases)
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
    run_script_on(
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
    run_script_on(
        "hub_chat.mjs",
        &[&a.url("/"), &b.url("/")],
        "hub_ws_chat.png",
    );
}
