//! Failing a test at the test's own line from inside a future.
//!
//! `#[track_caller]` does not reach into `async fn`s on stable Rust, so a request that
//! failed (`client.post("/upload").body(..).await`) panicked at a line inside this crate,
//! and the test's author had to find their own line in a backtrace. The `TestClient`
//! methods that return futures take the caller's [`Location`] before they start, and a
//! failure ends the test as a panic at that line would: the message names the test's file,
//! line and column, and the unwinding fails the test (or is caught, by `#[should_panic]` or
//! `catch_unwind`, with the message as its payload).

use std::fmt;
use std::panic::Location;

/// Ends the test with `message`, reported at `caller`, the test's line.
pub(crate) fn fail_at(caller: &'static Location<'static>, message: impl fmt::Display) -> ! {
    let message = format!("{message}\n(at {caller})");
    let thread = std::thread::current();
    // What the default panic hook prints, with the test's line instead of one in here; the
    // test harness shows it with the failing test's output.
    eprintln!(
        "\nthread '{}' panicked at {caller}:\n{message}",
        thread.name().unwrap_or("<unnamed>")
    );
    std::panic::resume_unwind(Box::new(message))
}
