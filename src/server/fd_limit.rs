//! File descriptors: the process's open-file limit, and what the accept loop does when it
//! runs out of them anyway.

use std::io;
use std::time::{Duration, Instant};

/// How long the accept loop rests after a failure that is not one connection's own.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// At most one log line per this interval for such failures.
const LOG_INTERVAL: Duration = Duration::from_secs(1);

/// Raises the soft limit on open files to the hard limit, as Go's runtime does at start.
/// The usual soft limit of 1,024 is kept for programs that use `select(2)`; a server that
/// uses epoll/kqueue (tokio does) only runs out early because of it: under a flood of
/// 5,000 connections a server left at 1,024 could accept no one for a whole header-read
/// timeout. Child processes the application starts inherit the raised limit.
pub(super) fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        let before = rlimit::Resource::NOFILE.get_soft();
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(now) if before.as_ref().is_ok_and(|&before| before < now) => {
                tracing::debug!(
                    from = before.unwrap_or(0),
                    to = now,
                    "raised the open-file limit"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot raise the open-file limit"),
        }
    }
}

/// What the accept loop does after `accept` fails.
#[derive(Debug, Default)]
pub(super) struct AcceptErrors {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    /// Accept fails for two kinds of reasons: the one connection went wrong (reset before we
    /// took it), or the process is out of file descriptors or memory. The second would spin
    /// the loop (the connection waits in the backlog, so the next accept fails at once), so
    /// it backs off briefly and lets connections close; it is logged at most once a second.
    pub(super) async fn pause_after(&mut self, error: &io::Error) {
        use io::ErrorKind;
        if matches!(
            error.kind(),
            ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
        ) {
            tracing::debug!(%error, "accept failed for one connection");
            return;
        }
        if let Some(unlogged) = self.record(Instant::now()) {
            let hint = if is_out_of_files(error) {
                "; raise the open-file limit or set max_connections"
            } else {
                ""
            };
            tracing::warn!(
                %error,
                failures_since_last_report = unlogged,
                "accept failed; pausing before accepting again{hint}"
            );
        }
        tokio::time::sleep(ACCEPT_BACKOFF).await;
    }

    /// Counts a failure at `now`: `Some(failures not logged since the last report)` when
    /// this one should be logged.
    fn record(&mut self, now: Instant) -> Option<u64> {
        if self
            .last_logged
            .is_some_and(|last| now.duration_since(last) < LOG_INTERVAL)
        {
            self.unlogged += 1;
            return None;
        }
        self.last_logged = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

/// EMFILE (the process's limit) or ENFILE (the system's), numbered alike on Linux, the BSDs
/// and macOS.
fn is_out_of_files(error: &io::Error) -> bool {
    cfg!(unix) && matches!(error.raw_os_error(), Some(23 | 24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_logged_at_most_once_a_second_with_a_count_of_the_rest() {
        let mut errors = AcceptErrors::default();
        let start = Instant::now();
        let at = |millis: u64| start + Duration::from_millis(millis);
        assert_eq!(errors.record(at(0)), Some(0));
        for millis in (50..1000).step_by(50) {
            assert_eq!(errors.record(at(millis)), None, "at {millis} ms");
        }
        assert_eq!(errors.record(at(1000)), Some(19));
        assert_eq!(errors.record(at(1500)), None);
        assert_eq!(errors.record(at(2600)), Some(1));
    }

    #[test]
    fn out_of_files_is_recognised() {
        assert_eq!(
            is_out_of_files(&io::Error::from_raw_os_error(24)),
            cfg!(unix)
        );
        assert!(!is_out_of_files(&io::Error::from(
            io::ErrorKind::ConnectionReset
        )));
    }
}
