//! [`RouteError`]: why a route could not be added.

use std::fmt;

use http::Method;

use super::PatternError;

/// Why a route could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteError {
    /// The pattern is malformed.
    Pattern(PatternError),
    /// A method is not a valid HTTP method token.
    Method {
        /// The method as given.
        method: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The method list is empty.
    NoMethods {
        /// The pattern.
        pattern: String,
    },
    /// A route added earlier answers the same method on exactly the same paths.
    Conflict {
        /// The method both routes answer.
        method: Method,
        /// The pattern being added.
        pattern: String,
        /// The pattern added before.
        existing: String,
    },
    /// A mount and a route, or two mounts, would answer the same requests: a mount answers
    /// every method on its prefix and on every path under it.
    MountConflict {
        /// What is being added: `mount "/static"` or `GET "/static/{rest:path}"`.
        adding: String,
        /// What was added before, in the same form.
        existing: String,
    },
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pattern(error) => error.fmt(f),
            Self::Method { method, problem } => write!(f, "invalid method {method:?}: {problem}"),
            Self::NoMethods { pattern } => write!(f, "route {pattern:?} was given no methods"),
            Self::Conflict {
                method,
                pattern,
                existing,
            } => write!(
                f,
                "route {method} {pattern:?} conflicts with {method} {existing:?}, added before: \
                 both match exactly the same paths"
            ),
            Self::MountConflict { adding, existing } => write!(
                f,
                "{adding} conflicts with {existing}, added before: a mount answers every \
                 method on its prefix and on every path under it"
            ),
        }
    }
}

impl std::error::Error for RouteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Pattern(error) => Some(error),
            _ => None,
        }
    }
}
