#![doc = include_str!("../docs/metrics.md")]

use http::StatusCode;

use crate::handler::Handler;
use crate::response::HttpResponse;
pub use crate::telemetry::{
    UNMATCHED, builder, enable, handle, metrics_exporter_prometheus, names, set_handle,
    set_topic_groups,
};

/// A handler that answers with the Prometheus text exposition of every metric recorded
/// through the `metrics` facade (this crate's and the application's own): route it, on
/// the application's port or on a separate one.
///
/// Answers `503` while no Prometheus recorder was installed by
/// [`Application::metrics`](crate::Application::metrics) or handed over with
/// [`set_handle`].
#[must_use]
pub fn handler() -> impl Handler + Clone {
    |_req| async {
        match crate::telemetry::handle() {
            Some(handle) => HttpResponse::new(
                StatusCode::OK,
                [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                handle.render(),
            ),
            None => HttpResponse::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: no Prometheus recorder (call app.metrics())",
            ),
        }
    }
}
