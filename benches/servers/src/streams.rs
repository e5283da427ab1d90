//! What the event-stream harness (`streams`, `sse_clients`, `sse_bareasgi`, `sse_axum`)
//! shares: the message format, the open-file limit, and what it reads from `/proc`.
//!
//! A broadcast's data is `"<seq> <unix time in ns> <padding>"`: the time is taken just
//! before the `POST /messages` that publishes it is written, so the lag a client computes
//! from it (its own clock at parse time minus that) covers the publish request, the hub,
//! the stream's yield, the server's write and the client's read. All processes share the
//! machine's clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// The path of the event stream on every harness server.
pub const EVENTS_PATH: &str = "/events";
/// The path that publishes its body to every stream.
pub const PUBLISH_PATH: &str = "/messages";
/// The topic both harness servers publish to (the `sse_chat` example's).
pub const TOPIC: &str = "chat";

/// Wall-clock time in ns since the Unix epoch.
#[must_use]
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos() as u64
}

/// The data of broadcast `seq`, stamped now: about the size of a chat line.
#[must_use]
pub fn message(seq: u32) -> String {
    format!("{seq} {} {}", now_ns(), "x".repeat(80))
}

/// `(seq, stamp)` from the text after `data: `.
#[must_use]
pub fn parse_message(data: &[u8]) -> Option<(u32, u64)> {
    let mut fields = data.split(|&byte| byte == b' ');
    let seq = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
    let stamp = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
    Some((seq, stamp))
}

/// Raises this process's open-file limit to its hard limit; returns the limit now in force.
#[must_use]
pub fn raise_open_files() -> u64 {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
}

/// VmRSS of a process, in KiB (0 once it is gone).
#[must_use]
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of every thread of a process, in ns, from the scheduler's own
/// accounting (`/proc/PID/task/*/schedstat`): nanosecond resolution, where `/proc/PID/stat`
/// counts 10 ms ticks.
#[must_use]
pub fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// User and system CPU time of a process, in clock ticks (`/proc/PID/stat`, 10 ms each):
/// coarse, for the split between the two.
#[must_use]
pub fn cpu_ticks(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    (
        fields.get(11).copied().unwrap_or(0),
        fields.get(12).copied().unwrap_or(0),
    )
}

/// How many files a process has open.
#[must_use]
pub fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// Whether the process has a socket listening on `port` (any local address).
#[must_use]
pub fn is_listening(pid: u32, port: u16) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    let inodes: Vec<String> = fds
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let port_hex = format!(":{port:04X}");
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // local_address, rem_address, st (0A: LISTEN), ..., inode at 9
        fields.len() > 9
            && fields[1].ends_with(&port_hex)
            && fields[3] == "0A"
            && inodes.iter().any(|inode| inode == fields[9])
    })
}

/// The kernel's slab memory in KiB (`/proc/meminfo`): sockets, files and epoll entries live
/// there, not in any process's RSS. Machine-wide, so other processes move it too.
#[must_use]
pub fn kernel_slab_kib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("Slab:"))
                .and_then(|value| value.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// How many times the kernel dropped a connection because a listen queue was full
/// (`TcpExt: ListenOverflows` in `/proc/net/netstat`, machine-wide): each costs the client a
/// SYN retransmission, one second or more.
#[must_use]
pub fn listen_overflows() -> u64 {
    let Ok(netstat) = std::fs::read_to_string("/proc/net/netstat") else {
        return 0;
    };
    let mut lines = netstat.lines().filter(|line| line.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "ListenOverflows")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}

/// A sysctl's value, if readable.
#[must_use]
pub fn sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(format!("/proc/sys/{path}"))
        .ok()
        .map(|value| value.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_carries_its_seq_and_stamp() {
        let before = now_ns();
        let text = message(7);
        let (seq, stamp) = parse_message(text.as_bytes()).unwrap();
        assert_eq!(seq, 7);
        assert!(stamp >= before && stamp <= now_ns());
        assert_eq!(parse_message(b"oops"), None);
    }
}
