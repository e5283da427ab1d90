//! Misuse of the routing API is reported at registration, naming the pattern and the problem.

use bareasgi::{Application, HttpRequest, RouteError};
use http::Method;

async fn handler(_req: HttpRequest) -> &'static str {
    "x"
}

fn refusal(methods: &[&str], pattern: &str) -> String {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/taken/{id}", handler);
    let error = app
        .http_router
        .try_add(methods, pattern, handler)
        .unwrap_err();
    error.to_string()
}

#[test]
fn every_malformed_pattern_is_refused_with_a_message_naming_it() {
    let cases = [
        (
            "users",
            "invalid route pattern \"users\": a pattern must start with '/'",
        ),
        (
            "/users/{id",
            "invalid route pattern \"/users/{id\": unclosed '{' in segment '{id'",
        ),
        (
            "/users/{id:uuid}",
            "invalid route pattern \"/users/{id:uuid}\": unknown capture type 'uuid' in '{id:uuid}' (expected str, int, float or path)",
        ),
        (
            "/files/{rest:path}/edit",
            "invalid route pattern \"/files/{rest:path}/edit\": '{rest:path}' must be the last segment",
        ),
        (
            "/users/{}",
            "invalid route pattern \"/users/{}\": empty capture name in '{}'",
        ),
        (
            "/users/{:int}",
            "invalid route pattern \"/users/{:int}\": empty capture name in '{:int}'",
        ),
        (
            "/a/{id}/b/{id:int}",
            "invalid route pattern \"/a/{id}/b/{id:int}\": capture name 'id' is used twice",
        ),
        (
            "/file.{ext}",
            "invalid route pattern \"/file.{ext}\": segment 'file.{ext}' mixes text and a capture; a capture must be a whole segment",
        ),
        (
            "/a//b",
            "invalid route pattern \"/a//b\": empty segment ('//')",
        ),
    ];
    for (pattern, message) in cases {
        assert_eq!(refusal(&["GET"], pattern), message);
    }
}

#[test]
fn a_route_matching_the_same_paths_with_the_same_method_is_refused_naming_both() {
    assert_eq!(
        refusal(&["POST", "GET"], "/taken/{name:str}"),
        "route GET \"/taken/{name:str}\" conflicts with GET \"/taken/{id}\", added before: both match exactly the same paths"
    );
    let mut app = Application::new();
    app.http_router.add(["GET"], "/taken/{id}", handler);
    let error = app
        .http_router
        .try_add(["GET"], "/taken/{other}", handler)
        .unwrap_err();
    match error {
        RouteError::Conflict {
            method,
            pattern,
            existing,
        } => {
            assert_eq!(
                (method, pattern.as_str(), existing.as_str()),
                (Method::GET, "/taken/{other}", "/taken/{id}")
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn routes_that_differ_in_method_or_capture_type_are_both_accepted() {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/items/{id}", handler);
    app.http_router.add(["POST"], "/items/{name}", handler);
    app.http_router.add(["GET"], "/items/{id:int}", handler);
    app.http_router.add(["GET"], "/items/{id:float}", handler);
    app.http_router.add(["GET"], "/items/{rest:path}", handler);
    app.http_router.add(["GET"], "/items/new", handler);
    assert_eq!(app.http_router.len(), 6);
}

#[test]
fn invalid_methods_are_refused() {
    assert_eq!(
        refusal(&["GE T"], "/x"),
        "invalid method \"GE T\": not a valid HTTP method token"
    );
    assert_eq!(
        refusal(&["get"], "/x"),
        "invalid method \"get\": methods are case-sensitive; did you mean \"GET\"?"
    );
    assert_eq!(refusal(&[], "/x"), "route \"/x\" was given no methods");
    let mut app = Application::new();
    app.http_router.add(["PURGE"], "/cache", handler);
    app.http_router
        .add([Method::GET, Method::HEAD], "/cache", handler);
    app.http_router
        .add(vec!["DELETE".to_owned()], "/cache", handler);
    assert_eq!(app.http_router.len(), 4);
}

#[test]
#[should_panic(expected = "invalid route pattern \"/users/{id\": unclosed '{'")]
fn add_panics_with_the_same_message() {
    Application::new()
        .http_router
        .add(["GET"], "/users/{id", handler);
}
