//! Property tests of the router (the fuzz targets in `fuzz/` check the same with libFuzzer):
//! patterns come from a grammar (literal segments, some non-ASCII, and every capture kind),
//! paths are built to match them, percent-encoded at random, or are arbitrary text. A naive
//! model — try every pattern, keep the one whose segment kinds rank lowest, literal < int <
//! float < str < path — says what `resolve` must answer.

use std::collections::HashSet;

use bareasgi::router::Route;
use bareasgi::{HttpRequest, HttpRouter, Matches, Resolution};
use http::Method;
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use proptest::sample::select;

async fn noop(_req: HttpRequest) {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Int,
    Float,
    Str,
    Path,
}

/// A generated pattern segment; captures are named when the pattern is rendered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Seg {
    Lit(String),
    Cap(Kind),
}

fn render(segs: &[Seg]) -> String {
    let pieces: Vec<String> = segs
        .iter()
        .enumerate()
        .map(|(i, seg)| match seg {
            Seg::Lit(text) => text.clone(),
            Seg::Cap(Kind::Int) => format!("{{c{i}:int}}"),
            Seg::Cap(Kind::Float) => format!("{{c{i}:float}}"),
            // Both spellings of a string capture.
            Seg::Cap(Kind::Str) if i % 2 == 0 => format!("{{c{i}}}"),
            Seg::Cap(Kind::Str) => format!("{{c{i}:str}}"),
            Seg::Cap(Kind::Path) => format!("{{c{i}:path}}"),
        })
        .collect();
    format!("/{}", pieces.join("/"))
}

/// A segment of a pattern the router accepted, read back from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parsed<'a> {
    Lit(&'a str),
    Cap(&'a str, Kind),
}

fn parse(pattern: &str) -> Vec<Parsed<'_>> {
    pattern[1..]
        .split('/')
        .map(
            |piece| match piece.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                None => Parsed::Lit(piece),
                Some(inner) => match inner.split_once(':') {
                    None => Parsed::Cap(inner, Kind::Str),
                    Some((name, "str")) => Parsed::Cap(name, Kind::Str),
                    Some((name, "int")) => Parsed::Cap(name, Kind::Int),
                    Some((name, "float")) => Parsed::Cap(name, Kind::Float),
                    Some((name, "path")) => Parsed::Cap(name, Kind::Path),
                    Some(_) => panic!("accepted {pattern:?} has an unknown capture type"),
                },
            },
        )
        .collect()
}

// ---- the model ----------------------------------------------------------------------------

fn accepts(kind: Kind, text: &str) -> bool {
    match kind {
        Kind::Int => {
            let digits = text.strip_prefix('-').unwrap_or(text);
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && text.parse::<i64>().is_ok()
        }
        Kind::Float => {
            text.bytes().any(|b| b.is_ascii_digit())
                && text
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b"-+.eE".contains(&b))
                && !text.starts_with('+')
                && text.parse::<f64>().is_ok_and(f64::is_finite)
        }
        Kind::Str => !text.is_empty(),
        Kind::Path => true,
    }
}

fn decode(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// Whether a `%` is not followed by two hex digits.
fn has_malformed_escape(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes.iter().enumerate().any(|(at, &byte)| {
        byte == b'%'
            && !(bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

fn is_bad_path(path: &str) -> bool {
    path.split('/').any(|raw| {
        let bytes: Vec<u8> = percent_decode_str(raw).collect();
        has_malformed_escape(raw)
            || bytes.contains(&b'/')
            || bytes.contains(&0)
            || std::str::from_utf8(&bytes).is_err()
            || bytes == b"."
            || bytes == b".."
    })
}

/// The captures of `pattern` on `path`, when it matches.
fn match_one(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let raw: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let mut captures = Vec::new();
    let segs = parse(pattern);
    for (i, seg) in segs.iter().enumerate() {
        let segment = decode(raw.get(i)?);
        match seg {
            Parsed::Lit(text) if segment == *text => {}
            Parsed::Lit(_) => return None,
            Parsed::Cap(name, Kind::Path) => {
                captures.push((name.to_string(), decode(&raw[i..].join("/"))));
                return Some(captures);
            }
            Parsed::Cap(name, kind) if accepts(*kind, &segment) => {
                captures.push((name.to_string(), segment));
            }
            Parsed::Cap(..) => return None,
        }
    }
    (raw.len() == segs.len()).then_some(captures)
}

fn rank(pattern: &str) -> Vec<u8> {
    parse(pattern)
        .iter()
        .map(|seg| match seg {
            Parsed::Lit(_) => 0,
            Parsed::Cap(_, Kind::Int) => 1,
            Parsed::Cap(_, Kind::Float) => 2,
            Parsed::Cap(_, Kind::Str) => 3,
            Parsed::Cap(_, Kind::Path) => 4,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Found(String, Vec<(String, String)>),
    MethodNotAllowed(Vec<String>),
    NotFound,
    BadPath,
}

/// What `resolve` must answer, from the routes (pattern, method) that were accepted.
fn model(routes: &[(String, Method)], method: &Method, path: &str) -> Outcome {
    if is_bad_path(path) {
        return Outcome::BadPath;
    }
    let matching: Vec<_> = routes
        .iter()
        .filter_map(|(pattern, m)| Some((pattern, m, match_one(pattern, path)?)))
        .collect();
    let best = matching
        .iter()
        .filter(|(_, m, _)| *m == method)
        .min_by_key(|(pattern, ..)| rank(pattern));
    if let Some((pattern, _, captures)) = best {
        return Outcome::Found(pattern.to_string(), captures.clone());
    }
    // 405 with the `Allow` of the first endpoint the search meets: the best-ranked shape.
    match matching.iter().min_by_key(|(pattern, ..)| rank(pattern)) {
        Some((first, ..)) => {
            let mut allow: Vec<String> = matching
                .iter()
                .filter(|(pattern, ..)| same_shape(pattern, first))
                .map(|(_, m, _)| m.to_string())
                .collect();
            allow.sort();
            Outcome::MethodNotAllowed(allow)
        }
        None => Outcome::NotFound,
    }
}

/// Whether two accepted patterns match exactly the same paths (capture names aside).
fn same_shape(a: &str, b: &str) -> bool {
    let strip = |p: &str| -> Vec<Option<String>> {
        parse(p)
            .into_iter()
            .map(|seg| match seg {
                Parsed::Lit(text) => Some(text.to_owned()),
                Parsed::Cap(..) => None,
            })
            .collect()
    };
    rank(a) == rank(b) && strip(a) == strip(b)
}

// ---- checking what the router answers ------------------------------------------------------

/// Every `Found` must satisfy this whatever the routes: the captures are the pattern's, in
/// order, each valid for its type, and putting them back into the pattern gives exactly the
/// percent-decoded path.
fn check_found(path: &str, route: &Route, matches: &Matches) {
    let mut pieces = Vec::new();
    let mut names = Vec::new();
    for seg in parse(route.pattern()) {
        match seg {
            Parsed::Lit(text) => pieces.push(text.to_owned()),
            Parsed::Cap(name, kind) => {
                let value = matches.get(name).expect("every capture is in matches");
                let valid = match kind {
                    Kind::Int => value.parse::<i64>().is_ok(),
                    Kind::Float => value.parse::<f64>().is_ok_and(f64::is_finite),
                    Kind::Str => !value.is_empty() && !value.contains('/'),
                    Kind::Path => true,
                };
                assert!(
                    valid,
                    "{path:?}: {name} = {value:?} is not a valid {kind:?}"
                );
                pieces.push(value.to_owned());
                names.push(name);
            }
        }
    }
    let captured: Vec<&str> = matches.iter().map(|(name, _)| name).collect();
    assert_eq!(captured, names, "{path:?}: the captures' names and order");
    let decoded = percent_decode_str(path)
        .decode_utf8()
        .expect("a found path decodes to UTF-8");
    assert_eq!(
        format!("/{}", pieces.join("/")),
        decoded,
        "{path:?} -> {:?}: the captures do not re-assemble the path",
        route.pattern()
    );
}

fn outcome(router: &HttpRouter, method: &Method, path: &str) -> Outcome {
    match router.resolve(method, path) {
        Resolution::Found { route, matches } => {
            assert_eq!(route.method(), method);
            check_found(path, route, &matches);
            let captures = matches
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            Outcome::Found(route.pattern().to_owned(), captures)
        }
        Resolution::MethodNotAllowed { allow } => {
            let mut methods: Vec<String> = allow
                .to_str()
                .unwrap()
                .split(", ")
                .filter(|m| *m != "HEAD" && *m != "OPTIONS")
                .map(str::to_owned)
                .collect();
            methods.sort();
            Outcome::MethodNotAllowed(methods)
        }
        Resolution::NotFound => Outcome::NotFound,
        Resolution::BadPath(_) => Outcome::BadPath,
    }
}

/// Adds the routes in order; returns those accepted (the refused ones are conflicts).
fn build(routes: &[(String, Method)]) -> (HttpRouter, Vec<(String, Method)>) {
    let mut router = HttpRouter::new();
    let accepted = routes
        .iter()
        .filter(|(pattern, method)| router.try_add([method], pattern, noop).is_ok())
        .cloned()
        .collect();
    (router, accepted)
}

// ---- strategies ------------------------------------------------------------------------------

/// Literal texts, often ones that collide with each other or look like numbers.
fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(&["a", "b", "users", "me", "1", "-2", "1.5", "1e3", "caf\u{e9}", "x.y", "~"][..])
            .prop_map(str::to_owned),
        1 => "[a-z0-9._~-]{1,6}",
        1 => "[a-z\u{e9}\u{fc}\u{df}\u{436}\u{4e2d}\u{6587}\u{1f600}]{1,4}",
    ]
    .prop_filter("'.' and '..' segments are refused", |text| {
        text != "." && text != ".."
    })
}

fn middle_segment() -> impl Strategy<Value = Seg> {
    prop_oneof![
        3 => literal().prop_map(Seg::Lit),
        1 => Just(Seg::Cap(Kind::Int)),
        1 => Just(Seg::Cap(Kind::Float)),
        1 => Just(Seg::Cap(Kind::Str)),
    ]
}

/// A valid pattern: up to four segments, then maybe a trailing `/` or a `path` capture.
fn pattern() -> impl Strategy<Value = Vec<Seg>> {
    end_pattern(prop::collection::vec(middle_segment(), 0..4))
}

/// Short patterns from few literals, so that the routes of one router overlap a lot and
/// precedence decides.
fn crowded_pattern() -> impl Strategy<Value = Vec<Seg>> {
    let segment = prop_oneof![
        2 => select(&["a", "1", "1.5", "me"][..]).prop_map(|text| Seg::Lit(text.to_owned())),
        1 => literal().prop_map(Seg::Lit),
        2 => Just(Seg::Cap(Kind::Int)),
        2 => Just(Seg::Cap(Kind::Float)),
        2 => Just(Seg::Cap(Kind::Str)),
    ];
    end_pattern(prop::collection::vec(segment, 0..3))
}

fn end_pattern(middle: impl Strategy<Value = Vec<Seg>>) -> impl Strategy<Value = Vec<Seg>> {
    (middle, 0..3u8).prop_map(|(mut segs, end)| {
        match end {
            1 => segs.push(Seg::Cap(Kind::Path)),
            _ if end == 2 || segs.is_empty() => segs.push(Seg::Lit(String::new())),
            _ => {}
        }
        segs
    })
}

fn method() -> impl Strategy<Value = Method> {
    select(vec![Method::GET, Method::POST])
}

fn str_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._~%?#+\u{e9}\u{4e2d}-]{1,8}",
        select(
            &[
                "a", "1", "-2", "1.5", "1e3", "me", "users", "inf", "NaN", "+1"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
    .prop_filter("'.' and '..' segments are refused", |text| {
        text != "." && text != ".."
    })
}

/// A decoded value that a capture of `kind` accepts.
fn value(kind: Kind) -> BoxedStrategy<String> {
    match kind {
        Kind::Int => prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            (-20i64..20).prop_map(|n| n.to_string()),
            Just("1".to_owned()),
        ]
        .boxed(),
        Kind::Float => prop_oneof![
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| f.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            (-99i32..99, 0u32..999).prop_map(|(a, b)| format!("{a}.{b}")),
            select(&[".5", "3.", "-0", "1E-3", "12"][..]).prop_map(str::to_owned),
        ]
        .boxed(),
        Kind::Str => str_value().boxed(),
        Kind::Path => prop::collection::vec(prop_oneof![Just(String::new()), str_value()], 0..4)
            .prop_map(|parts| parts.join("/"))
            .boxed(),
    }
}

/// The decoded text of each segment of a path that `segs` matches.
fn values(segs: &[Seg]) -> Vec<BoxedStrategy<String>> {
    segs.iter()
        .map(|seg| match seg {
            Seg::Lit(text) => Just(text.clone()).boxed(),
            Seg::Cap(kind) => value(*kind),
        })
        .collect()
}

/// The raw path for decoded segment texts: `%` is always encoded, every other character when
/// the next bit of `bits` says so (a `path` capture's `/`s stay raw: they are separators).
fn encode_path(decoded: &[String], bits: u64) -> String {
    let mut n = 0u32;
    let mut out = String::from("/");
    for (i, text) in decoded.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        for c in text.chars() {
            n += 1;
            if c != '/' && (c == '%' || bits.rotate_right(n) & 1 == 1) {
                let mut buf = [0; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    if bits.rotate_right(n) & 2 == 0 {
                        out.push_str(&format!("%{byte:02X}"));
                    } else {
                        out.push_str(&format!("%{byte:02x}"));
                    }
                }
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// A pattern, the decoded segment texts of a path it matches, and the encoding bits.
fn pattern_and_path() -> impl Strategy<Value = (Vec<Seg>, Vec<String>, u64)> {
    pattern().prop_flat_map(|segs| {
        let values = values(&segs);
        (Just(segs), values, any::<u64>())
    })
}

/// Raw request paths: any text, or `/`-separated pieces with escapes (valid or not).
fn any_path() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(/([a-z0-9.~\u{e9}-]|%[0-9A-Fa-f]{2}|%[2-3][0-9E]|%C3%A9|%|1|-2|1e3|users|me){0,4}){1,5}",
    ]
}

fn routes() -> impl Strategy<Value = Vec<(String, Method)>> {
    prop::collection::vec(
        (crowded_pattern(), method()).prop_map(|(segs, m)| (render(&segs), m)),
        1..8,
    )
}

// ---- the properties ----------------------------------------------------------------------------

proptest! {
    #[test]
    fn a_path_built_from_a_pattern_resolves_to_it_with_the_values_as_captures(
        (segs, decoded, bits) in pattern_and_path()
    ) {
        let pattern = render(&segs);
        let mut router = HttpRouter::new();
        router.add(["GET"], &pattern, noop);
        let path = encode_path(&decoded, bits);
        match router.resolve(&Method::GET, &path) {
            Resolution::Found { route, matches } => {
                prop_assert_eq!(route.pattern(), pattern.as_str());
                check_found(&path, route, &matches);
                let expected: Vec<(&str, &str)> = parse(&pattern)
                    .iter()
                    .zip(&decoded)
                    .filter_map(|(seg, value)| match seg {
                        Parsed::Cap(name, _) => Some((*name, value.as_str())),
                        Parsed::Lit(_) => None,
                    })
                    .collect();
                prop_assert_eq!(matches.iter().collect::<Vec<_>>(), expected);
            }
            other => prop_assert!(false, "{:?} from {:?} gave {:?}", path, pattern, other),
        }
    }

    #[test]
    fn among_many_routes_a_built_path_resolves_as_the_precedence_model_says(
        (routes, chosen, decoded, bits) in routes().prop_flat_map(|routes| {
            let len = routes.len();
            (Just(routes), 0..len)
        }).prop_flat_map(|(routes, chosen)| {
            let segs: Vec<Seg> = parse(&routes[chosen].0)
                .into_iter()
                .map(|seg| match seg {
                    Parsed::Lit(text) => Seg::Lit(text.to_owned()),
                    Parsed::Cap(_, kind) => Seg::Cap(kind),
                })
                .collect();
            (Just(routes), Just(chosen), values(&segs), any::<u64>())
        })
    ) {
        let (router, accepted) = build(&routes);
        let path = encode_path(&decoded, bits);
        let method = &routes[chosen].1;
        let got = outcome(&router, method, &path);
        prop_assert!(matches!(got, Outcome::Found(..)), "{:?} {:?}: {:?}", method, path, got);
        prop_assert_eq!(&got, &model(&accepted, method, &path));
        for other in [Method::GET, Method::POST, Method::PUT] {
            prop_assert_eq!(outcome(&router, &other, &path), model(&accepted, &other, &path));
        }
    }

    #[test]
    fn arbitrary_paths_never_panic_and_resolve_as_the_precedence_model_says(
        routes in routes(),
        path in any_path(),
        method in method(),
    ) {
        let (router, accepted) = build(&routes);
        prop_assert_eq!(outcome(&router, &method, &path), model(&accepted, &method, &path));
    }

    #[test]
    fn precedence_does_not_depend_on_insertion_order(
        (routes, shuffled, paths) in routes().prop_flat_map(|routes| {
            // Keep one route per shape and method, so that both orders accept the same ones.
            let mut seen = HashSet::new();
            let routes: Vec<_> = routes
                .into_iter()
                .filter(|(pattern, m)| {
                    let strip: Vec<_> = parse(pattern).into_iter().map(|seg| match seg {
                        Parsed::Lit(text) => Seg::Lit(text.to_owned()),
                        Parsed::Cap(_, kind) => Seg::Cap(kind),
                    }).collect();
                    seen.insert((strip, m.clone()))
                })
                .collect();
            let built: Vec<_> = routes
                .iter()
                .map(|(pattern, _)| {
                    let segs: Vec<Seg> = parse(pattern).into_iter().map(|seg| match seg {
                        Parsed::Lit(text) => Seg::Lit(text.to_owned()),
                        Parsed::Cap(_, kind) => Seg::Cap(kind),
                    }).collect();
                    (values(&segs), any::<u64>()).prop_map(|(decoded, bits)| encode_path(&decoded, bits)).boxed()
                })
                .chain([any_path().boxed()])
                .collect::<Vec<_>>();
            (Just(routes.clone()), Just(routes).prop_shuffle(), built)
        })
    ) {
        let (one, accepted_one) = build(&routes);
        let (other, accepted_other) = build(&shuffled);
        prop_assert_eq!(accepted_one.len(), routes.len());
        prop_assert_eq!(accepted_other.len(), routes.len());
        for path in &paths {
            for method in [Method::GET, Method::POST, Method::DELETE] {
                prop_assert_eq!(
                    outcome(&one, &method, path),
                    outcome(&other, &method, path),
                    "{} {:?}", method, path
                );
            }
        }
    }

    #[test]
    fn any_text_as_a_pattern_never_panics_and_an_accepted_one_matches_a_path_built_from_it(
        pattern in prop_oneof![
            any::<String>(),
            // Mostly well-formed, including segments no path can reach ('.', '..').
            "(/(\\{[a-z_]{1,2}(:(int|float|str|path))?\\}|[a-z%\u{e9}]{1,3}|\\.|\\.\\.|)){1,4}",
            // Mostly malformed.
            "(/(\\{[a-z_]{0,2}(:(int|float|str|path|uuid|))?\\}?|[a-z.%\u{e9}{}?# ]{0,3})){1,4}",
        ],
        bits in any::<u64>(),
    ) {
        let mut router = HttpRouter::new();
        if router.try_add(["GET"], &pattern, noop).is_err() {
            return Ok(());
        }
        let decoded: Vec<String> = parse(&pattern)
            .iter()
            .map(|seg| match seg {
                Parsed::Lit(text) => (*text).to_owned(),
                Parsed::Cap(_, Kind::Int) => "-12".into(),
                Parsed::Cap(_, Kind::Float) => "2.5e3".into(),
                Parsed::Cap(_, Kind::Str) => "v %".into(),
                Parsed::Cap(_, Kind::Path) => "a/\u{e9}/".into(),
            })
            .collect();
        let path = encode_path(&decoded, bits);
        let got = outcome(&router, &Method::GET, &path);
        prop_assert!(
            matches!(&got, Outcome::Found(found, _) if *found == pattern),
            "accepted {:?}, but {:?} built from it gave {:?}", pattern, path, got
        );
    }
}
