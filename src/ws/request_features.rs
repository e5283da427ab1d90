//! What the `cookies` and `query` features add to a WebSocket handshake: the same reading
//! of cookies and of the query string as an [`HttpRequest`](crate::HttpRequest) has.

#[cfg(feature = "cookies")]
use cookie::{Cookie, Key};
#[cfg(feature = "query")]
use serde::de::DeserializeOwned;

use super::WebSocketRequest;
#[cfg(feature = "cookies")]
use crate::cookies;

#[cfg(feature = "cookies")]
#[cfg_attr(docsrs, doc(cfg(all(feature = "cookies", feature = "ws"))))]
impl WebSocketRequest {
    /// The value of the cookie `name` sent with the handshake (see
    /// [`HttpRequest::cookie`](crate::HttpRequest::cookie)).
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<&str> {
        cookies::cookie_value(self.headers(), name)
    }

    /// Every cookie sent with the handshake, in order.
    pub fn cookies(&self) -> impl Iterator<Item = Cookie<'_>> {
        cookies::request_cookies(self.headers())
    }

    /// The verified value of the signed cookie `name` (see [`HttpRequest::signed_cookie`](crate::HttpRequest::signed_cookie)).
    #[must_use]
    pub fn signed_cookie(&self, name: &str, key: &Key) -> Option<String> {
        cookies::verified_value(self.headers(), name, key)
    }

    /// The decrypted value of the private cookie `name` (see
    /// [`HttpRequest::private_cookie`](crate::HttpRequest::private_cookie)).
    #[must_use]
    pub fn private_cookie(&self, name: &str, key: &Key) -> Option<String> {
        cookies::decrypted_value(self.headers(), name, key)
    }
}

#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(all(feature = "query", feature = "ws"))))]
impl WebSocketRequest {
    /// The handshake's query string deserialized into `T`, as [`HttpRequest::query_as`](crate::HttpRequest::query_as)
    /// does: a browser's `new WebSocket(url)` cannot add headers, so options (and often a
    /// token) come this way.
    ///
    /// # Errors
    /// [`QueryError`](crate::QueryError) (a `400 Bad Request` naming the field and the problem) when the query
    /// does not fit `T`; a WebSocket handler refuses with it by `ws.reject(error)`.
    pub fn query_as<T: DeserializeOwned>(&self) -> Result<T, crate::QueryError> {
        crate::urlencoded::query_as(self.query())
    }
}
