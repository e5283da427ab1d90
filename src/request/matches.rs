//! [`Matches`]: the values a route's pattern captured, and [`MatchError`].

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use http::StatusCode;
use smallvec::SmallVec;

use crate::response::{HttpResponse, IntoResponse};

/// The values a route's pattern captured, by name, percent-decoded.
///
/// ```
/// # use bareasgi::HttpRequest;
/// async fn user(req: HttpRequest) -> String {
///     // `{id:int}` was checked by the router, so this parse cannot fail.
///     let id: i64 = req.matches.parse("id").unwrap();
///     let tab = req.matches.get("tab").unwrap_or("profile");
///     format!("user {id}, tab {tab}")
/// }
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Matches {
    /// The pattern's capture names; `None` when it has none (no allocation).
    names: Option<Arc<[Arc<str>]>>,
    /// The values one after another, so a request's captures cost one allocation;
    /// value `i` ends at `ends[i]`.
    text: String,
    ends: SmallVec<[u32; 4]>,
}

impl Matches {
    /// Matches from a route's capture `names` and its `values`, in the same order.
    pub(crate) fn new<'v>(names: &Arc<[Arc<str>]>, values: &[Cow<'v, str>]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut text = String::with_capacity(values.iter().map(|value| value.len()).sum());
        let mut ends = SmallVec::new();
        for value in values {
            text.push_str(value);
            // A path, and so the text, is far shorter than 4 GiB (the header size limit).
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Self {
            names: Some(names.clone()),
            text,
            ends,
        }
    }

    fn value(&self, index: usize) -> &str {
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        &self.text[start..self.ends[index] as usize]
    }

    /// The captured text for `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        let index = self.names.as_ref()?.iter().position(|key| &**key == name)?;
        Some(self.value(index))
    }

    /// The capture for `name` parsed as `T` (for `{id:int}` use `i64`; for `{x:float}`,
    /// `f64`).
    ///
    /// # Errors
    /// [`MatchError::Missing`] when the pattern has no such capture; [`MatchError::Parse`]
    /// when the text does not parse as `T`.
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, MatchError> {
        let text = self
            .get(name)
            .ok_or_else(|| MatchError::Missing(name.to_owned()))?;
        text.parse().map_err(|_| MatchError::Parse {
            name: name.to_owned(),
            value: text.to_owned(),
            target: std::any::type_name::<T>(),
        })
    }

    /// The `(name, value)` pairs in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let names = self.names.as_deref().unwrap_or_default();
        names
            .iter()
            .enumerate()
            .map(|(index, name)| (&**name, self.value(index)))
    }

    /// How many values were captured.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether nothing was captured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl fmt::Debug for Matches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// A capture that is missing or does not parse as the type asked for. As a response it is a
/// `400 Bad Request` (a typed pattern would have answered `404` instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchError {
    /// The route's pattern has no capture of that name.
    Missing(String),
    /// The captured text does not parse as the requested type.
    Parse {
        /// The capture's name.
        name: String,
        /// The captured text.
        value: String,
        /// The type asked for.
        target: &'static str,
    },
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(name) => write!(f, "the route has no capture named {name:?}"),
            Self::Parse {
                name,
                value,
                target,
            } => {
                write!(
                    f,
                    "path parameter {name:?} = {value:?} is not a valid {target}"
                )
            }
        }
    }
}

impl std::error::Error for MatchError {}

impl IntoResponse for MatchError {
    fn into_response(self) -> HttpResponse {
        HttpResponse::text(StatusCode::BAD_REQUEST, self.to_string())
    }
}

impl From<MatchError> for crate::HttpError {
    fn from(error: MatchError) -> Self {
        crate::HttpError::bad_request(error.to_string())
    }
}
