//! The Prometheus recorder: installed once per process, rendered by
//! [`metrics::handler`](crate::metrics::handler).

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::names;

/// The handle of the Prometheus recorder the exposition renders, once there is one.
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets (seconds): from a fast in-memory answer to a slow upstream.
const SECONDS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Size buckets (bytes): powers of four from 64 bytes to 64 MiB.
const BYTES: &[f64] = &[
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

/// How often histogram samples are folded in when nobody scrapes (they are folded in at
/// each scrape too), so that memory stays flat on an unscraped server.
const UPKEEP: Duration = Duration::from_secs(5);

/// The builder [`Application::metrics`](crate::Application::metrics) installs a recorder
/// from: the crate's histograms as real Prometheus histograms (not summaries), with buckets
/// fit for each. Start from it to install a recorder of your own (with global labels, say),
/// then hand its handle to [`set_handle`]:
///
/// ```
/// let handle = bareasgi::metrics::builder()
///     .add_global_label("service", "chat")
///     .install_recorder()
///     .expect("no recorder installed yet");
/// bareasgi::metrics::set_handle(handle);
/// let mut app = bareasgi::Application::new();
/// app.metrics(); // records into the recorder above
/// app.http_router.add(["GET"], "/metrics", bareasgi::metrics::handler());
/// ```
#[must_use]
pub fn builder() -> PrometheusBuilder {
    let seconds = [
        names::REQUEST_DURATION,
        names::HUB_DELIVERY_LAG,
        names::HUB_PUBLISH_DURATION,
    ];
    let bytes = [names::REQUEST_BODY_SIZE, names::RESPONSE_BODY_SIZE];
    let mut builder = PrometheusBuilder::new();
    for name in seconds {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.to_owned()), SECONDS)
            .expect("the buckets are not empty");
    }
    for name in bytes {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(name.to_owned()), BYTES)
            .expect("the buckets are not empty");
    }
    builder
}

/// Installs the crate's Prometheus recorder unless one is set: returns whether the
/// exposition has a handle to render.
pub(super) fn install() -> bool {
    if HANDLE.get().is_some() {
        return true;
    }
    let recorder = builder().build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!(
            "a metrics recorder is already installed: bareasgi records into it; \
             call bareasgi::metrics::set_handle for its exposition to be served"
        );
        return false;
    }
    set_handle(handle);
    true
}

/// Hands the exposition a Prometheus recorder installed by the application itself (to set
/// its own buckets or global labels, for instance): [`metrics::handler`](crate::metrics::handler) renders it. The first
/// handle set stays.
pub fn set_handle(handle: PrometheusHandle) {
    if HANDLE.set(handle).is_ok() {
        let upkeep = std::thread::Builder::new()
            .name("bareasgi-metrics-upkeep".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(UPKEEP);
                    if let Some(handle) = HANDLE.get() {
                        handle.run_upkeep();
                    }
                }
            });
        if let Err(error) = upkeep {
            tracing::warn!(%error, "cannot start the metrics upkeep thread");
        }
    }
}

/// The Prometheus handle the exposition renders, once [`crate::Application::metrics`] or
/// [`set_handle`] has set one.
#[must_use]
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get()
}
