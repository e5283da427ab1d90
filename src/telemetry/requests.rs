//! Per-request metrics: duration, active requests and body sizes, labelled with the method,
//! the route pattern and the status.
//!
//! Cheap by construction, since every request pays it: the handles for one (route, method,
//! status) are looked up once in a small map keyed by the pattern's address and kept, so a
//! request costs a hash of three integers, two clock reads, two histogram samples and a few
//! atomic adds — not the facade's key building (a `Vec` of labels and a hash of all of
//! them) for each metric.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use http::{Method, StatusCode};
use metrics::{Gauge, Histogram};
use rustc_hash::FxHashMap;

use super::names;

/// The route label of requests no route matched (404, 405, a refused path): one label for
/// all of them, so that a scan of random paths does not add a series per path.
pub const UNMATCHED: &str = "unmatched";

/// The method label of a method outside the standard nine (OpenTelemetry's `_OTHER`), so
/// that made-up methods do not add series either.
const OTHER_METHOD: &str = "_OTHER";

const METHODS: [&str; 10] = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "OPTIONS",
    "PATCH",
    "CONNECT",
    "TRACE",
    OTHER_METHOD,
];

fn method_index(method: &Method) -> u8 {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::OPTIONS => 5,
        Method::PATCH => 6,
        Method::CONNECT => 7,
        Method::TRACE => 8,
        _ => 9,
    }
}

thread_local! {
    /// The pattern of the route the router just chose for the request being started or
    /// polled on this thread: the router is deep inside the middleware chain, and this is
    /// how its choice reaches the request's future without a field on every request.
    static ROUTE: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// Notes the route the router chose for the request in hand (called by the dispatch).
pub(crate) fn note_route(pattern: &Arc<str>) {
    if super::enabled() {
        ROUTE.with(|route| *route.borrow_mut() = Some(pattern.clone()));
    }
}

/// What one request's future keeps for its metrics.
pub(crate) struct RequestMeter {
    started: Instant,
    method: u8,
    route: Option<Arc<str>>,
    /// The declared request body size, if any.
    request_size: Option<u64>,
}

impl RequestMeter {
    /// Starts metering a request with a body of `request_size` bytes (as declared: its
    /// `content-length`), or `None` when metrics are off.
    pub(crate) fn start(method: &Method, request_size: Option<u64>) -> Option<Self> {
        if !super::enabled() {
            return None;
        }
        let method = method_index(method);
        active(method).increment(1.0);
        // A route left over from a request started inside another's handler is not ours.
        ROUTE.with(|route| route.borrow_mut().take());
        Some(Self {
            started: Instant::now(),
            method,
            route: None,
            request_size,
        })
    }

    /// Takes the route the router noted while the request's handler was being started or
    /// polled.
    pub(crate) fn pick_route(&mut self) {
        if self.route.is_none() {
            self.route = ROUTE.with(|route| route.borrow_mut().take());
        }
    }

    /// Records the finished request: `response_size` when its body's length is known.
    pub(crate) fn finish(mut self, status: StatusCode, response_size: Option<u64>) {
        self.pick_route();
        let elapsed = self.started.elapsed();
        let method = std::mem::replace(&mut self.method, FINISHED);
        active(method).decrement(1.0);
        let request_size = self.request_size;
        with_handles((self.route.take(), method, status), |handles| {
            handles.duration.record(elapsed.as_secs_f64());
            if let Some(size) = request_size {
                handles.request_size().record(size as f64);
            }
            if let Some(size) = response_size {
                handles.response_size().record(size as f64);
            }
        });
    }
}

impl Drop for RequestMeter {
    fn drop(&mut self) {
        // A request whose future was dropped before answering (the client went away) is no
        // longer active; `finish` marks the method so as not to count it twice.
        if self.method != FINISHED {
            active(self.method).decrement(1.0);
        }
    }
}

const FINISHED: u8 = u8::MAX;

fn active(method: u8) -> &'static Gauge {
    static GAUGES: [OnceLock<Gauge>; 10] = [const { OnceLock::new() }; 10];
    GAUGES[usize::from(method)].get_or_init(
        || metrics::gauge!(names::ACTIVE_REQUESTS, "method" => METHODS[usize::from(method)]),
    )
}

/// The histograms of one (route, method, status). The size histograms are registered on
/// their first sample, so that routes without bodies do not show empty series.
struct Handles {
    labels: Vec<metrics::Label>,
    duration: Histogram,
    request_size: OnceLock<Histogram>,
    response_size: OnceLock<Histogram>,
}

impl Handles {
    fn request_size(&self) -> &Histogram {
        self.request_size
            .get_or_init(|| metrics::histogram!(names::REQUEST_BODY_SIZE, self.labels.clone()))
    }

    fn response_size(&self) -> &Histogram {
        self.response_size
            .get_or_init(|| metrics::histogram!(names::RESPONSE_BODY_SIZE, self.labels.clone()))
    }
}

/// The route pattern (`None`: unmatched), the method's index and the status.
type Key = (Option<Arc<str>>, u8, StatusCode);

/// A [`Key`] by the pattern's address: hashed and compared as three integers. An address
/// names one pattern for good, since the map keeps each pattern it holds alive (an address
/// freed and reused for another pattern would have to be freed first).
type Address = (usize, u8, u16);

fn address((route, method, status): &Key) -> Address {
    let route = route
        .as_ref()
        .map_or(0, |pattern| Arc::as_ptr(pattern).cast::<u8>() as usize);
    (route, *method, status.as_u16())
}

/// Calls `record` with the histograms of `key`, registered with the recorder on first use.
/// The map only grows with new (route, method, status) triples, which are bounded.
fn with_handles(key: Key, record: impl FnOnce(&Handles)) {
    type Cache = FxHashMap<Address, (Option<Arc<str>>, Handles)>;
    static CACHE: OnceLock<RwLock<Cache>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let address = address(&key);
    if let Some((_, found)) = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&address)
    {
        return record(found);
    }
    let (_, method, status) = key;
    let route_label: metrics::SharedString = match &key.0 {
        Some(pattern) => pattern.clone().into(),
        None => UNMATCHED.into(),
    };
    let labels = [
        (
            "method",
            metrics::SharedString::from(METHODS[usize::from(method)]),
        ),
        ("route", route_label),
        ("status", status.as_str().to_owned().into()),
    ];
    let labels: Vec<metrics::Label> = labels
        .iter()
        .map(|(name, value)| metrics::Label::new(*name, value.clone()))
        .collect();
    let made = Handles {
        duration: metrics::histogram!(names::REQUEST_DURATION, labels.clone()),
        labels,
        request_size: OnceLock::new(),
        response_size: OnceLock::new(),
    };
    let mut cache = cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    record(&cache.entry(address).or_insert((key.0, made)).1);
}

#[cfg(test)]
mod tests {
    use super::{METHODS, method_index};
    use http::Method;

    /// Made-up methods share one label, so that a client cannot add series at will.
    #[test]
    fn methods_outside_the_standard_nine_share_one_label() {
        let label = |method: &Method| METHODS[usize::from(method_index(method))];
        assert_eq!(label(&Method::GET), "GET");
        assert_eq!(label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(label(&made_up), "_OTHER");
        assert_eq!(label(&Method::from_bytes(b"PROPFIND").unwrap()), "_OTHER");
    }
}
