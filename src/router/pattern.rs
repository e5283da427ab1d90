//! Parsing bareASGI path patterns: `/users/{id:int}/files/{rest:path}`.

use std::fmt;
use std::sync::Arc;

/// What a capture accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureKind {
    /// `{name}` or `{name:str}`: one non-empty segment.
    Str,
    /// `{name:int}`: an integer that fits `i64` (`-12`, `40`).
    Int,
    /// `{name:float}`: a finite decimal number (`1`, `-2.5`, `1e3`).
    Float,
    /// `{name:path}`: the rest of the path, `/` included; possibly empty. Last only.
    Path,
}

impl CaptureKind {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "str" => Some(Self::Str),
            "int" => Some(Self::Int),
            "float" => Some(Self::Float),
            "path" => Some(Self::Path),
            _ => None,
        }
    }

    /// Whether `text` (one decoded segment, or the rest of the path for `Path`) is
    /// accepted.
    pub(crate) fn accepts(self, text: &str) -> bool {
        match self {
            Self::Str => !text.is_empty(),
            Self::Int => is_int(text),
            Self::Float => is_float(text),
            Self::Path => true,
        }
    }
}

fn is_int(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && text.parse::<i64>().is_ok()
}

fn is_float(text: &str) -> bool {
    // `f64::from_str` also takes "inf" and "NaN"; a path number should be digits.
    text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && !text.starts_with('+')
        && text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// One `/`-separated piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(Box<str>),
    Capture { name: Arc<str>, kind: CaptureKind },
}

/// A parsed pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub(crate) source: Arc<str>,
    pub(crate) segments: Vec<Segment>,
}

impl Pattern {
    pub(crate) fn parse(source: &str) -> Result<Self, PatternError> {
        let fail = |problem: String| PatternError {
            pattern: source.to_owned(),
            problem,
        };
        let Some(rest) = source.strip_prefix('/') else {
            return Err(fail("a pattern must start with '/'".into()));
        };
        let pieces: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(pieces.len());
        for (index, piece) in pieces.iter().enumerate() {
            let is_last = index + 1 == pieces.len();
            let segment = parse_segment(piece).map_err(&fail)?;
            match &segment {
                Segment::Literal(text) if text.is_empty() && !is_last => {
                    return Err(fail("empty segment ('//')".into()));
                }
                Segment::Literal(text) if &**text == "." || &**text == ".." => {
                    return Err(fail(format!(
                        "segment '{text}' can never match: paths with '.' or '..' segments are refused"
                    )));
                }
                Segment::Capture {
                    kind: CaptureKind::Path,
                    name,
                } if !is_last => {
                    return Err(fail(format!("'{{{name}:path}}' must be the last segment")));
                }
                Segment::Capture { name, .. } => {
                    let seen = segments
                        .iter()
                        .any(|earlier| matches!(earlier, Segment::Capture { name: other, .. } if other == name));
                    if seen {
                        return Err(fail(format!("capture name '{name}' is used twice")));
                    }
                }
                Segment::Literal(_) => {}
            }
            segments.push(segment);
        }
        Ok(Self {
            source: source.into(),
            segments,
        })
    }

    /// The capture names in order.
    pub(crate) fn names(&self) -> Vec<Arc<str>> {
        self.segments
            .iter()
            .filter_map(|segment| match segment {
                Segment::Capture { name, .. } => Some(name.clone()),
                Segment::Literal(_) => None,
            })
            .collect()
    }
}

fn parse_segment(piece: &str) -> Result<Segment, String> {
    if let Some(suggestion) = foreign_capture(piece) {
        return Err(format!(
            "segment '{piece}' is a capture in another framework's syntax; did you mean \
             `{suggestion}`?"
        ));
    }
    let Some(inner) = piece.strip_prefix('{') else {
        if piece.contains(['{', '}']) {
            return Err(format!(
                "segment '{piece}' mixes text and a capture; a capture must be a whole segment"
            ));
        }
        if let Some(bad) = piece
            .chars()
            .find(|c| matches!(c, '?' | '#') || c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "segment '{piece}' contains {bad:?}, which cannot appear in a path"
            ));
        }
        if piece.contains('%') {
            return Err(format!(
                "segment '{piece}' contains '%': write the text decoded (paths are matched after \
                 percent-decoding)"
            ));
        }
        return Ok(Segment::Literal(piece.into()));
    };
    let Some(inner) = inner.strip_suffix('}') else {
        return Err(if piece.contains('}') {
            format!("segment '{piece}' mixes text and a capture; a capture must be a whole segment")
        } else {
            format!("unclosed '{{' in segment '{piece}'")
        });
    };
    if inner.contains(['{', '}']) {
        return Err(format!("nested braces in segment '{piece}'"));
    }
    let (name, kind) = match inner.split_once(':') {
        Some((name, kind_name)) => {
            let kind = CaptureKind::from_name(kind_name).ok_or_else(|| {
                format!("unknown capture type '{kind_name}' in '{piece}' (expected str, int, float or path)")
            })?;
            (name, kind)
        }
        None => (inner, CaptureKind::Str),
    };
    if name.is_empty() {
        return Err(format!("empty capture name in '{piece}'"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "capture name '{name}' must be letters, digits and '_'"
        ));
    }
    Ok(Segment::Capture {
        name: name.into(),
        kind,
    })
}

/// The capture a segment such as `:id` (Express, actix, axum 0.7) or `*rest` (a wildcard)
/// was meant to be, so that it is not silently taken as a literal. A `:` or `*` elsewhere in
/// a segment (`/v1/models/gpt:generate`, `/a*b`) stays a literal.
fn foreign_capture(piece: &str) -> Option<String> {
    let is_name = |name: &str| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some(name) = piece.strip_prefix(':')
        && !name.is_empty()
        && is_name(name)
    {
        return Some(format!("{{{name}}}"));
    }
    let name = piece.strip_prefix('*')?;
    let name = if name.is_empty() { "rest" } else { name };
    is_name(name).then(|| format!("{{{name}:path}}"))
}

/// A malformed pattern: which one, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pattern: String,
    problem: String,
}

impl PatternError {
    pub(super) fn new(pattern: &str, problem: impl Into<String>) -> Self {
        Self {
            pattern: pattern.to_owned(),
            problem: problem.into(),
        }
    }

    /// The pattern as given.
    #[must_use]
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// What is wrong with it.
    #[must_use]
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid route pattern {:?}: {}",
            self.pattern, self.problem
        )
    }
}

impl std::error::Error for PatternError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(pattern: &str) -> String {
        Pattern::parse(pattern).unwrap_err().problem
    }

    #[test]
    fn parses_literals_and_every_capture_kind() {
        let pattern = Pattern::parse("/a/{b}/{c:str}/{d:int}/{e:float}/{f:path}").unwrap();
        let kinds: Vec<_> = pattern
            .segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => format!("lit:{text}"),
                Segment::Capture { name, kind } => format!("{name}:{kind:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            ["lit:a", "b:Str", "c:Str", "d:Int", "e:Float", "f:Path"]
        );
        assert_eq!(pattern.names().len(), 5);
    }

    #[test]
    fn root_and_trailing_slash_are_an_empty_last_literal() {
        assert_eq!(
            Pattern::parse("/").unwrap().segments,
            [Segment::Literal("".into())]
        );
        let trailing = Pattern::parse("/users/").unwrap();
        assert_eq!(
            trailing.segments,
            [
                Segment::Literal("users".into()),
                Segment::Literal("".into())
            ]
        );
    }

    #[test]
    fn malformed_patterns_say_what_is_wrong() {
        assert!(problem("users").contains("must start with '/'"));
        assert!(problem("").contains("must start with '/'"));
        assert!(problem("/users/{id").contains("unclosed '{'"));
        assert!(problem("/users/{id:uuid}").contains("unknown capture type 'uuid'"));
        assert!(problem("/files/{rest:path}/edit").contains("must be the last segment"));
        assert!(problem("/users/{}").contains("empty capture name"));
        assert!(problem("/users/{:int}").contains("empty capture name"));
        assert!(problem("/a/{id}/b/{id:int}").contains("'id' is used twice"));
        assert!(problem("/file.{ext}").contains("a capture must be a whole segment"));
        assert!(problem("/a//b").contains("empty segment"));
        assert!(problem("/a/{b-c}").contains("letters, digits"));
        assert!(problem("/a?b").contains("cannot appear in a path"));
        assert!(problem("/x/id}").contains("a capture must be a whole segment"));
        assert!(problem("/caf%C3%A9").contains("write the text decoded"));
    }

    #[test]
    fn captures_in_other_frameworks_syntax_are_refused_with_a_suggestion() {
        // `/users/:id` used to be accepted as a literal segment ":id", which no request
        // ever names: the route was silently dead.
        assert_eq!(
            problem("/users/:id"),
            "segment ':id' is a capture in another framework's syntax; did you mean `{id}`?"
        );
        assert!(problem("/files/*rest").ends_with("did you mean `{rest:path}`?"));
        assert!(problem("/files/*").ends_with("did you mean `{rest:path}`?"));
        for fine in ["/v1/models/gpt:generate", "/a*b", "/:", "/time/12:30"] {
            assert!(Pattern::parse(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn dot_segments_are_refused_because_no_request_path_can_reach_them() {
        // Found by the `pattern_parse` fuzz target: "/./d" was accepted, yet `resolve`
        // answers every path with a '.' or '..' segment with `BadPath`, so the route was
        // silently dead.
        assert!(problem("/./d").contains("segment '.' can never match"));
        assert!(problem("/static/..").contains("segment '..' can never match"));
        assert!(problem("/a/../{rest:path}").contains("can never match"));
        for fine in ["/.well-known/x", "/a/.../b", "/x.y/.z/"] {
            assert!(Pattern::parse(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn the_error_message_names_the_pattern() {
        let error = Pattern::parse("/users/{id").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid route pattern \"/users/{id\": unclosed '{' in segment '{id'"
        );
    }

    #[test]
    fn int_accepts_i64_only() {
        for good in ["0", "42", "-7", "9223372036854775807"] {
            assert!(CaptureKind::Int.accepts(good), "{good}");
        }
        for bad in [
            "",
            "-",
            "+1",
            "1.5",
            "abc",
            "9223372036854775808",
            "1e3",
            " 1",
        ] {
            assert!(!CaptureKind::Int.accepts(bad), "{bad}");
        }
    }

    #[test]
    fn float_accepts_finite_decimal_numbers_only() {
        for good in ["0", "1.5", "-2.25", "1e3", ".5", "3."] {
            assert!(CaptureKind::Float.accepts(good), "{good}");
        }
        for bad in [
            "", "inf", "NaN", "infinity", "1e999", "abc", "+1", "1.2.3", "e",
        ] {
            assert!(!CaptureKind::Float.accepts(bad), "{bad}");
        }
    }
}
