//! [`Html`]: a response of HTML text.

use http::header::{CONTENT_TYPE, HeaderValue};

use super::{HttpResponse, IntoHeaders, IntoResponse, IntoStatus, checked_headers, checked_status};
use crate::body::Body;

const TEXT_HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

/// HTML: `200` with `content-type: text/html; charset=utf-8` and the text as the body.
/// `(status, Html(..))` answers with another status, and `(status, headers, Html(..))`
/// adds headers (a `content-type` among them wins).
///
/// ```
/// use bareasgi::{Html, HttpRequest, IntoResponse};
///
/// async fn index(_req: HttpRequest) -> Html<&'static str> {
///     Html("<h1>Hello</h1>")
/// }
///
/// async fn missing(req: HttpRequest) -> impl IntoResponse {
///     (404, Html(format!("<p>nothing at {}</p>", req.path())))
/// }
/// ```
///
/// The text is sent as it is: escape what came from users before putting it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Html<T>(pub T);

impl<T: Into<Body>> IntoResponse for Html<T> {
    fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse {
            body: self.0.into(),
            ..HttpResponse::default()
        };
        response.headers.insert(CONTENT_TYPE, TEXT_HTML);
        response
    }
}

impl<S: IntoStatus, T: Into<Body>> IntoResponse for (S, Html<T>) {
    fn into_response(self) -> HttpResponse {
        match checked_status(self.0) {
            Some(status) => HttpResponse {
                status,
                ..self.1.into_response()
            },
            None => HttpResponse::internal_server_error(),
        }
    }
}

impl<S: IntoStatus, H: IntoHeaders, T: Into<Body>> IntoResponse for (S, H, Html<T>) {
    fn into_response(self) -> HttpResponse {
        let (Some(status), Some(mut headers)) = (checked_status(self.0), checked_headers(self.1))
        else {
            return HttpResponse::internal_server_error();
        };
        headers.entry(CONTENT_TYPE).or_insert(TEXT_HTML);
        HttpResponse {
            status,
            headers,
            body: self.2.0.into(),
        }
    }
}
