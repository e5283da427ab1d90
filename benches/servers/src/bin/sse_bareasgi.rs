//! The event-stream harness's bareasgi server: the `sse_chat` example itself (its `app`,
//! the hub's `GET /events` and `POST /messages`), `sse_bareasgi PORT HUB [--reuse-port]`.
//!
//! `--metrics` (built with the `metrics` feature) turns on Prometheus metrics, for the cost
//! per delivered event. `HUB` is `memory` (the in-process hub) or a Redis URL (`Hub::redis`, so that several
//! processes sharing the port with `--reuse-port` make one chat). One tokio worker
//! (`WORKERS` to change it): the harness pins the server to one core.

#[path = "../../../../examples/sse_chat.rs"]
#[allow(dead_code, unused_imports)]
mod sse_chat;

use bareasgi::hub::Hub;
use bareasgi_bench_servers::streams::raise_open_files;

fn main() -> Result<(), bareasgi::Error> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port), Some(hub)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: sse_bareasgi PORT memory|redis://HOST:PORT/ [--reuse-port]");
        std::process::exit(2);
    };
    let reuse_port = args.iter().any(|arg| arg == "--reuse-port");
    let limit = raise_open_files();
    eprintln!("sse_bareasgi: open-file limit {limit}");
    let workers = std::env::var("WORKERS")
        .ok()
        .and_then(|workers| workers.parse().ok())
        .unwrap_or(1);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(async {
            let hub = if hub == "memory" {
                Hub::memory()
            } else {
                Hub::redis(hub).expect("a Redis URL")
            };
            let mut app = sse_chat::app(hub);
            app.reuse_port(reuse_port);
            #[cfg(feature = "metrics")]
            if args.iter().any(|arg| arg == "--metrics") {
                app.metrics();
            }
            app.serve(format!("127.0.0.1:{port}")).await
        })
}
