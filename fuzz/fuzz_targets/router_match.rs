//! A few patterns built from literals and capture kinds, and a request path: `resolve`
//! never panics; whatever it finds has captures of the right type that re-assemble the
//! decoded path; and a path built from an accepted pattern is always found (by that
//! route or one that takes precedence).

#![no_main]

use arbitrary::Arbitrary;
use bareasgi::{HttpRouter, Resolution};
use bareasgi_fuzz::{check_found, encode, example_path, noop};
use http::Method;
use libfuzzer_sys::fuzz_target;

/// Texts that collide with each other, with the capture types, and with path rules.
const LITERALS: &[&str] = &[
    "",
    "a",
    "b",
    "users",
    "me",
    "1",
    "-2",
    "1.5",
    "1e3",
    "inf",
    "caf\u{e9}",
    "\u{4e2d}",
    "%",
    "%41",
    "a%2Fb",
    "x.y",
    ".",
    "..",
    "~",
    "-",
];

#[derive(Debug, Arbitrary)]
enum SegSpec {
    Lit(u8),
    Int,
    Float,
    Str,
    Path,
}

#[derive(Debug, Arbitrary)]
struct RouteSpec {
    post: bool,
    segments: Vec<SegSpec>,
}

#[derive(Debug, Arbitrary)]
enum Piece {
    Lit(u8),
    Int(i64),
    Float(f64),
    Text(String),
    /// Put in the path as it is, not encoded.
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Request {
    Pieces(Vec<Piece>),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    routes: Vec<RouteSpec>,
    request: Request,
    post: bool,
    bits: u64,
}

fn method(post: bool) -> Method {
    if post { Method::POST } else { Method::GET }
}

fn pattern_of(spec: &RouteSpec) -> String {
    let segments: Vec<String> = spec
        .segments
        .iter()
        .take(6)
        .enumerate()
        .map(|(i, seg)| match seg {
            SegSpec::Lit(n) => LITERALS[*n as usize % LITERALS.len()].to_owned(),
            SegSpec::Int => format!("{{c{i}:int}}"),
            SegSpec::Float => format!("{{c{i}:float}}"),
            SegSpec::Str if i % 2 == 0 => format!("{{c{i}}}"),
            SegSpec::Str => format!("{{c{i}:str}}"),
            SegSpec::Path => format!("{{c{i}:path}}"),
        })
        .collect();
    format!("/{}", segments.join("/"))
}

fn request_path(request: &Request, bits: u64) -> String {
    let pieces = match request {
        Request::Raw(raw) => return raw.clone(),
        Request::Pieces(pieces) => pieces,
    };
    let mut n = 0u32;
    let mut encode_char = |_| {
        n += 1;
        bits.rotate_left(n) & 1 == 1
    };
    let pieces: Vec<String> = pieces
        .iter()
        .take(8)
        .map(|piece| match piece {
            Piece::Lit(i) => encode(LITERALS[*i as usize % LITERALS.len()], &mut encode_char),
            Piece::Int(i) => i.to_string(),
            Piece::Float(f) if bits & 1 == 0 => f.to_string(),
            Piece::Float(f) => format!("{f:e}"),
            Piece::Text(text) => encode(text, &mut encode_char),
            Piece::Raw(raw) => raw.clone(),
        })
        .collect();
    format!("/{}", pieces.join("/"))
}

fn check(router: &HttpRouter, method: &Method, path: &str) -> bool {
    match router.resolve(method, path) {
        Resolution::Found { route, matches } => {
            assert!(
                route.method() == method
                    || (method == Method::HEAD && route.method() == Method::GET),
                "{method} {path:?} found a {} route",
                route.method()
            );
            check_found(path, route, &matches);
            true
        }
        _ => false,
    }
}

fuzz_target!(|input: Input| {
    let mut router = HttpRouter::new();
    let mut accepted = Vec::new();
    for spec in input.routes.iter().take(8) {
        let pattern = pattern_of(spec);
        // Refusals (malformed, unreachable, conflicting) are expected; they must not panic.
        if router.try_add([method(spec.post)], &pattern, noop).is_ok() {
            accepted.push((pattern, spec.post));
        }
    }

    let path = request_path(&input.request, input.bits);
    check(&router, &method(input.post), &path);
    check(&router, &Method::HEAD, &path);

    for (i, (pattern, post)) in accepted.iter().enumerate() {
        let pick = input.bits.wrapping_add(i as u64);
        let path = example_path(pattern, pick, |c| (c as u64).wrapping_add(pick) & 3 == 0);
        assert!(
            check(&router, &method(*post), &path),
            "{path:?}, built from the accepted {pattern:?}, is not found"
        );
        // Another method on the same path: the route is still there, so never 404.
        assert!(
            !matches!(
                router.resolve(&method(!*post), &path),
                Resolution::NotFound | Resolution::BadPath(_)
            ),
            "{path:?}, built from the accepted {pattern:?}, is 404 for the other method"
        );
    }
});
