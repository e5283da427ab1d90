//! Query strings and HTML forms into your own types: [`HttpRequest::query_as`] (feature
//! `query`) and [`HttpRequest::form`] (feature `form`), both on by default.
//!
//! Both read the `application/x-www-form-urlencoded` format with
//! [serde_html_form](https://docs.rs/serde_html_form): `Option` fields may be absent (or
//! empty: `?limit=` is `None`), a repeated key fills a `Vec`, and unknown keys are ignored
//! unless the type says `#[serde(deny_unknown_fields)]`.
//!
//! ```
//! use bareasgi::{HttpError, HttpRequest};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Filter {
//!     done: Option<bool>,
//!     limit: Option<usize>,
//!     #[serde(default)]
//!     tag: Vec<String>, // ?tag=home&tag=work
//! }
//!
//! async fn list(req: HttpRequest) -> Result<String, HttpError> {
//!     // `?limit=ten` is a 400: "invalid query string: limit: invalid digit found in string"
//!     let filter: Filter = req.query_as()?;
//!     Ok(format!("{:?} {:?} {:?}", filter.done, filter.limit, filter.tag))
//! }
//!
//! #[derive(Deserialize)]
//! struct SignUp {
//!     name: String,
//!     age: u8,
//! }
//!
//! async fn sign_up(mut req: HttpRequest) -> Result<String, HttpError> {
//!     // 415 for another content type or none, 413 over the body limit, 400 naming the field.
//!     let form: SignUp = req.form().await?;
//!     Ok(format!("{} is {}", form.name, form.age))
//! }
//! ```

use std::fmt;

use http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::HttpError;
#[cfg(feature = "form")]
use crate::request::BodyError;
#[cfg(feature = "form")]
use crate::request::media_type;
use crate::request::{HttpRequest, naming_the_field};
use crate::response::{HttpResponse, IntoResponse};

/// Deserializes urlencoded `input`, naming the field that failed in the error.
fn deserialize<T: DeserializeOwned>(input: &[u8]) -> Result<T, String> {
    let deserializer = serde_html_form::Deserializer::from_bytes(input);
    serde_path_to_error::deserialize(deserializer).map_err(naming_the_field)
}

impl HttpRequest {
    /// The query string deserialized into `T`; no query string reads as an empty one, so a
    /// type whose fields are all `Option` or `#[serde(default)]` always has a value.
    ///
    /// # Errors
    /// [`QueryError`] (a `400 Bad Request` naming the field and the problem) when the query
    /// does not fit `T`.
    #[cfg(feature = "query")]
    #[cfg_attr(docsrs, doc(cfg(feature = "query")))]
    pub fn query_as<T: DeserializeOwned>(&self) -> Result<T, QueryError> {
        query_as(self.query())
    }

    /// Reads an `application/x-www-form-urlencoded` body (an HTML form's `POST`) into `T`,
    /// within the [body limit](Self::body_limit).
    ///
    /// # Errors
    /// [`FormError::UnsupportedMediaType`] (`415`) when the `content-type` is missing or is
    /// not `application/x-www-form-urlencoded` (as axum's `Form` does for a body); [`FormError::Body`] when the body is
    /// over the limit (`413`) or broken (`400`); [`FormError::Invalid`] (`400`, naming the
    /// field and the problem) when the form does not fit `T`.
    #[cfg(feature = "form")]
    #[cfg_attr(docsrs, doc(cfg(feature = "form")))]
    pub async fn form<T: DeserializeOwned>(&mut self) -> Result<T, FormError> {
        let essence = media_type(self.headers()).unwrap_or("");
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            tracing::debug!(content_type = essence, "refused a form body: 415");
            return Err(FormError::UnsupportedMediaType);
        }
        let body = self.bytes().await.map_err(FormError::Body)?;
        deserialize(&body).map_err(|problem| {
            tracing::debug!(%problem, "refused the form");
            FormError::Invalid(problem)
        })
    }
}

#[cfg(feature = "query")]
pub(crate) fn query_as<T: DeserializeOwned>(query: Option<&str>) -> Result<T, QueryError> {
    deserialize(query.unwrap_or("").as_bytes()).map_err(|problem| {
        tracing::debug!(%problem, "refused the query string");
        QueryError { problem }
    })
}

/// A query string that does not fit the type asked for: a `400 Bad Request` whose text
/// names the field and the problem (`invalid query string: limit: invalid digit found in
/// string`).
#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    problem: String,
}

#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
impl QueryError {
    /// What is wrong, with the field's name: `limit: invalid digit found in string`,
    /// ``missing field `done` ``.
    #[must_use]
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid query string: {}", self.problem)
    }
}

#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
impl std::error::Error for QueryError {}

#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
impl IntoResponse for QueryError {
    fn into_response(self) -> HttpResponse {
        HttpResponse::text(StatusCode::BAD_REQUEST, self.to_string())
    }
}

#[cfg(feature = "query")]
#[cfg_attr(docsrs, doc(cfg(feature = "query")))]
impl From<QueryError> for HttpError {
    fn from(error: QueryError) -> Self {
        HttpError::bad_request(error.to_string())
    }
}

/// Why [`HttpRequest::form`] failed. It is a response with the right status, so `?` in a
/// handler returning `Result<_, FormError>` or `Result<_, HttpError>` answers correctly.
#[cfg(feature = "form")]
#[cfg_attr(docsrs, doc(cfg(feature = "form")))]
#[derive(Debug)]
#[non_exhaustive]
pub enum FormError {
    /// The `content-type` is not `application/x-www-form-urlencoded`:
    /// `415 Unsupported Media Type`.
    UnsupportedMediaType,
    /// The body could not be read: over the limit (`413`) or broken (`400`).
    Body(BodyError),
    /// The form does not fit the type asked for: `400 Bad Request`; the text names the
    /// field and the problem.
    Invalid(String),
}

#[cfg(feature = "form")]
#[cfg_attr(docsrs, doc(cfg(feature = "form")))]
impl FormError {
    /// The status this error answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Body(error) => error.status(),
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg(feature = "form")]
#[cfg_attr(docsrs, doc(cfg(feature = "form")))]
impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedMediaType => {
                f.write_str("expected content-type application/x-www-form-urlencoded")
            }
            Self::Body(error) => error.fmt(f),
            Self::Invalid(problem) => write!(f, "invalid form: {problem}"),
        }
    }
}

#[cfg(feature = "form")]
#[cfg_attr(docsrs, doc(cfg(feature = "form")))]
impl std::error::Error for FormError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Body(error) => Some(error),
            _ => None,
        }
    }
}

#[cfg(feature = "form")]
#[cfg_attr(docsrs, doc(cfg(feature = "form")))]
impl IntoResponse for FormError {
    fn into_response(self) -> HttpResponse {
        match self {
            Self::Body(error) => error.into_response(),
            other => HttpResponse::text(other.status(), other.to_string()),
        }
    }
}

#[cfg(feature = "form")]
#[cfg_attr(docsrs, doc(cfg(feature = "form")))]
impl From<FormError> for HttpError {
    fn from(error: FormError) -> Self {
        HttpError::new(error.status(), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Filter {
        done: Option<bool>,
        limit: Option<u32>,
        #[serde(default)]
        tag: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // read through Debug only
    struct Required {
        name: String,
        age: u8,
    }

    #[test]
    fn options_repeated_keys_and_decoding() {
        let filter: Filter = deserialize(b"done=true&limit=10&tag=a&tag=b%20c").unwrap();
        assert_eq!(
            filter,
            Filter {
                done: Some(true),
                limit: Some(10),
                tag: vec!["a".into(), "b c".into()],
            }
        );
        let empty: Filter = deserialize(b"").unwrap();
        assert_eq!((empty.done, empty.limit, empty.tag.len()), (None, None, 0));
        let blank: Filter = deserialize(b"limit=&other=1").unwrap();
        assert_eq!(
            blank.limit, None,
            "an empty value is None, unknown keys are ignored"
        );
    }

    #[test]
    fn errors_name_the_field_and_the_problem() {
        let error = deserialize::<Filter>(b"limit=ten").unwrap_err();
        assert_eq!(error, "limit: invalid digit found in string");
        let error = deserialize::<Filter>(b"done=maybe").unwrap_err();
        assert!(error.starts_with("done: "), "{error}");
        let error = deserialize::<Required>(b"name=ann").unwrap_err();
        assert_eq!(error, "missing field `age`");
        let error = deserialize::<Required>(b"name=ann&age=300").unwrap_err();
        assert_eq!(error, "age: number too large to fit in target type");
    }
}
