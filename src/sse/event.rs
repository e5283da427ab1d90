//! [`Event`]: one server-sent event and its encoding in the `text/event-stream` format.

use std::fmt;
use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;

/// One server-sent event.
///
/// Build it from its data (or with [`Event::default`] for an event without data) and chain
/// fields; [`encode`](Self::encode) gives its bytes on the wire.
///
/// ```
/// use std::time::Duration;
/// use bareasgi::sse::Event;
///
/// let event = Event::data("line one\nline two")
///     .event("update")
///     .id(42)
///     .retry(Duration::from_secs(3));
/// assert_eq!(
///     event.encode(),
///     "event: update\nid: 42\nretry: 3000\ndata: line one\ndata: line two\n\n"
/// );
/// ```
///
/// A line break or NUL in an event name, id or comment would inject fields into the
/// stream. [`event`](Self::event), [`id`](Self::id) and [`comment`](Self::comment) are for
/// values written in code and panic on one (as axum's `Event` does); the `try_` variants
/// return an error, for values that come from outside:
///
/// ```
/// use bareasgi::sse::Event;
///
/// let from_a_client = "room\nid: 0";
/// let refused = Event::data("x").try_event(from_a_client).unwrap_err();
/// assert_eq!(refused.field(), "event");
/// assert_eq!(refused.to_string(), "server-sent event event must not contain '\\n'");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    comment: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
    data: Option<String>,
}

impl Event {
    /// An event carrying `data`. The text may have several lines.
    pub fn data(data: impl Into<String>) -> Self {
        Self {
            data: Some(data.into()),
            ..Self::default()
        }
    }

    /// An event carrying `value` serialized as JSON (which never contains a raw line break).
    ///
    /// # Errors
    /// When `value` cannot be serialized.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn json_data<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(Self::data)
    }

    /// Replaces the data.
    #[must_use]
    pub fn with_data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Sets the event type, which selects the browser's `addEventListener(name)` listener
    /// instead of `onmessage`. For a name written in code; use
    /// [`try_event`](Self::try_event) for one that comes from outside.
    ///
    /// # Panics
    /// When `name` contains a line break (`\n`, `\r`) or NUL, which would inject fields
    /// into the stream: a bug in the calling code, reported at its line.
    #[track_caller]
    #[must_use]
    pub fn event(self, name: impl Into<String>) -> Self {
        self.try_event(name)
            .unwrap_or_else(|invalid| panic!("{invalid}"))
    }

    /// Sets the event type like [`event`](Self::event), for a name from untrusted input.
    ///
    /// # Errors
    /// When `name` contains a line break or NUL.
    pub fn try_event(mut self, name: impl Into<String>) -> Result<Self, InvalidField> {
        self.event = Some(single_line("event", name.into())?);
        Ok(self)
    }

    /// Sets the event id, any `Display` value (`.id(42)`, `.id("a7")`); a reconnecting
    /// browser sends the last one it saw as `Last-Event-ID` (see
    /// [`HttpRequest::last_event_id`](crate::HttpRequest::last_event_id)). Any UTF-8 text
    /// comes back as it was, except spaces or tabs at either end: HTTP strips them from
    /// header values, so keep ids free of them. For an id that comes from outside, use
    /// [`try_id`](Self::try_id).
    ///
    /// # Panics
    /// When the id contains a line break or NUL.
    #[track_caller]
    #[must_use]
    pub fn id(self, id: impl fmt::Display) -> Self {
        self.try_id(id)
            .unwrap_or_else(|invalid| panic!("{invalid}"))
    }

    /// Sets the event id like [`id`](Self::id), for an id from untrusted input.
    ///
    /// # Errors
    /// When the id contains a line break or NUL.
    pub fn try_id(mut self, id: impl fmt::Display) -> Result<Self, InvalidField> {
        self.id = Some(single_line("id", id.to_string())?);
        Ok(self)
    }

    /// Tells the browser how long to wait before reconnecting after the stream ends.
    #[must_use]
    pub fn retry(mut self, delay: Duration) -> Self {
        self.retry = Some(delay);
        self
    }

    /// Adds a comment line, which browsers ignore.
    ///
    /// # Panics
    /// When `text` contains a line break or NUL; [`try_comment`](Self::try_comment) returns
    /// an error instead.
    #[track_caller]
    #[must_use]
    pub fn comment(self, text: impl Into<String>) -> Self {
        self.try_comment(text)
            .unwrap_or_else(|invalid| panic!("{invalid}"))
    }

    /// Adds a comment line like [`comment`](Self::comment), for text from untrusted input.
    ///
    /// # Errors
    /// When `text` contains a line break or NUL.
    pub fn try_comment(mut self, text: impl Into<String>) -> Result<Self, InvalidField> {
        self.comment = Some(single_line("comment", text.into())?);
        Ok(self)
    }

    /// The event in the `text/event-stream` format, ending with the blank line that
    /// dispatches it.
    #[must_use]
    pub fn encode(&self) -> Bytes {
        let data_len = self.data.as_ref().map_or(0, String::len);
        let mut out = String::with_capacity(data_len + 32);
        if let Some(comment) = &self.comment {
            push_comment(&mut out, comment);
        }
        if let Some(event) = &self.event {
            push_field(&mut out, "event", event);
        }
        if let Some(id) = &self.id {
            push_field(&mut out, "id", id);
        }
        if let Some(retry) = self.retry {
            let _ = writeln!(out, "retry: {}", retry.as_millis());
        }
        if let Some(data) = &self.data {
            for line in lines(data) {
                push_field(&mut out, "data", line);
            }
        }
        out.push('\n');
        Bytes::from(out)
    }
}

fn push_field(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push('\n');
}

pub(super) fn push_comment(out: &mut String, text: &str) {
    out.push(':');
    if !text.is_empty() {
        out.push(' ');
        out.push_str(text);
    }
    out.push('\n');
}

/// Splits on `\r\n`, `\r` or `\n`, each one line break, as the event-stream parser does.
/// `"a\n"` is two lines, `"a"` and `""`, so the browser sees the trailing newline too.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(text)
            }
            Some(at) => {
                let skip = if text[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[at + skip..]);
                Some(&text[..at])
            }
        }
    })
}

pub(super) fn single_line(field: &'static str, value: String) -> Result<String, InvalidField> {
    match value.find(['\r', '\n', '\0']) {
        None => Ok(value),
        Some(at) => Err(InvalidField {
            field,
            character: value[at..].chars().next().unwrap_or('\0'),
        }),
    }
}

/// A field value that would break the event stream: a line break or NUL in an event name,
/// id or comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    field: &'static str,
    character: char,
}

impl InvalidField {
    /// The field: `"event"`, `"id"` or `"comment"`.
    #[must_use]
    pub fn field(&self) -> &'static str {
        self.field
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server-sent event {} must not contain {:?}",
            self.field, self.character
        )
    }
}

impl std::error::Error for InvalidField {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parser following the WHATWG event-stream rules, to check the encoder against:
    /// returns (event type, data, last event id) for each dispatched event.
    fn parse(stream: &str) -> (Vec<(String, String, String)>, Option<u64>) {
        let mut events = Vec::new();
        let (mut data, mut event_type, mut last_id, mut retry) =
            (String::new(), String::new(), String::new(), None);
        let normalized = stream.replace("\r\n", "\n").replace('\r', "\n");
        for line in normalized.split('\n') {
            if line.is_empty() {
                if !data.is_empty() {
                    data.pop();
                    let kind = if event_type.is_empty() {
                        "message".to_owned()
                    } else {
                        event_type.clone()
                    };
                    events.push((kind, data.clone(), last_id.clone()));
                }
                data.clear();
                event_type.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line, ""),
            };
            match field {
                "data" => {
                    data.push_str(value);
                    data.push('\n');
                }
                "event" => event_type = value.to_owned(),
                "id" if !value.contains('\0') => last_id = value.to_owned(),
                "retry" if value.bytes().all(|b| b.is_ascii_digit()) => retry = value.parse().ok(),
                _ => {}
            }
        }
        (events, retry)
    }

    fn round_trip(event: &Event) -> Vec<(String, String, String)> {
        parse(std::str::from_utf8(&event.encode()).unwrap()).0
    }

    #[test]
    fn multi_line_data_survives_every_kind_of_line_break() {
        for (data, expected) in [
            ("a\nb", "a\nb"),
            ("a\r\nb", "a\nb"),
            ("a\rb", "a\nb"),
            ("a\r\n\r\nb", "a\n\nb"),
            ("a\n\rb", "a\n\nb"),
            ("trailing\n", "trailing\n"),
        ] {
            let events = round_trip(&Event::data(data));
            assert_eq!(events.len(), 1, "{data:?}");
            assert_eq!(events[0].1, expected, "{data:?}");
        }
        assert_eq!(Event::data("a\r\nb").encode(), "data: a\ndata: b\n\n");
    }

    #[test]
    fn empty_data_is_still_an_event() {
        assert_eq!(Event::data("").encode(), "data: \n\n");
        assert_eq!(
            round_trip(&Event::data("")),
            [("message".into(), String::new(), String::new())]
        );
    }

    #[test]
    fn leading_spaces_in_data_are_kept() {
        assert_eq!(round_trip(&Event::data("  indented"))[0].1, "  indented");
    }

    #[test]
    fn event_type_id_and_retry_reach_the_parser() {
        let event = Event::data("x")
            .event("update")
            .id(7)
            .retry(Duration::from_millis(1500));
        let text = String::from_utf8(event.encode().to_vec()).unwrap();
        let (events, retry) = parse(&text);
        assert_eq!(events, [("update".into(), "x".into(), "7".into())]);
        assert_eq!(retry, Some(1500));
    }

    #[test]
    fn an_id_without_data_sets_the_last_id_but_dispatches_nothing() {
        let id_only = Event::default().id("9").encode();
        assert_eq!(id_only, "id: 9\n\n");
        let text = format!(
            "{}{}",
            std::str::from_utf8(&id_only).unwrap(),
            std::str::from_utf8(&Event::data("after").encode()).unwrap()
        );
        assert_eq!(
            parse(&text).0,
            [("message".into(), "after".into(), "9".into())]
        );
    }

    #[test]
    fn comments_are_ignored_by_the_parser() {
        let event = Event::data("x").comment("hello");
        assert_eq!(event.encode(), ": hello\ndata: x\n\n");
        assert_eq!(round_trip(&event).len(), 1);
        assert_eq!(parse(": just a comment\n\n").0.len(), 0);
    }

    #[test]
    fn line_breaks_and_nul_cannot_inject_fields() {
        for bad in ["a\nb", "a\rb", "a\r\nb", "a\0b", "x\ndata: injected"] {
            assert_eq!(
                Event::data("x").try_event(bad).unwrap_err().field(),
                "event"
            );
            assert_eq!(Event::data("x").try_id(bad).unwrap_err().field(), "id");
            assert_eq!(
                Event::data("x").try_comment(bad).unwrap_err().field(),
                "comment"
            );
        }
        let message = Event::data("x").try_id("1\n2").unwrap_err().to_string();
        assert_eq!(message, "server-sent event id must not contain '\\n'");
    }

    #[test]
    fn the_chaining_setters_panic_on_what_the_try_variants_refuse() {
        for bad in ["a\nb", "a\rb", "a\0b"] {
            let event = std::panic::catch_unwind(|| Event::data("x").event(bad));
            let id = std::panic::catch_unwind(|| Event::data("x").id(bad));
            let comment = std::panic::catch_unwind(|| Event::data("x").comment(bad));
            assert!(event.is_err() && id.is_err() && comment.is_err(), "{bad:?}");
        }
        let message = std::panic::catch_unwind(|| Event::data("x").id("1\n2")).unwrap_err();
        assert_eq!(
            crate::panic_message(&*message),
            "server-sent event id must not contain '\\n'"
        );
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_data_is_one_line() {
        let event = Event::json_data(&serde_json::json!({"text": "two\nlines"})).unwrap();
        assert_eq!(event.encode(), "data: {\"text\":\"two\\nlines\"}\n\n");
    }
}
