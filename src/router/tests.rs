//! Unit tests of the router: precedence, decoding, conflicts and errors.

use super::*;
use crate::request::HttpRequest;

async fn noop(_req: HttpRequest) {}

fn router_of(routes: &[(&str, &str)]) -> HttpRouter {
    let mut router = HttpRouter::new();
    for (method, pattern) in routes {
        router.add([*method], pattern, noop);
    }
    router
}

fn found(router: &HttpRouter, method: &str, path: &str) -> Option<(String, Vec<(String, String)>)> {
    match router.resolve(&Method::from_bytes(method.as_bytes()).unwrap(), path) {
        Resolution::Found { route, matches } => Some((
            route.pattern().to_owned(),
            matches
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )),
        _ => None,
    }
}

fn pattern_for(router: &HttpRouter, path: &str) -> Option<String> {
    found(router, "GET", path).map(|(pattern, _)| pattern)
}

#[test]
fn static_beats_typed_beats_str_beats_path_whatever_the_order_of_add() {
    let patterns = [
        "/x/{rest:path}",
        "/x/{name}",
        "/x/{f:float}",
        "/x/{n:int}",
        "/x/me",
    ];
    for order in [patterns.to_vec(), patterns.iter().rev().copied().collect()] {
        let routes: Vec<_> = order.iter().map(|p| ("GET", *p)).collect();
        let router = router_of(&routes);
        assert_eq!(pattern_for(&router, "/x/me").as_deref(), Some("/x/me"));
        assert_eq!(pattern_for(&router, "/x/12").as_deref(), Some("/x/{n:int}"));
        assert_eq!(
            pattern_for(&router, "/x/1.5").as_deref(),
            Some("/x/{f:float}")
        );
        assert_eq!(pattern_for(&router, "/x/bob").as_deref(), Some("/x/{name}"));
        assert_eq!(
            pattern_for(&router, "/x/a/b").as_deref(),
            Some("/x/{rest:path}")
        );
        assert_eq!(
            pattern_for(&router, "/x/").as_deref(),
            Some("/x/{rest:path}")
        );
    }
}

#[test]
fn a_dead_end_in_the_preferred_branch_falls_back_to_the_next() {
    let router = router_of(&[("GET", "/users/me/settings"), ("GET", "/users/{id}/posts")]);
    let (pattern, captures) = found(&router, "GET", "/users/me/posts").unwrap();
    assert_eq!(pattern, "/users/{id}/posts");
    assert_eq!(captures, [("id".to_owned(), "me".to_owned())]);
}

#[test]
fn path_capture_takes_the_rest_including_empty() {
    let router = router_of(&[("GET", "/ui/{rest:path}")]);
    assert_eq!(
        found(&router, "GET", "/ui/").unwrap().1,
        [("rest".into(), "".into())]
    );
    assert_eq!(
        found(&router, "GET", "/ui/a/b/c.js").unwrap().1,
        [("rest".into(), "a/b/c.js".into())]
    );
    assert!(found(&router, "GET", "/ui").is_none());
}

#[test]
fn trailing_slash_is_significant() {
    let router = router_of(&[("GET", "/users"), ("GET", "/items/")]);
    assert!(pattern_for(&router, "/users").is_some());
    assert!(pattern_for(&router, "/users/").is_none());
    assert!(pattern_for(&router, "/items/").is_some());
    assert!(pattern_for(&router, "/items").is_none());
    assert_eq!(
        pattern_for(&router_of(&[("GET", "/")]), "/").as_deref(),
        Some("/")
    );
}

#[test]
fn captures_are_percent_decoded_and_literals_match_decoded_segments() {
    let router = router_of(&[("GET", "/users/{name}"), ("GET", "/caf\u{e9}")]);
    assert_eq!(
        found(&router, "GET", "/users/J%C3%BCrgen%20X").unwrap().1,
        [("name".into(), "Jürgen X".into())]
    );
    assert_eq!(
        pattern_for(&router, "/caf%C3%A9").as_deref(),
        Some("/caf\u{e9}")
    );
}

#[test]
fn unsafe_paths_are_bad_requests() {
    let router = router_of(&[("GET", "/files/{rest:path}"), ("GET", "/u/{name}")]);
    for path in [
        "/u/a%2Fb",
        "/files/../etc/passwd",
        "/files/%2e%2e/x",
        "/u/%FF",
        "/u/a%00",
        "/files/./x",
        "/u/%zz",
        "/u/a%2",
        "/u/%",
    ] {
        assert!(
            matches!(router.resolve(&Method::GET, path), Resolution::BadPath(_)),
            "{path}"
        );
    }
    assert!(matches!(
        router.resolve(&Method::GET, "/files/a.b/.c"),
        Resolution::Found { .. }
    ));
}

#[test]
fn wrong_method_is_405_with_allow_and_head_uses_get() {
    let mut router = HttpRouter::new();
    router.add(["GET", "POST"], "/things", noop);
    match router.resolve(&Method::DELETE, "/things") {
        Resolution::MethodNotAllowed { allow } => assert_eq!(allow, "GET, POST, HEAD, OPTIONS"),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(router.resolve(&Method::HEAD, "/things"), Resolution::Found { route, .. } if route.method() == Method::GET)
    );
    assert!(matches!(
        router.resolve(&Method::GET, "/other"),
        Resolution::NotFound
    ));
}

#[test]
fn the_same_shape_twice_is_refused_naming_both_patterns() {
    let mut router = HttpRouter::new();
    router.add(["GET"], "/users/{id}", noop);
    let error = router
        .try_add(["POST", "GET"], "/users/{name:str}", noop)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "route GET \"/users/{name:str}\" conflicts with GET \"/users/{id}\", added before: both match exactly the same paths"
    );
    // Nothing of the refused route was registered, not even its POST.
    assert!(matches!(
        router.resolve(&Method::POST, "/users/1"),
        Resolution::MethodNotAllowed { .. }
    ));
    // Another method on the same shape is fine, and so is a different capture type.
    router.add(["POST"], "/users/{name:str}", noop);
    router.add(["GET"], "/users/{id:int}", noop);
    assert!(router.try_add(["GET"], "/users/{x:int}", noop).is_err());
    assert!(router.try_add(["GET"], "/a/{p:path}", noop).is_ok());
    assert!(router.try_add(["GET"], "/a/{q:path}", noop).is_err());
}

#[test]
fn bad_methods_are_refused() {
    let mut router = HttpRouter::new();
    assert!(
        router
            .try_add(["GE T"], "/", noop)
            .unwrap_err()
            .to_string()
            .contains("not a valid HTTP method")
    );
    assert!(
        router
            .try_add(["get"], "/", noop)
            .unwrap_err()
            .to_string()
            .contains("did you mean \"GET\"")
    );
    assert!(
        router
            .try_add(Vec::<&str>::new(), "/", noop)
            .unwrap_err()
            .to_string()
            .contains("no methods")
    );
    assert!(router.try_add(["PURGE"], "/", noop).is_ok());
    assert!(router.try_add([Method::GET], "/", noop).is_ok());
}

#[test]
#[should_panic(expected = "unclosed '{'")]
fn add_panics_with_the_problem() {
    HttpRouter::new().add(["GET"], "/users/{id", noop);
}
