//! The manual: one guide per topic, each example a doc test that compiles (and runs where
//! it can, against a real server through [`TestClient`](crate::test::TestClient)).
//!
//! Start with [routing] and [handlers], then what your application needs:
//!
//! | guide | what it covers |
//! |---|---|
//! | [routing] | patterns, precedence, 404/405/HEAD/OPTIONS, mistakes reported at `add`, mounting |
//! | [handlers] | handlers, what they return, errors, state (`app.info`, `req.context`), middleware, logging |
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
//!
//! The modules' own pages ([`sse`](crate::sse), [`hub`](crate::hub), [`ws`](crate::ws) ...)
//! are the reference; these pages are the tour.
//!
//! This module holds documentation only: nothing in it is code to call.

#[doc = include_str!("../docs/routing.md")]
#[cfg(feature = "test")]
pub mod routing {}

#[doc = include_str!("../docs/handlers.md")]
#[cfg(feature = "test")]
pub mod handlers {}

#[doc = include_str!("../docs/extractors.md")]
#[cfg(all(feature = "json", feature = "query", feature = "form", feature = "test"))]
pub mod extractors {}

#[doc = include_str!("../docs/cookies.md")]
#[cfg(all(feature = "cookies", feature = "form", feature = "test"))]
pub mod cookies {}

#[doc = include_str!("../docs/uploads.md")]
#[cfg(all(feature = "multipart", feature = "test"))]
pub mod uploads {}

#[doc = include_str!("../docs/sse.md")]
#[cfg(feature = "test")]
pub mod sse {}

#[doc = include_str!("../docs/websockets.md")]
#[cfg(all(feature = "ws", feature = "test"))]
pub mod websockets {}

#[doc = include_str!("../docs/hub.md")]
pub mod hub {}

#[doc = include_str!("../docs/tower.md")]
pub mod tower {}

#[doc = include_str!("../docs/tls.md")]
#[cfg(feature = "tls")]
pub mod tls {}

#[doc = include_str!("../docs/limits.md")]
pub mod limits {}

#[doc = include_str!("../docs/reliability.md")]
pub mod reliability {}

#[doc = include_str!("../docs/testing.md")]
#[cfg(all(feature = "ws", feature = "json", feature = "test"))]
pub mod testing {}
