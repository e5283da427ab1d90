//! Lifespan: a startup handler creates shared state that every handler reads from
//! `req.info`; a shutdown handler reports on it after the connections have drained.
//!
//! ```text
//! RUST_LOG=info cargo run --example lifespan  # PORT=9015 by default
//! curl http://localhost:9015/visits           # 1, 2, 3, ...
//! ```
//! Stop it with Ctrl-C to see the shutdown handler run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bareasgi::{Application, BoxError, HttpError, HttpRequest, TypeMap};

#[path = "support/serve.rs"]
mod serve;

/// State built at startup. A real service would open a database pool here.
struct Stats {
    started: Instant,
    visits: AtomicU64,
}

async fn startup(info: &mut TypeMap) -> Result<(), BoxError> {
    info.insert(Stats {
        started: Instant::now(),
        visits: AtomicU64::new(0),
    });
    tracing::info!("startup: stats ready");
    Ok(())
}

async fn shutdown(info: &TypeMap) -> Result<(), BoxError> {
    let stats = info.get::<Stats>().ok_or("startup did not run")?;
    println!(
        "served {} visits in {:.1?}",
        stats.visits.load(Ordering::Relaxed),
        stats.started.elapsed()
    );
    Ok(())
}

async fn visits(req: HttpRequest) -> Result<String, HttpError> {
    let stats = req.state::<Stats>()?; // a logged 500 naming `Stats` if startup had not run
    Ok(format!(
        "{}\n",
        stats.visits.fetch_add(1, Ordering::Relaxed) + 1
    ))
}

#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    let mut app = Application::new();
    app.on_startup(startup).on_shutdown(shutdown);
    app.http_router.add(["GET"], "/visits", visits);
    serve::serve(app, 9015, "").await
}
