//! What the fuzz targets share: reading an accepted pattern back into segments, building a
//! path that the pattern must match, and the checks every `Resolution::Found` must pass.

use bareasgi::HttpRequest;
use bareasgi::Matches;
use bareasgi::router::{CaptureKind, Route};
use percent_encoding::percent_decode_str;

/// A do-nothing handler: the targets only look at which route is found.
pub async fn noop(_req: HttpRequest) {}

/// One segment of a pattern that the router accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// Text that must equal the decoded path segment.
    Lit(&'a str),
    /// A capture.
    Cap {
        /// Its name.
        name: &'a str,
        /// What it accepts.
        kind: CaptureKind,
    },
}

/// The segments of `pattern`, which the router has accepted (so it is well formed).
#[must_use]
pub fn segments(pattern: &str) -> Vec<Seg<'_>> {
    let rest = pattern
        .strip_prefix('/')
        .expect("an accepted pattern starts with '/'");
    rest.split('/')
        .map(
            |piece| match piece.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                None => Seg::Lit(piece),
                Some(inner) => {
                    let (name, kind) = match inner.split_once(':') {
                        None => (inner, CaptureKind::Str),
                        Some((name, "str")) => (name, CaptureKind::Str),
                        Some((name, "int")) => (name, CaptureKind::Int),
                        Some((name, "float")) => (name, CaptureKind::Float),
                        Some((name, "path")) => (name, CaptureKind::Path),
                        Some((_, other)) => {
                            panic!("accepted pattern {pattern:?} has capture type {other:?}")
                        }
                    };
                    Seg::Cap { name, kind }
                }
            },
        )
        .collect()
}

/// Whether `value`, a decoded capture, is what a capture of `kind` may hold.
#[must_use]
pub fn satisfies(kind: CaptureKind, value: &str) -> bool {
    match kind {
        CaptureKind::Str => !value.is_empty() && !value.contains('/'),
        CaptureKind::Int => value.parse::<i64>().is_ok(),
        CaptureKind::Float => value.parse::<f64>().is_ok_and(f64::is_finite),
        CaptureKind::Path => true,
    }
}

/// The checks for a `Found { route, matches }` on the raw request `path`:
/// - the captures are the pattern's, in order, and each satisfies its type;
/// - putting the decoded captures back into the pattern gives exactly the decoded path.
///
/// # Panics
/// When one does not hold; the message says which.
pub fn check_found(path: &str, route: &Route, matches: &Matches) {
    let segs = segments(route.pattern());
    let names: Vec<&str> = segs
        .iter()
        .filter_map(|seg| match seg {
            Seg::Cap { name, .. } => Some(*name),
            Seg::Lit(_) => None,
        })
        .collect();
    let captured: Vec<&str> = matches.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        captured,
        "{path:?} -> {:?}: capture names",
        route.pattern()
    );
    let mut pieces = Vec::with_capacity(segs.len());
    for seg in &segs {
        match seg {
            Seg::Lit(text) => pieces.push(*text),
            Seg::Cap { name, kind } => {
                let value = matches.get(name).expect("every capture is in matches");
                assert!(
                    satisfies(*kind, value),
                    "{path:?} -> {:?}: {name} = {value:?} is not a valid {kind:?}",
                    route.pattern()
                );
                pieces.push(value);
            }
        }
    }
    let rebuilt = format!("/{}", pieces.join("/"));
    let decoded = percent_decode_str(path)
        .decode_utf8()
        .expect("a path that was Found decodes to UTF-8");
    assert_eq!(
        rebuilt,
        decoded,
        "{path:?} -> {:?}: the captures do not re-assemble the path",
        route.pattern()
    );
}

/// Percent-encodes `text` as a path piece: `%` always (it would otherwise start an escape),
/// every other character when `all` is set (or when `encode_char` says so).
#[must_use]
pub fn encode(text: &str, mut encode_char: impl FnMut(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '%' || encode_char(c) {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Sample values for a capture of `kind` (decoded), to pick from.
#[must_use]
pub fn samples(kind: CaptureKind) -> &'static [&'static str] {
    match kind {
        CaptureKind::Int => &[
            "0",
            "-7",
            "42",
            "9223372036854775807",
            "-9223372036854775808",
        ],
        CaptureKind::Float => &["1.5", "-0.25", "1e3", "7", ".5", "3.", "-1E-3"],
        CaptureKind::Str => &["x", "me", "1", "a%b", "caf\u{e9}", "a b", "x.y", "?#"],
        CaptureKind::Path => &["", "a/b", "x/", "users/me", "/a", "%/\u{4e2d}"],
    }
}

/// A raw path that `pattern` (accepted by the router) must match, with the `pick`-th sample
/// for each capture; `encode_char` decides which characters are percent-encoded.
#[must_use]
pub fn example_path(pattern: &str, pick: u64, mut encode_char: impl FnMut(char) -> bool) -> String {
    let mut pick = pick;
    let mut pieces = Vec::new();
    for seg in segments(pattern) {
        let piece = match seg {
            Seg::Lit(text) => encode(text, &mut encode_char),
            Seg::Cap { kind, .. } => {
                let options = samples(kind);
                let value = options[(pick % options.len() as u64) as usize];
                pick /= options.len() as u64;
                if kind == CaptureKind::Path {
                    // The `/`s of a path capture are separators and stay raw.
                    value
                        .split('/')
                        .map(|part| encode(part, &mut encode_char))
                        .collect::<Vec<_>>()
                        .join("/")
                } else {
                    encode(value, &mut encode_char)
                }
            }
        };
        pieces.push(piece);
    }
    format!("/{}", pieces.join("/"))
}
