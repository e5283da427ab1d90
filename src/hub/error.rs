//! [`HubError`]: why a publish, a subscribe or a Redis hub's set-up failed, and the
//! response it makes.

use std::fmt;

use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER};

use crate::error::{BoxError, HttpError};
use crate::response::{HttpResponse, IntoResponse};

/// Why the hub could not do what was asked.
///
/// Returned from a handler it answers `503 Service Unavailable` with `retry-after: 1` when
/// the broker cannot be reached ([`is_unavailable`](Self::is_unavailable)), and `500`
/// otherwise; either way the cause is logged, not sent.
#[derive(Debug)]
pub struct HubError {
    kind: Kind,
    source: Option<BoxError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unavailable,
    Config,
    Backend,
}

impl HubError {
    /// The broker could not be reached, or did not answer in time.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn unavailable(source: impl Into<BoxError>) -> Self {
        Self {
            kind: Kind::Unavailable,
            source: Some(source.into()),
        }
    }

    /// The hub was set up with something it cannot use (a malformed Redis URL).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn config(source: impl Into<BoxError>) -> Self {
        Self {
            kind: Kind::Config,
            source: Some(source.into()),
        }
    }

    /// The broker answered with an error that retrying will not mend (the topic's key holds
    /// something other than a stream, a reply that cannot be read).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn backend(source: impl Into<BoxError>) -> Self {
        Self {
            kind: Kind::Backend,
            source: Some(source.into()),
        }
    }

    /// Whether the broker could not be reached or did not answer in time: the request may
    /// succeed if tried again later.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        self.kind == Kind::Unavailable
    }

    /// Whether the hub was set up with something it cannot use.
    #[must_use]
    pub fn is_config(&self) -> bool {
        self.kind == Kind::Config
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Kind::Unavailable => "the event hub's broker is unavailable",
            Kind::Config => "the event hub's configuration is invalid",
            Kind::Backend => "the event hub's broker failed",
        };
        match &self.source {
            Some(source) => write!(f, "{what}: {source}"),
            None => f.write_str(what),
        }
    }
}

impl std::error::Error for HubError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// So that `hub.publish(..).await?` and `hub.subscribe(..).await?` work in a handler
/// returning `Result<_, HttpError>`: unavailability stays a `503` with `retry-after: 1`,
/// anything else is a `500` whose body says nothing of the cause; the cause is logged.
impl From<HubError> for HttpError {
    fn from(error: HubError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(%error, "event hub unavailable: 503");
            HttpError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the event hub is unavailable; try again shortly\n",
            )
            .with_header(RETRY_AFTER, HeaderValue::from_static("1"))
        } else {
            tracing::error!(%error, "event hub failed: 500");
            HttpError::internal("Internal Server Error")
        }
    }
}

impl IntoResponse for HubError {
    fn into_response(self) -> HttpResponse {
        HttpError::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailability_is_a_503_with_retry_after() {
        let response = HubError::unavailable("connection refused").into_response();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers[RETRY_AFTER], "1");
        let failure = HubError::backend("WRONGTYPE").into_response();
        assert_eq!(failure.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn an_http_error_from_a_hub_error_keeps_the_status_and_retry_after() {
        let error = HttpError::from(HubError::unavailable("connection refused"));
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
        let response = error.into_response();
        assert_eq!(response.headers[RETRY_AFTER], "1");
        let failure = HttpError::from(HubError::backend("WRONGTYPE: secret detail"));
        assert_eq!(failure.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !failure.message().contains("secret"),
            "{}",
            failure.message()
        );
    }
}
