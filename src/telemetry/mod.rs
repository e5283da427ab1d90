//! The recording floor of the `metrics` feature: the hooks the server, the request's flow,
//! event streams, WebSockets and the hub call, and the Prometheus recorder. Nothing here
//! knows a handler or a response, so the lowest modules may record; the public face,
//! with the exposition's route handler, is [`crate::metrics`].

mod exposition;
mod faults;
mod hub;
pub mod names;
mod open;
mod requests;

use std::sync::atomic::{AtomicBool, Ordering};

pub use exposition::{builder, handle, set_handle};
pub(crate) use faults::{Limit, limit_hit, panicked};
pub use hub::set_topic_groups;
pub(crate) use hub::{SubscriberMeter, catch_up_read, published};
#[cfg(feature = "redis")]
pub(crate) use hub::{broker_error, reconnect};
pub(crate) use open::{Open, event_stream_sent};
pub use requests::UNMATCHED;
pub(crate) use requests::{RequestMeter, note_route};

/// The Prometheus crate this module renders with, for [`set_handle`] and [`builder`].
pub use metrics_exporter_prometheus;

/// Whether [`enable`] was called: every hook checks it first, so that an application
/// built with the feature but not calling [`Application::metrics`](crate::Application::metrics)
/// pays one relaxed load per hook.
static ENABLED: AtomicBool = AtomicBool::new(false);

pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Turns the crate's metrics on for the whole process and installs the Prometheus
/// recorder unless a recorder is already installed (then the metrics go to that one).
/// [`Application::metrics`](crate::Application::metrics) calls it.
pub fn enable() {
    exposition::install();
    names::describe();
    ENABLED.store(true, Ordering::Relaxed);
}
