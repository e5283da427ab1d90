//! permessage-deflate (RFC 7692) under tungstenite, which has no extension hook (it
//! refuses any frame with RSV1 set): a layer between the socket and tungstenite inflates
//! compressed messages on the way in and compresses messages on the way out, so tungstenite
//! keeps doing everything else (framing checks, fragments, UTF-8, sizes, control frames).
//!
//! - [`config`]: the public settings, [`Deflate`].
//! - [`negotiate`]: offers and responses of `sec-websocket-extensions`.
//! - [`frame`]: the frame headers the layer reads and writes.
//! - [`inflate`] and [`compress`]: the two directions.
//! - [`io`]: the byte stream tungstenite runs on.

mod compress;
mod config;
mod frame;
mod inflate;
mod io;
pub(crate) mod negotiate;

pub use config::Deflate;
pub(crate) use io::{Side, WsIo};
