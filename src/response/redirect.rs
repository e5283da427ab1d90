//! [`Redirect`]: a response sending the client elsewhere.

use http::StatusCode;
use http::header::{HeaderValue, LOCATION};

use super::{HttpResponse, IntoResponse};

/// A redirect: a status and a `location` header, with an empty body.
///
/// | constructor | status | the client's next request |
/// |---|---|---|
/// | [`to`](Self::to) | `307 Temporary Redirect` | the same method and body, this time only |
/// | [`permanent`](Self::permanent) | `308 Permanent Redirect` | the same method and body, from now on |
/// | [`see_other`](Self::see_other) | `303 See Other` | a `GET`: the answer to a form's `POST` |
///
/// (axum's `Redirect::to` is a `303`; here `to` keeps the method, as Starlette's and
/// bareASGI's default redirect does, and `see_other` says `303` by name.)
///
/// ```
/// use bareasgi::{HttpRequest, Redirect};
///
/// async fn old_home(_req: HttpRequest) -> Redirect {
///     Redirect::permanent("/home")
/// }
///
/// async fn submit_form(_req: HttpRequest) -> Redirect {
///     // After a POST, send the browser to a page it may reload safely.
///     Redirect::see_other("/thanks")
/// }
/// ```
///
/// A target that is not valid header text (a line break, say, from a `?next=` parameter)
/// answers `500` and logs why, instead of sending it; check targets taken from requests
/// against your own origin before redirecting to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    status: StatusCode,
    location: Result<HeaderValue, String>,
}

impl Redirect {
    /// `307 Temporary Redirect` to `uri`: the client repeats the request, method and body
    /// included, at `uri`.
    #[must_use]
    pub fn to(uri: &str) -> Self {
        Self::with_status(StatusCode::TEMPORARY_REDIRECT, uri)
    }

    /// `308 Permanent Redirect` to `uri`: as [`to`](Self::to), and clients and caches may
    /// remember it.
    #[must_use]
    pub fn permanent(uri: &str) -> Self {
        Self::with_status(StatusCode::PERMANENT_REDIRECT, uri)
    }

    /// `303 See Other` to `uri`: the client fetches `uri` with `GET` (the usual answer to a
    /// form submitted with `POST`, such as a login).
    #[must_use]
    pub fn see_other(uri: &str) -> Self {
        Self::with_status(StatusCode::SEE_OTHER, uri)
    }

    fn with_status(status: StatusCode, uri: &str) -> Self {
        Self {
            status,
            location: HeaderValue::from_str(uri).map_err(|_| uri.to_owned()),
        }
    }

    /// The status this redirect answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The target, when it is valid header text.
    #[must_use]
    pub fn location(&self) -> Option<&str> {
        self.location.as_ref().ok()?.to_str().ok()
    }
}

impl IntoResponse for Redirect {
    fn into_response(self) -> HttpResponse {
        match self.location {
            Ok(location) => {
                let mut response = HttpResponse::with_status(self.status);
                response.headers.insert(LOCATION, location);
                response
            }
            Err(target) => {
                tracing::error!(
                    ?target,
                    "redirect target is not valid header text; answering 500"
                );
                HttpResponse::internal_server_error()
            }
        }
    }
}
