//! Any text as a pattern: `try_add` never panics, and a pattern it accepts matches a path
//! built from it (each capture replaced by a value of its type), with captures that
//! re-assemble the path.

#![no_main]

use bareasgi::{HttpRouter, Resolution};
use bareasgi_fuzz::{check_found, example_path, noop};
use http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u64)| {
    let (pattern, pick) = input;
    let mut router = HttpRouter::new();
    if router.try_add(["GET"], pattern, noop).is_err() {
        return;
    }
    // Once with only `%` encoded, once with everything encoded, once with a mix.
    let encodings: [&dyn Fn(char) -> bool; 3] =
        [&|_| false, &|_| true, &|c| (c as u64 ^ pick) & 1 == 1];
    for encode_char in encodings {
        let path = example_path(pattern, pick, encode_char);
        match router.resolve(&Method::GET, &path) {
            Resolution::Found { route, matches } => {
                assert_eq!(route.pattern(), pattern);
                check_found(&path, route, &matches);
            }
            other => panic!("accepted {pattern:?}, but {path:?} built from it gives {other:?}"),
        }
        assert!(
            matches!(router.resolve(&Method::HEAD, &path), Resolution::Found { route, .. } if route.method() == Method::GET),
            "HEAD {path:?} should use the GET route"
        );
        assert!(
            matches!(
                router.resolve(&Method::POST, &path),
                Resolution::MethodNotAllowed { .. }
            ),
            "POST {path:?} should be 405"
        );
    }
});
