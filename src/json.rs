//! [`Json`]: a response whose body is a value serialized as JSON (feature `json`, on by
//! default).
//!
//! `Json(value)` is a `200` with `content-type: application/json`, and it takes the place of
//! the body in the tuple forms, so a status and headers go with it:
//!
//! ```
//! use bareasgi::http::StatusCode;
//! use bareasgi::{HttpError, HttpRequest, IntoResponse, Json};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Todo {
//!     id: u64,
//!     title: String,
//! }
//!
//! async fn show(req: HttpRequest) -> Result<Json<Todo>, HttpError> {
//!     let id: u64 = req.matches.parse("id")?;
//!     Ok(Json(Todo { id, title: "write the docs".into() }))
//! }
//!
//! async fn create(mut req: HttpRequest) -> Result<impl IntoResponse, HttpError> {
//!     let todo: Todo = req.json().await?;
//!     let location = format!("/todos/{}", todo.id);
//!     Ok((StatusCode::CREATED, [("location", location)], Json(todo)))
//! }
//! ```
//!
//! A value that cannot be serialized (a map with non-string keys, a `Serialize` impl that
//! fails) is a `500` whose cause is logged; the client learns nothing of it.

use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

use crate::body::Body;
use crate::response::{
    HttpResponse, IntoHeaders, IntoResponse, IntoStatus, checked_headers, checked_status,
};

/// A JSON response body: `Json(value)`, `(201, Json(value))`,
/// `(201, [("location", url)], Json(value))`.
///
/// The tuple forms add `content-type: application/json` unless their headers name another
/// content type (`application/problem+json`, say).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

impl<T: Serialize> Json<T> {
    /// The serialized body, or `None` once the failure is logged (the caller answers 500).
    fn into_body(self) -> Option<Body> {
        // Most JSON responses are small; this saves the first few regrowths.
        let mut bytes = Vec::with_capacity(128);
        match serde_json::to_writer(&mut bytes, &self.0) {
            Ok(()) => Some(Body::from(bytes)),
            Err(error) => {
                tracing::error!(%error, type_name = std::any::type_name::<T>(), "cannot serialize the JSON response; answering 500");
                None
            }
        }
    }
}

/// Makes `response` JSON unless it already says what it is.
fn with_json_type(mut response: HttpResponse) -> HttpResponse {
    response
        .headers
        .entry(CONTENT_TYPE)
        .or_insert(APPLICATION_JSON);
    response
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> HttpResponse {
        match self.into_body() {
            Some(body) => with_json_type(body.into_response()),
            None => HttpResponse::internal_server_error(),
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
impl<S: IntoStatus, T: Serialize> IntoResponse for (S, Json<T>) {
    fn into_response(self) -> HttpResponse {
        match self.1.into_body() {
            Some(body) => with_json_type((self.0, body).into_response()),
            None => HttpResponse::internal_server_error(),
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
impl<S: IntoStatus, H: IntoHeaders, T: Serialize> IntoResponse for (S, H, Json<T>) {
    fn into_response(self) -> HttpResponse {
        let (Some(status), Some(headers)) = (checked_status(self.0), checked_headers(self.1))
        else {
            return HttpResponse::internal_server_error();
        };
        match self.2.into_body() {
            Some(body) => with_json_type(HttpResponse {
                status,
                headers,
                body,
            }),
            None => HttpResponse::internal_server_error(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use http::StatusCode;

    use super::*;

    #[test]
    fn json_is_a_200_with_its_content_type() {
        let response = Json(vec![1, 2]).into_response();
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.headers[CONTENT_TYPE], "application/json");
        assert_eq!(response.body.exact_len(), Some(5));
    }

    #[test]
    fn json_composes_with_a_status_and_headers() {
        let created = (201, Json("x")).into_response();
        assert_eq!(created.status, StatusCode::CREATED);
        assert_eq!(created.headers[CONTENT_TYPE], "application/json");
        let located = (
            StatusCode::CREATED,
            [("location", "/todos/1".to_owned())],
            Json(1),
        )
            .into_response();
        assert_eq!(located.headers["location"], "/todos/1");
        assert_eq!(located.headers[CONTENT_TYPE], "application/json");
        let problem = (
            422,
            [("content-type", "application/problem+json")],
            Json("bad"),
        )
            .into_response();
        assert_eq!(problem.headers[CONTENT_TYPE], "application/problem+json");
    }

    #[test]
    fn a_value_that_cannot_be_serialized_is_a_500() {
        // JSON object keys must be strings.
        let map = BTreeMap::from([((1, 2), "pair key")]);
        let response = (201, Json(map)).into_response();
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_ne!(response.headers[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn a_bad_header_beside_json_is_still_a_plain_500() {
        let response = (200, [("bad name", "v")], Json(1)).into_response();
        assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_ne!(response.headers[CONTENT_TYPE], "application/json");
    }
}
