//! The `Host` header of an HTTP/1.1 request, checked as RFC 9112 §3.2 asks: a request
//! without one, with two, or with one that is not `host[:port]` gets `400 Bad Request`.
//!
//! An absolute-form target (`GET http://example.com/ HTTP/1.1`, as sent to proxies) still
//! needs a valid `Host`; its value is then ignored, as the RFC says, and the target's path
//! is routed as usual. HTTP/1.0 requests may omit `Host` (it did not exist yet).
//!
//! The same pass over the headers finds whether the client asked to close the connection
//! after the response (see `detachable`): one walk through a request's few headers costs
//! less than two lookups, for which `HeaderMap` hashes each name byte by byte.

use std::cell::Cell;

use http::header::{CONNECTION, HOST, HeaderValue};
use http::{HeaderMap, StatusCode, Version};

use crate::detachable::has_close_option;
use crate::response::HttpResponse;

/// What an HTTP/1.1 connection checks in each request's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Checked {
    /// Why the request's `Host` is refused, if it is.
    pub(super) problem: Option<&'static str>,
    /// A `Connection` header has the `close` option.
    pub(super) close_requested: bool,
}

/// The last `Host` a connection found valid. A client sends the same one on every request,
/// and comparing it with the last costs less than checking it byte by byte again.
#[derive(Debug, Clone)]
pub(super) struct KnownHost {
    bytes: Cell<[u8; KNOWN_HOST_ROOM]>,
    /// 0: none yet (an empty `Host`, valid, is simply checked each time).
    len: Cell<usize>,
}

/// The longest `Host` remembered; longer ones are checked on every request.
const KNOWN_HOST_ROOM: usize = 64;

impl Default for KnownHost {
    fn default() -> Self {
        Self {
            bytes: Cell::new([0; KNOWN_HOST_ROOM]),
            len: Cell::new(0),
        }
    }
}

impl KnownHost {
    fn is(&self, host: &[u8]) -> bool {
        let len = self.len.get();
        len != 0 && host.len() == len && self.bytes.get()[..len] == *host
    }

    fn remember(&self, host: &[u8]) {
        if host.len() <= KNOWN_HOST_ROOM {
            let mut bytes = [0; KNOWN_HOST_ROOM];
            bytes[..host.len()].copy_from_slice(host);
            self.bytes.set(bytes);
            self.len.set(host.len());
        }
    }
}

/// Checks a request's `Host` and looks for `Connection: close`, in one pass; `known` is the
/// connection's last valid `Host`.
pub(super) fn check(version: Version, headers: &HeaderMap, known: &KnownHost) -> Checked {
    let mut host = None;
    let mut hosts = 0;
    let mut close_requested = false;
    for (name, value) in headers {
        if name == HOST {
            host = Some(value);
            hosts += 1;
        } else if name == CONNECTION {
            close_requested |= has_close_option(value);
        }
    }
    let problem = match host {
        None => (version == Version::HTTP_11).then_some("missing Host header"),
        Some(_) if hosts > 1 => Some("more than one Host header"),
        Some(host) if known.is(host.as_bytes()) => None,
        Some(host) if is_valid(host.as_bytes()) => {
            known.remember(host.as_bytes());
            None
        }
        Some(_) => Some("invalid Host header"),
    };
    Checked {
        problem,
        close_requested,
    }
}

/// The answer to a request refused for `problem`; the connection closes after it (a client
/// that gets `Host` wrong is broken or probing).
pub(super) fn bad_request(problem: &'static str) -> HttpResponse {
    let mut response =
        HttpResponse::text(StatusCode::BAD_REQUEST, format!("Bad Request: {problem}"));
    response
        .headers
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// `uri-host [ ":" port ]` (RFC 3986): a registered name or IPv4 address, or an IP literal
/// in brackets, and an optional port. Empty is valid (a target with an empty authority).
#[inline]
fn is_valid(host: &[u8]) -> bool {
    if host.first() == Some(&b'[') {
        return is_valid_ip_literal(host);
    }
    // The port follows the last `:`; a name has none. Two tight loops rather than one
    // that tracks where it is: this runs on every HTTP/1.1 request.
    let (name, port) = match host.iter().rposition(|&byte| byte == b':') {
        Some(colon) => (&host[..colon], &host[colon + 1..]),
        None => (host, &[][..]),
    };
    name.iter().all(|&byte| IN_NAME[usize::from(byte)]) && port.iter().all(u8::is_ascii_digit)
}

/// `[` IPv6 or IPvFuture `]`, then an optional port.
fn is_valid_ip_literal(host: &[u8]) -> bool {
    let rest = &host[1..];
    let Some(end) = rest.iter().position(|&byte| byte == b']') else {
        return false;
    };
    let literal = &rest[..end];
    let literal_ok = !literal.is_empty()
        && literal
            .iter()
            .all(|&byte| byte.is_ascii_hexdigit() || b":.vV".contains(&byte));
    let port_ok = match &rest[end + 1..] {
        [] => true,
        [b':', digits @ ..] => digits.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    literal_ok && port_ok
}

/// The bytes of a registered name or IPv4 address: unreserved / pct-encoded / sub-delims
/// (RFC 3986 §3.2.2), that is letters, digits and `-._~%!$&'()*+,;=`. A table, because
/// every HTTP/1.1 request's `Host` goes through it.
const IN_NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    let punctuation = b"-._~%!$&'()*+,;=";
    let mut index = 0;
    while index < punctuation.len() {
        table[punctuation[index] as usize] = true;
        index += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(hosts: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for host in hosts {
            headers.append(HOST, HeaderValue::from_bytes(host).unwrap());
        }
        headers
    }

    #[test]
    fn valid_hosts_pass() {
        for host in [
            &b"example.com"[..],
            b"example.com:8080",
            b"127.0.0.1:9009",
            b"[::1]",
            b"[::1]:443",
            b"", // a target with an empty authority
            b"xn--bcher-kva.example",
            b"my_host.local",
        ] {
            assert_eq!(
                check(Version::HTTP_11, &headers(&[host]), &KnownHost::default()).problem,
                None,
                "{:?}",
                String::from_utf8_lossy(host)
            );
        }
    }

    #[test]
    fn invalid_hosts_are_refused() {
        for host in [
            &b"a b/c"[..],
            b"example.com/path",
            b"user@example.com",
            b"example.com:80a",
            b"example.com:80:81",
            b"[::1",
            b"[]",
            b"[::1]x",
            b"ex\xc3\xa4mple.com",
            b"a\tb",
        ] {
            assert_eq!(
                check(Version::HTTP_11, &headers(&[host]), &KnownHost::default()).problem,
                Some("invalid Host header"),
                "{:?}",
                String::from_utf8_lossy(host)
            );
        }
    }

    #[test]
    fn a_missing_host_is_refused_on_http11_only_and_two_always() {
        assert_eq!(
            check(Version::HTTP_11, &HeaderMap::new(), &KnownHost::default()).problem,
            Some("missing Host header")
        );
        assert_eq!(
            check(Version::HTTP_10, &HeaderMap::new(), &KnownHost::default()).problem,
            None
        );
        assert_eq!(
            check(
                Version::HTTP_10,
                &headers(&[b"a", b"a"]),
                &KnownHost::default()
            )
            .problem,
            Some("more than one Host header")
        );
    }

    #[test]
    fn connection_close_is_found_beside_the_host() {
        let mut map = headers(&[b"example.com"]);
        assert!(!check(Version::HTTP_11, &map, &KnownHost::default()).close_requested);
        map.append(CONNECTION, HeaderValue::from_static("keep-alive"));
        assert!(!check(Version::HTTP_11, &map, &KnownHost::default()).close_requested);
        map.append(CONNECTION, HeaderValue::from_static("Upgrade, close"));
        let checked = check(Version::HTTP_11, &map, &KnownHost::default());
        assert!(checked.close_requested);
        assert_eq!(checked.problem, None);
    }

    #[test]
    fn a_remembered_host_passes_and_others_are_still_checked() {
        let known = KnownHost::default();
        let problem = |host: &[u8]| check(Version::HTTP_11, &headers(&[host]), &known).problem;
        assert_eq!(problem(b"example.com:8080"), None);
        assert!(known.is(b"example.com:8080"));
        assert_eq!(problem(b"example.com:8080"), None);
        assert_eq!(problem(b"example.com:80a"), Some("invalid Host header"));
        assert_eq!(problem(b"example.com:808"), None);
        assert!(known.is(b"example.com:808"));
        assert!(!known.is(b"example.com:8080"));
        let long = [b'a'; KNOWN_HOST_ROOM + 1];
        assert_eq!(problem(&long), None);
        assert!(!known.is(&long));
        assert_eq!(
            check(
                Version::HTTP_11,
                &headers(&[b"example.com:808", b"x"]),
                &known
            )
            .problem,
            Some("more than one Host header")
        );
    }
}
