//! Prometheus metrics for a small streaming application: JSON items, an event stream on the
//! hub, publishing to it, a WebSocket echo, and the exposition at `GET /metrics`.
//!
//! ```text
//! cargo run --features metrics --example metrics          # PORT=9014 by default
//! curl localhost:9014/api/items/7
//! curl -N localhost:9014/events &                          # stays open
//! curl -d hello localhost:9014/messages                    # reaches the stream
//! curl localhost:9014/metrics
//! ```
//! `examples/deploy/grafana-dashboard.json` charts what Prometheus scrapes from it, and
//! `tests/metrics.rs` has a real Prometheus scrape it while it is driven.

use bareasgi::hub::Hub;
use bareasgi::sse::EventStream;
use bareasgi::ws::{Message, WebSocket, WebSocketError, WebSocketRequest};
use bareasgi::{Application, HttpError, HttpRequest, HttpResponse, IntoResponse};
use http::StatusCode;

#[cfg(not(test))] // the tests that include this file take its routes, and do not serve
#[path = "support/serve.rs"]
mod serve;

/// The topic `/events` streams and `/messages` publishes to.
const TOPIC: &str = "feed";

async fn item(req: HttpRequest) -> impl IntoResponse {
    let id: i64 = req
        .matches
        .parse("id")
        .expect("{id:int} was checked by the router");
    (
        200,
        [("content-type", "application/json")],
        format!(r#"{{"id":{id},"name":"item {id}"}}"#),
    )
}

async fn events(req: HttpRequest) -> Result<EventStream, HttpError> {
    let hub = req.state::<Hub>()?;
    let subscription = hub.subscribe(TOPIC, req.last_event_id()).await?;
    Ok(EventStream::new(subscription))
}

/// `201` with the event's id once the body is published.
async fn publish(mut req: HttpRequest) -> Result<impl IntoResponse, HttpResponse> {
    let hub = req.state::<Hub>().map_err(IntoResponse::into_response)?;
    let text = req.text().await.map_err(IntoResponse::into_response)?;
    let id = hub
        .publish(TOPIC, text)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((StatusCode::CREATED, id.to_string()))
}

async fn echo(_req: WebSocketRequest, mut ws: WebSocket) -> Result<(), WebSocketError> {
    ws.accept(None, ()).await?;
    loop {
        match ws.receive().await? {
            Message::Close { .. } => return Ok(()),
            message => ws.send(message).await?,
        }
    }
}

/// The application, with metrics on; shared with the test that has Prometheus scrape it.
pub fn app() -> Application {
    let mut app = Application::new();
    app.metrics();
    app.info.insert(Hub::memory());
    app.http_router.add(["GET"], "/api/items/{id:int}", item);
    app.http_router.add(["GET"], "/events", events);
    app.http_router.add(["POST"], "/messages", publish);
    app.ws_router.add("/ws", echo);
    app.http_router
        .add(["GET"], "/metrics", bareasgi::metrics::handler());
    app
}

#[cfg(not(test))] // the tests that include this file use `app` only
#[tokio::main]
async fn main() -> Result<(), bareasgi::Error> {
    serve::serve(app(), 9014, "/metrics").await
}
