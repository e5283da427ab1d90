//! [`IntoHeaders`]: the forms a response's headers may be given in.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use std::fmt;

use super::header_map;

/// A header name or value that is not valid HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHeader {
    name: String,
    value_is_bad: bool,
}

impl fmt::Display for InvalidHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value_is_bad {
            write!(f, "invalid value for header {:?}", self.name)
        } else {
            write!(f, "invalid header name {:?}", self.name)
        }
    }
}

impl std::error::Error for InvalidHeader {}

/// A value usable as response headers.
pub trait IntoHeaders {
    /// Converts to a [`HeaderMap`].
    ///
    /// # Errors
    /// When a name or value is not valid HTTP; the error names the header.
    fn into_headers(self) -> Result<HeaderMap, InvalidHeader>;
}

impl IntoHeaders for HeaderMap {
    fn into_headers(self) -> Result<HeaderMap, InvalidHeader> {
        Ok(self)
    }
}

impl IntoHeaders for () {
    fn into_headers(self) -> Result<HeaderMap, InvalidHeader> {
        Ok(HeaderMap::new())
    }
}

fn collect_headers<K, V>(
    pairs: impl ExactSizeIterator<Item = (K, V)>,
) -> Result<HeaderMap, InvalidHeader>
where
    K: HeaderPart,
    V: HeaderPart,
{
    let mut headers = header_map(pairs.len());
    for (name, value) in pairs {
        let bytes = name.as_header_bytes();
        let header_name = match well_known_name(bytes) {
            Some(known) => known,
            None => HeaderName::from_bytes(bytes).map_err(|_| InvalidHeader {
                name: name.lossy_name(),
                value_is_bad: false,
            })?,
        };
        let header_value = value.into_header_value().ok_or_else(|| InvalidHeader {
            name: header_name.as_str().to_owned(),
            value_is_bad: true,
        })?;
        headers.append(header_name, header_value);
    }
    Ok(headers)
}

impl<K: HeaderPart, V: HeaderPart, const N: usize> IntoHeaders for [(K, V); N] {
    fn into_headers(self) -> Result<HeaderMap, InvalidHeader> {
        collect_headers(self.into_iter())
    }
}

impl<K: HeaderPart, V: HeaderPart> IntoHeaders for Vec<(K, V)> {
    fn into_headers(self) -> Result<HeaderMap, InvalidHeader> {
        collect_headers(self.into_iter())
    }
}

/// A header name or value in one of the accepted forms: `&str`, `String`, `&[u8]`,
/// `Vec<u8>`, `Bytes`.
pub trait HeaderPart {
    /// The raw bytes, for parsing a header name.
    fn as_header_bytes(&self) -> &[u8];

    /// The value, validated; `None` when the bytes are not a valid header value.
    fn into_header_value(self) -> Option<HeaderValue>;

    /// A printable form of a bad name for the log line.
    fn lossy_name(&self) -> String {
        String::from_utf8_lossy(self.as_header_bytes()).into_owned()
    }
}

impl HeaderPart for &str {
    fn as_header_bytes(&self) -> &[u8] {
        self.as_bytes()
    }
    fn into_header_value(self) -> Option<HeaderValue> {
        well_known_value(self).or_else(|| HeaderValue::from_str(self).ok())
    }
}

// Most responses set the same few headers to the same few values. Recognising them skips
// `HeaderName::from_bytes`'s general parse and `HeaderValue::from_str`'s copy to the heap:
// a few hundred instructions of a hello-world request.

fn well_known_name(name: &[u8]) -> Option<HeaderName> {
    use http::header;
    Some(match name {
        b"content-type" => header::CONTENT_TYPE,
        b"cache-control" => header::CACHE_CONTROL,
        b"location" => header::LOCATION,
        b"set-cookie" => header::SET_COOKIE,
        b"content-length" => header::CONTENT_LENGTH,
        b"connection" => header::CONNECTION,
        _ => return None,
    })
}

fn well_known_value(value: &str) -> Option<HeaderValue> {
    // Each arm a constant: `HeaderValue::from_static` checks its bytes at run time unless
    // the string is known at compile time, which a `match` over several is not.
    const fn known(value: &'static str) -> HeaderValue {
        HeaderValue::from_static(value)
    }
    Some(match value {
        "text/plain" => const { known("text/plain") },
        "text/plain; charset=utf-8" => const { known("text/plain; charset=utf-8") },
        "text/html" => const { known("text/html") },
        "text/html; charset=utf-8" => const { known("text/html; charset=utf-8") },
        "application/json" => const { known("application/json") },
        "text/event-stream" => const { known("text/event-stream") },
        "application/octet-stream" => const { known("application/octet-stream") },
        "no-cache" => const { known("no-cache") },
        "no-store" => const { known("no-store") },
        _ => return None,
    })
}

impl HeaderPart for String {
    fn as_header_bytes(&self) -> &[u8] {
        self.as_bytes()
    }
    fn into_header_value(self) -> Option<HeaderValue> {
        HeaderValue::from_maybe_shared(Bytes::from(self)).ok()
    }
}

impl HeaderPart for &[u8] {
    fn as_header_bytes(&self) -> &[u8] {
        self
    }
    fn into_header_value(self) -> Option<HeaderValue> {
        HeaderValue::from_bytes(self).ok()
    }
}

impl HeaderPart for Vec<u8> {
    fn as_header_bytes(&self) -> &[u8] {
        self
    }
    fn into_header_value(self) -> Option<HeaderValue> {
        HeaderValue::from_maybe_shared(Bytes::from(self)).ok()
    }
}

impl HeaderPart for Bytes {
    fn as_header_bytes(&self) -> &[u8] {
        self
    }
    fn into_header_value(self) -> Option<HeaderValue> {
        HeaderValue::from_maybe_shared(self).ok()
    }
}
