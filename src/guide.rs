//! The manual: one guide per topic, each example a doc test that compiles (and runs where
//! it can, against a real server through [`TestClient`](crate::test::TestClient)).
//!
//! Start with [routing] and [handlers], then what your application needs:
//!
//! | guide | what it covers |
//! |---|---|
//! | [routing] | patterns, precedence, 404/405/HEAD/OPTIONS, mistakes reported at `add`, mounting, route groups |
//! | [handlers] | handlers, what they return (`Html`, `Redirect` ...), errors, state (`req.state`, `req.context`), middleware, logging |
//! | [extractors] | `req.json()`, `req.query_as()`, `req.form()`, the `Json` response |
//! | [cookies] | plain, signed and private cookies; recipe: a login cookie and a middleware on a group |
//! | [uploads] | streamed `multipart/form-data`; recipe: an upload with a limit, and its test |
//! | [sse] | server-sent events, keep-alive, proxies; recipe: an event stream that resumes |
//! | [websockets] | the WebSocket router, handshake, messages, liveness |
//! | [hub] | publish/subscribe with replay, in memory or on Redis; scaling out behind nginx |
//! | [tower] | tower layers around the application, services mounted in it, the app as a service |
//! | [tls] | HTTPS with HTTP/2 for browsers, certificates and their rotation |
//! | [limits] | every limit and timeout, its default and how to change it |
//! | [reliability] | what hostile, slow and vanishing clients get, each pinned by a test |
//! | [testing] | `TestClient`: the application served as in production, over a real socket |
#![cfg_attr(
    feature = "metrics",
    doc = "| [metrics](crate::metrics) | feature `metrics`: Prometheus metrics, `app.metrics()` and `metrics::handler()`, on a port of its own, what each metric counts and what it costs |"
)]
#![cfg_attr(
    not(feature = "metrics"),
    doc = "| [metrics](https://docs.rs/bareasgi/latest/bareasgi/metrics/index.html) | feature `metrics`: Prometheus metrics, `app.metrics()` and `metrics::handler()`, on a port of its own, what each metric counts and what it costs |"
)]
//!
//! The modules' own pages ([`sse`](crate::sse), [`hub`](crate::hub), [`ws`](crate::ws) ...)
//! are the reference; these pages are the tour.
//!
//! This module holds documentation only: nothing in it is code to call.

/// One guide: its page where the features its examples need are on (docs.rs has them all),
/// a line naming them elsewhere, so that its doc tests are only compiled where they can be.
macro_rules! guide {
    ($name:ident, $file:literal, $features:literal, $cfg:meta) => {
        #[cfg_attr($cfg, doc = include_str!($file))]
        #[cfg_attr(
                    not($cfg),
                    doc = concat!(
                        "This guide's examples need the features ",
                        $features,
                        ": build the documentation with them (`cargo doc --all-features`), ",
                        "or read it on docs.rs."
                    )
                )]
        pub mod $name {}
    };
}

guide!(routing, "../docs/routing.md", "`test`", feature = "test");
guide!(handlers, "../docs/handlers.md", "`test`", feature = "test");
guide!(
    extractors,
    "../docs/extractors.md",
    "`json`, `query`, `form` and `test`",
    all(
        feature = "json",
        feature = "query",
        feature = "form",
        feature = "test"
    )
);
guide!(
    cookies,
    "../docs/cookies.md",
    "`cookies`, `form` and `test`",
    all(feature = "cookies", feature = "form", feature = "test")
);
guide!(
    uploads,
    "../docs/uploads.md",
    "`multipart` and `test`",
    all(feature = "multipart", feature = "test")
);
guide!(sse, "../docs/sse.md", "`test`", feature = "test");
guide!(
    websockets,
    "../docs/websockets.md",
    "`ws` and `test`",
    all(feature = "ws", feature = "test")
);

#[doc = include_str!("../docs/hub.md")]
pub mod hub {}

#[doc = include_str!("../docs/tower.md")]
pub mod tower {}

guide!(tls, "../docs/tls.md", "`tls`", feature = "tls");

#[doc = include_str!("../docs/limits.md")]
pub mod limits {}

#[doc = include_str!("../docs/reliability.md")]
pub mod reliability {}

guide!(
    testing,
    "../docs/testing.md",
    "`ws`, `json` and `test`",
    all(feature = "ws", feature = "json", feature = "test")
);
