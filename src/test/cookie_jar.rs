//! The opt-in cookie jar of a [`TestClient`](super::TestClient): keeps the cookies
//! responses set and sends them back, as a browser does for one site.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use cookie::Cookie;
use http::HeaderMap;
use http::header::SET_COOKIE;

/// The cookies kept so far. One host only (the test server), so `Domain` is not looked
/// at; `Path`, `Max-Age` and `Expires` are, as RFC 6265 says.
#[derive(Debug, Default)]
pub(crate) struct CookieJar {
    cookies: Mutex<Vec<Kept>>,
}

#[derive(Debug)]
struct Kept {
    name: String,
    value: String,
    path: String,
    /// Seconds since the epoch after which the cookie is gone; `None` for a session cookie.
    expires: Option<i64>,
}

impl CookieJar {
    /// Keeps (or replaces, or removes) the cookies in a response's `set-cookie` headers,
    /// for a request to `request_path`.
    pub(crate) fn store(&self, headers: &HeaderMap, request_path: &str) {
        let now = now();
        let mut cookies = self
            .cookies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for value in headers.get_all(SET_COOKIE) {
            let Some(cookie) = value
                .to_str()
                .ok()
                .and_then(|text| Cookie::parse(text).ok())
            else {
                continue; // as a browser: an unparsable set-cookie is ignored
            };
            let path = match cookie.path() {
                Some(path) if path.starts_with('/') => path.to_owned(),
                _ => default_path(request_path),
            };
            let expires = match (cookie.max_age(), cookie.expires_datetime()) {
                (Some(max_age), _) => Some(now.saturating_add(max_age.whole_seconds())),
                (None, Some(at)) => Some(at.unix_timestamp()),
                (None, None) => None,
            };
            cookies.retain(|kept| !(kept.name == cookie.name() && kept.path == path));
            if expires.is_none_or(|at| at > now) {
                cookies.push(Kept {
                    name: cookie.name().to_owned(),
                    value: cookie.value().to_owned(),
                    path,
                    expires,
                });
            }
        }
    }

    /// The `name=value` pairs to send to `request_path`, longest path first (RFC 6265
    /// 5.4), leaving out names in `except` (cookies the test set by hand win).
    pub(crate) fn for_request(&self, request_path: &str, except: &[String]) -> Vec<String> {
        let now = now();
        let mut cookies = self
            .cookies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cookies.retain(|kept| kept.expires.is_none_or(|at| at > now));
        let mut matching: Vec<&Kept> = cookies
            .iter()
            .filter(|kept| path_matches(&kept.path, request_path))
            .filter(|kept| !except.contains(&kept.name))
            .collect();
        matching.sort_by_key(|kept| std::cmp::Reverse(kept.path.len()));
        matching
            .iter()
            .map(|kept| format!("{}={}", kept.name, kept.value))
            .collect()
    }

    /// The cookies to send to `request_path`: the jar's, then `by_hand` (`name=value`
    /// pairs a request set itself), which replace the jar's of the same name.
    pub(crate) fn with_kept(&self, request_path: &str, by_hand: Vec<String>) -> Vec<String> {
        let names: Vec<String> = by_hand
            .iter()
            .map(|pair| pair.split('=').next().unwrap_or("").to_owned())
            .collect();
        let mut cookies = self.for_request(request_path, &names);
        cookies.extend(by_hand);
        cookies
    }

    /// The value of the cookie `name` the jar would send to some path, if it holds one.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        let now = now();
        let cookies = self
            .cookies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cookies
            .iter()
            .find(|kept| kept.name == name && kept.expires.is_none_or(|at| at > now))
            .map(|kept| kept.value.clone())
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// RFC 6265 5.1.4: the directory of the request path.
fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(at) => request_path[..at].to_owned(),
    }
}

/// RFC 6265 5.1.4: `/admin` matches `/admin`, `/admin/` and `/admin/users`, not `/administrators`.
fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    match request_path.strip_prefix(cookie_path) {
        None => false,
        Some(rest) => rest.is_empty() || cookie_path.ends_with('/') || rest.starts_with('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn set(jar: &CookieJar, path: &str, cookies: &[&str]) {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            headers.append(SET_COOKIE, HeaderValue::from_str(cookie).unwrap());
        }
        jar.store(&headers, path);
    }

    #[test]
    fn paths_expiry_and_replacement_follow_rfc_6265() {
        let jar = CookieJar::default();
        set(
            &jar,
            "/login",
            &[
                "a=1",
                "b=2; Path=/admin",
                "c=3; Max-Age=0",
                "d=4; Max-Age=60",
            ],
        );
        assert_eq!(jar.for_request("/", &[]), ["a=1", "d=4"]);
        assert_eq!(jar.for_request("/admin/users", &[]), ["b=2", "a=1", "d=4"]);
        assert_eq!(jar.for_request("/administrators", &[]), ["a=1", "d=4"]);
        set(
            &jar,
            "/",
            &["a=changed", "d=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
        );
        assert_eq!(jar.for_request("/", &[]), ["a=changed"]);
        assert_eq!(
            jar.for_request("/", &["a".to_owned()]),
            Vec::<String>::new()
        );
        assert_eq!(jar.get("b").as_deref(), Some("2"));
        assert_eq!(jar.get("c"), None);
    }

    #[test]
    fn a_cookie_without_a_path_belongs_to_the_request_directory() {
        assert_eq!(default_path("/account/login"), "/account");
        assert_eq!(default_path("/login"), "/");
        assert!(path_matches("/", "/anything"));
        assert!(path_matches("/a/", "/a/b"));
        assert!(!path_matches("/a/b", "/a"));
    }
}
