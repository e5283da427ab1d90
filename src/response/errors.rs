//! How the crate's errors, and any boxed error, answer a request.

use std::borrow::Cow;

use http::header::{CONTENT_TYPE, HeaderValue};

use super::{HttpResponse, IntoResponse, TEXT_PLAIN};
use crate::body::Body;
use crate::error::{BoxError, Error, HttpError};

impl IntoResponse for HttpError {
    fn into_response(self) -> HttpResponse {
        let (status, message, mut headers) = self.into_parts();
        headers
            .entry(CONTENT_TYPE)
            .or_insert(HeaderValue::from_static(TEXT_PLAIN));
        let body = match message {
            Cow::Borrowed(text) => Body::from(text),
            Cow::Owned(text) => Body::from(text),
        };
        HttpResponse {
            status,
            headers,
            body,
        }
    }
}

/// Any other error is a `500` whose body says nothing about it; the error itself is logged
/// (inside the request's span, which carries the method and path).
impl IntoResponse for BoxError {
    fn into_response(self) -> HttpResponse {
        tracing::error!(error = %self, "handler failed");
        HttpResponse::internal_server_error()
    }
}

impl IntoResponse for std::io::Error {
    fn into_response(self) -> HttpResponse {
        tracing::error!(error = %self, "handler failed with an I/O error");
        HttpResponse::internal_server_error()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> HttpResponse {
        tracing::error!(error = %self, "handler failed");
        HttpResponse::internal_server_error()
    }
}

impl IntoResponse for std::convert::Infallible {
    fn into_response(self) -> HttpResponse {
        match self {}
    }
}
