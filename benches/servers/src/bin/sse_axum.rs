//! The event-stream harness's axum peer: the `sse_chat` example's two routes in axum 0.8,
//! `sse_axum PORT`. The same handler shape as bareasgi's: the same in-memory hub
//! (`bareasgi::hub`, a plain library here), a subscription that is ready before the
//! answer, each message an event with its id and data, axum's `Sse` with its default
//! keep-alive (15 s, as bareasgi's). One tokio worker (`WORKERS` to change it), `TCP_NODELAY`,
//! a listen backlog of 1,024 (bareasgi's default).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use bareasgi::hub::{self, Hub, HubError};
use bareasgi_bench_servers::streams::{EVENTS_PATH, PUBLISH_PATH, TOPIC, raise_open_files};
use futures_util::{Stream, StreamExt};
use tokio::net::TcpSocket;

async fn events(
    State(hub): State<Hub>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, HubError>>> {
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok());
    let subscription = hub
        .subscribe(TOPIC, last_event_id)
        .await
        .expect("the in-memory hub does not fail");
    let events = subscription.map(|event| {
        event.map(|event| match event {
            hub::Event::Message(message) => Event::default()
                .id(message.id().to_string())
                .data(message.data()),
            hub::Event::Missed(missed) => Event::default().event("missed").data(
                missed
                    .count()
                    .map_or_else(|| "unknown".to_owned(), |count| count.to_string()),
            ),
        })
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

async fn publish(State(hub): State<Hub>, text: String) -> (StatusCode, String) {
    match hub.publish(TOPIC, text).await {
        Ok(id) => (StatusCode::CREATED, id.to_string()),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    }
}

fn main() -> std::io::Result<()> {
    let Some(port) = std::env::args().nth(1) else {
        eprintln!("usage: sse_axum PORT");
        std::process::exit(2);
    };
    let limit = raise_open_files();
    eprintln!("sse_axum: open-file limit {limit}");
    let workers = std::env::var("WORKERS")
        .ok()
        .and_then(|workers| workers.parse().ok())
        .unwrap_or(1);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?
        .block_on(async {
            let app = Router::new()
                .route(EVENTS_PATH, get(events))
                .route(PUBLISH_PATH, post(publish))
                .with_state(Hub::memory());
            // The listen backlog bareasgi uses by default: tokio's `TcpListener::bind` asks
            // for 128, which drops SYNs when thousands of clients connect at once, and
            // their retries take seconds.
            let socket = TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(format!("127.0.0.1:{port}").parse().expect("an address"))?;
            let listener = socket.listen(1024)?.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await
        })
}
