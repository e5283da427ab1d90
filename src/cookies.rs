//! Cookies (feature `cookies`, on by default), on the [`cookie`] crate, which is re-exported
//! as `bareasgi::cookie` for its [`Cookie`] builder and [`Key`].
//!
//! Read them with [`HttpRequest::cookie`] and [`HttpRequest::cookies`]; set them with
//! [`HttpResponse::set_cookie`] or the builder-style [`HttpResponse::with_cookie`], once a
//! cookie (each is its own `set-cookie` header).
//!
//! Signed cookies can be read but not forged by the client; private cookies can be
//! neither read nor forged (AES-256-GCM). Neither verifies under another name than the one
//! it was set with, so one key can serve every cookie of an application. Both take a [`Key`] of 64 bytes, the same key for
//! setting and reading, kept secret and stable across restarts (or every session resets):
//!
//! ```
//! use bareasgi::cookie::{Cookie, Key};
//! use bareasgi::http::StatusCode;
//! use bareasgi::{Application, HttpRequest, HttpResponse};
//!
//! struct Secret(Key);
//!
//! async fn visits(req: HttpRequest) -> HttpResponse {
//!     let key = &req.info.get::<Secret>().unwrap().0;
//!     // A cookie the client changed does not verify, and counts as absent.
//!     let seen: u64 = req
//!         .signed_cookie("visits", key)
//!         .and_then(|value| value.parse().ok())
//!         .unwrap_or(0);
//!     let mut response = HttpResponse::text(StatusCode::OK, format!("visit {}", seen + 1));
//!     response.set_signed_cookie(
//!         Cookie::build(("visits", (seen + 1).to_string())).path("/").http_only(true),
//!         key,
//!     );
//!     response
//! }
//!
//! let mut app = Application::new();
//! // In production, load the key (64 secret bytes): `Key::try_from(&bytes[..])` returns an
//! // error for a short one, where `Key::from` and `Key::derive_from` panic.
//! app.info.insert(Secret(Key::generate()));
//! app.http_router.add(["GET"], "/", visits);
//! ```
//!
//! Values are sent and read as they are, without percent-encoding. A cookie whose name is
//! not a token, or whose value, path or domain holds a character a cookie cannot carry
//! (whitespace, `"`, `,`, `;`, `\`, control characters), would corrupt the header or inject
//! attributes, so setting one turns the response into a logged `500`: encode such values
//! first (base64, or a private cookie).

use std::fmt::Write as _;

use cookie::{Cookie, CookieJar, Key};
use http::HeaderMap;
use http::header::{COOKIE, HeaderValue, SET_COOKIE};

use crate::request::HttpRequest;
use crate::response::HttpResponse;

/// Every cookie in the request's `cookie` headers (HTTP/2 may split them over several),
/// in order; pairs that do not parse are skipped.
///
/// Split on `;` as bytes, not through `HeaderValue::to_str`: that refuses a whole header
/// for one byte outside visible ASCII, and a single cookie with UTF-8 in its value (set by
/// a page's script, say) would then hide every other cookie, the session's included.
pub(crate) fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = Cookie<'_>> {
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&byte| byte == b';'))
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| Cookie::parse(pair).ok())
}

/// The value of the first cookie called `name`, without surrounding double quotes.
pub(crate) fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let value = request_cookies(headers)
        .find(|cookie| cookie.name() == name)?
        .value_raw()?;
    Some(
        value
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(value),
    )
}

/// The values of the cookies called `name` (a browser sends the most specific path first),
/// as owned cookies for the jar that checks them.
fn candidates<'h>(
    headers: &'h HeaderMap,
    name: &'h str,
) -> impl Iterator<Item = Cookie<'static>> + 'h {
    request_cookies(headers)
        .filter(move |cookie| cookie.name() == name)
        .map(Cookie::into_owned)
}

/// The key that signs the cookie `name`: derived from `key` and the name, so that a signed
/// value verifies only under the name it was signed for.
///
/// The cookie crate's signed jar authenticates the value alone (its private jar does bind
/// the name). With one key for several signed cookies, a client could otherwise move a
/// value it was given under one name (a visit counter, `5`) to another (a user id) and have
/// it verify. The master key is 64 bytes and names hold no NUL, so the material is
/// unambiguous; `derive_from` (HKDF-SHA256) needs at least 32 bytes, which it always gets.
fn signing_key(key: &Key, name: &str) -> Key {
    let mut material = Vec::with_capacity(key.master().len() + 1 + name.len());
    material.extend_from_slice(key.master());
    material.push(0);
    material.extend_from_slice(name.as_bytes());
    Key::derive_from(&material)
}

/// The value of the first cookie called `name` whose signature `key` verifies: one that
/// another site planted under the same name does not shadow the real one.
pub(crate) fn verified_value(headers: &HeaderMap, name: &str, key: &Key) -> Option<String> {
    let jar = CookieJar::new();
    let key = signing_key(key, name);
    let signed = jar.signed(&key);
    candidates(headers, name)
        .find_map(|cookie| signed.verify(cookie))
        .map(|cookie| cookie.value().to_owned())
}

/// The decrypted value of the first cookie called `name` that `key` decrypts.
pub(crate) fn decrypted_value(headers: &HeaderMap, name: &str, key: &Key) -> Option<String> {
    let jar = CookieJar::new();
    let private = jar.private(key);
    candidates(headers, name)
        .find_map(|cookie| private.decrypt(cookie))
        .map(|cookie| cookie.value().to_owned())
}

#[cfg_attr(docsrs, doc(cfg(feature = "cookies")))]
impl HttpRequest {
    /// The value of the cookie `name`, as the client sent it (without surrounding double
    /// quotes); the first one if it sent several of that name.
    #[must_use]
    pub fn cookie(&self, name: &str) -> Option<&str> {
        cookie_value(self.headers(), name)
    }

    /// Every cookie the client sent, in order.
    pub fn cookies(&self) -> impl Iterator<Item = Cookie<'_>> {
        request_cookies(self.headers())
    }

    /// The value of the signed cookie `name` once its signature checks out against `key`;
    /// `None` when it is absent or was changed (or signed with another key).
    #[must_use]
    pub fn signed_cookie(&self, name: &str, key: &Key) -> Option<String> {
        verified_value(self.headers(), name, key)
    }

    /// The decrypted value of the private cookie `name`; `None` when it is absent, was
    /// changed, or was encrypted with another key.
    #[must_use]
    pub fn private_cookie(&self, name: &str, key: &Key) -> Option<String> {
        decrypted_value(self.headers(), name, key)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "cookies")))]
impl HttpResponse {
    /// Adds a `set-cookie` header for `cookie`: a [`Cookie`], a
    /// [`CookieBuilder`](cookie::CookieBuilder), or a `(name, value)` pair. Each call adds
    /// one header, so several cookies may be set.
    ///
    /// A cookie that cannot be sent as it is (see the [module docs](crate::cookies)) turns
    /// the response into a `500` and logs why.
    ///
    /// ```
    /// use bareasgi::cookie::{Cookie, SameSite};
    /// use bareasgi::HttpResponse;
    ///
    /// let mut response = HttpResponse::default();
    /// response.set_cookie(("theme", "dark"));
    /// response.set_cookie(Cookie::build(("session", "abc123")).http_only(true).same_site(SameSite::Lax));
    /// assert_eq!(response.headers.get_all("set-cookie").iter().count(), 2);
    /// ```
    pub fn set_cookie(&mut self, cookie: impl Into<Cookie<'static>>) {
        let cookie = cookie.into();
        match header_value(&cookie) {
            Ok(value) => {
                self.headers.append(SET_COOKIE, value);
            }
            Err(problem) => {
                tracing::error!(
                    cookie = cookie.name(),
                    problem,
                    "cannot set the cookie; answering 500"
                );
                *self = HttpResponse::internal_server_error();
            }
        }
    }

    /// [`set_cookie`](Self::set_cookie), builder style:
    /// `HttpResponse::text(200, "hi").with_cookie(("a", "1")).with_cookie(("b", "2"))`.
    #[must_use]
    pub fn with_cookie(mut self, cookie: impl Into<Cookie<'static>>) -> Self {
        self.set_cookie(cookie);
        self
    }

    /// Sets `cookie` signed with `key` (HMAC-SHA256 over the value, with a key derived from
    /// `key` and the cookie's name): the client can read its value, but any change, or the
    /// same value under another name, makes [`HttpRequest::signed_cookie`] ignore it.
    pub fn set_signed_cookie(&mut self, cookie: impl Into<Cookie<'static>>, key: &Key) {
        let cookie = cookie.into();
        let key = signing_key(key, cookie.name());
        let signed = through_jar(cookie, |jar, cookie| jar.signed_mut(&key).add(cookie));
        self.set_cookie(signed);
    }

    /// [`set_signed_cookie`](Self::set_signed_cookie), builder style.
    #[must_use]
    pub fn with_signed_cookie(mut self, cookie: impl Into<Cookie<'static>>, key: &Key) -> Self {
        self.set_signed_cookie(cookie, key);
        self
    }

    /// Sets `cookie` encrypted with `key`: the client can neither read nor change its
    /// value; [`HttpRequest::private_cookie`] decrypts it.
    pub fn set_private_cookie(&mut self, cookie: impl Into<Cookie<'static>>, key: &Key) {
        let private = through_jar(cookie.into(), |jar, cookie| {
            jar.private_mut(key).add(cookie)
        });
        self.set_cookie(private);
    }

    /// [`set_private_cookie`](Self::set_private_cookie), builder style.
    #[must_use]
    pub fn with_private_cookie(mut self, cookie: impl Into<Cookie<'static>>, key: &Key) -> Self {
        self.set_private_cookie(cookie, key);
        self
    }

    /// Tells the client to delete `cookie` (by name, or a [`Cookie`] with the path and
    /// domain it was set with, which the client needs to find it): an empty value that
    /// expired long ago.
    pub fn remove_cookie(&mut self, cookie: impl Into<Cookie<'static>>) {
        let mut cookie = cookie.into();
        cookie.make_removal();
        self.set_cookie(cookie);
    }
}

/// `cookie` as `add` (a signed or private child jar's) leaves it in a jar: signed or
/// encrypted, with its attributes.
fn through_jar(
    cookie: Cookie<'static>,
    add: impl FnOnce(&mut CookieJar, Cookie<'static>),
) -> Cookie<'static> {
    let name = cookie.name().to_owned();
    let mut jar = CookieJar::new();
    add(&mut jar, cookie);
    jar.get(&name)
        .cloned()
        .expect("a cookie added to a jar is in it")
}

/// The `set-cookie` value for `cookie`, or what makes it impossible to send.
fn header_value(cookie: &Cookie<'_>) -> Result<HeaderValue, String> {
    let name = cookie.name();
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(format!("the name {name:?} is not an HTTP token"));
    }
    let value = cookie.value();
    let unquoted = value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value);
    if let Some(bad) = unquoted.chars().find(|&c| !is_cookie_octet(c)) {
        return Err(format!(
            "the value holds {bad:?}, which a cookie cannot carry; encode it (base64, percent-encoding) or use a private cookie"
        ));
    }
    for (attribute, text) in [("path", cookie.path()), ("domain", cookie.domain())] {
        if let Some(bad) = text.and_then(|text| text.chars().find(|&c| c == ';' || c.is_control()))
        {
            return Err(format!("the {attribute} holds {bad:?}"));
        }
    }
    let mut text = String::with_capacity(64);
    // `Cookie`'s `Display` writes the name, value and attributes as `set-cookie` wants them.
    let _ = write!(text, "{cookie}");
    HeaderValue::try_from(text).map_err(|_| "it is not valid header text".to_owned())
}

/// RFC 9110 `tchar`.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// RFC 6265 `cookie-octet`: visible ASCII but `"`, `,`, `;` and `\`.
fn is_cookie_octet(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x2B' | '\x2D'..='\x3A' | '\x3C'..='\x5B' | '\x5D'..='\x7E')
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    fn headers(cookie_headers: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in cookie_headers {
            headers.append(COOKIE, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn values_are_found_across_cookie_headers_first_one_wins() {
        let headers = headers(&["a=1; b=\"two\"", "c=3; a=other"]);
        assert_eq!(cookie_value(&headers, "a"), Some("1"));
        assert_eq!(cookie_value(&headers, "b"), Some("two"));
        assert_eq!(cookie_value(&headers, "c"), Some("3"));
        assert_eq!(cookie_value(&headers, "d"), None);
        let names: Vec<_> = request_cookies(&headers)
            .map(|c| c.name().to_owned())
            .collect();
        assert_eq!(names, ["a", "b", "c", "a"]);
    }

    // Regression: cookies were read through `HeaderValue::to_str`, which refuses a whole
    // header for one byte outside visible ASCII, so a UTF-8 cookie hid the session cookie.
    #[test]
    fn a_cookie_with_bytes_outside_ascii_does_not_hide_the_others() {
        let mut headers = HeaderMap::new();
        let value =
            HeaderValue::from_bytes(b"theme=caf\xc3\xa9; latin=\xe9t\xe9; session=abc").unwrap();
        headers.append(COOKIE, value);
        assert_eq!(cookie_value(&headers, "session"), Some("abc"));
        assert_eq!(cookie_value(&headers, "theme"), Some("caf\u{e9}"));
        assert_eq!(
            cookie_value(&headers, "latin"),
            None,
            "not UTF-8: skipped alone"
        );
    }

    #[test]
    fn one_set_cookie_header_per_cookie() {
        let response = HttpResponse::default()
            .with_cookie(("a", "1"))
            .with_cookie(Cookie::build(("b", "2")).path("/app").http_only(true));
        let values: Vec<_> = response.headers.get_all(SET_COOKIE).iter().collect();
        assert_eq!(values, ["a=1", "b=2; HttpOnly; Path=/app"]);
    }

    #[test]
    fn a_cookie_that_cannot_be_sent_is_a_500() {
        for bad in [
            Cookie::new("a", "two words"),
            Cookie::new("a", "x;Domain=evil.example"),
            Cookie::new("bad name", "1"),
            Cookie::build(("a", "1")).path("/; Secure=no").build(),
            Cookie::new("a", "caf\u{e9}"),
        ] {
            let response = HttpResponse::default().with_cookie(bad.clone());
            assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR, "{bad}");
            assert!(response.headers.get(SET_COOKIE).is_none());
        }
    }

    #[test]
    fn signed_and_private_cookies_round_trip_and_refuse_tampering() {
        let key = Key::generate();
        let response = HttpResponse::default()
            .with_signed_cookie(("s", "42"), &key)
            .with_private_cookie(("p", "secret value"), &key);
        let sent: Vec<String> = response
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        assert!(
            sent[0].starts_with("s=") && sent[0].ends_with("42"),
            "{}",
            sent[0]
        );
        assert!(!sent[1].contains("secret"), "{}", sent[1]);
        let jar = headers(&[&format!("{}; {}", sent[0], sent[1])]);
        let empty = CookieJar::new();
        assert_eq!(verified_value(&jar, "s", &key).as_deref(), Some("42"));
        let p = candidates(&jar, "p").find_map(|c| empty.private(&key).decrypt(c));
        assert_eq!(p.unwrap().value(), "secret value");
        let forged = headers(&[&sent[0].replace("42", "43")]);
        assert_eq!(verified_value(&forged, "s", &key), None);
        let other_key = Key::generate();
        assert_eq!(verified_value(&jar, "s", &other_key), None);
        // Regression: the cookie crate signs the value alone, so the same value under
        // another name verified too.
        let moved = headers(&[&sent[0].replacen("s=", "admin=", 1)]);
        assert_eq!(verified_value(&moved, "admin", &key), None);
    }

    #[test]
    fn removal_sends_an_expired_empty_cookie() {
        let mut response = HttpResponse::default();
        response.remove_cookie(Cookie::build("session").path("/"));
        let value = response.headers[SET_COOKIE].to_str().unwrap();
        assert!(value.starts_with("session=;"), "{value}");
        assert!(value.contains("Max-Age=0"), "{value}");
    }
}
