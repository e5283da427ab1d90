//! Checking and decoding request paths before they reach the tree.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// Decodes one segment of a path that `check_path` found to have `%` escapes (`encoded`)
/// or not, so that a path without any is not searched again segment by segment;
/// `check_path` has already refused what would not decode to UTF-8.
pub(super) fn decode(raw: &str, encoded: bool) -> Cow<'_, str> {
    if encoded && raw.contains('%') {
        percent_decode_str(raw).decode_utf8_lossy()
    } else {
        Cow::Borrowed(raw)
    }
}

/// Refuses paths that would make captures ambiguous or unsafe to use as file names.
/// Returns whether the path has `%` escapes.
pub(super) fn check_path(path: &str) -> Result<bool, &'static str> {
    // Two searches a word at a time (`memchr`) rather than one loop byte by byte: this runs
    // on every request, and most paths have neither.
    let encoded = path.as_bytes().contains(&b'%');
    if !encoded && !path.as_bytes().contains(&b'.') {
        return Ok(false);
    }
    for raw in path.split('/') {
        if !raw.contains('%') {
            // Nothing to decode: only a dot segment could be wrong.
            if raw == "." || raw == ".." {
                return Err("'.' and '..' segments are not allowed in the path");
            }
            continue;
        }
        if !is_well_encoded(raw) {
            return Err("invalid percent-encoding in the path");
        }
        let decoded: Cow<'_, [u8]> = percent_decode_str(raw).into();
        if decoded.contains(&b'/') {
            return Err("encoded '/' in the path");
        }
        if decoded.contains(&0) {
            return Err("encoded NUL in the path");
        }
        if std::str::from_utf8(&decoded).is_err() {
            return Err("the path is not UTF-8 after percent-decoding");
        }
        if &*decoded == b"." || &*decoded == b".." {
            return Err("'.' and '..' segments are not allowed in the path");
        }
    }
    Ok(encoded)
}

/// Whether every `%` starts a two-digit hex escape.
fn is_well_encoded(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|&b| b == b'%') {
        let escape = at + offset;
        match bytes.get(escape + 1..escape + 3) {
            Some([high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                at = escape + 3
            }
            _ => return false,
        }
    }
    true
}
