//! A 50 MB multipart upload is streamed to disk while the server's resident memory grows by
//! less than 8 MiB: `req.multipart()` hands the file over chunk by chunk as it comes off
//! the connection, and nothing along the way holds it whole.
//!
//! The client runs in a second process (this same binary, re-run in client mode), so the
//! memory measured is the server's alone: the peak resident set (`VmHWM`, reset through
//! `/proc/self/clear_refs` just before the upload) minus the resident set at that moment,
//! after a warm-up upload has started every thread and buffer the path uses. A sampler
//! thread also records the largest `VmRSS` it sees, for kernels that refuse the reset.
//! `harness = false`, so no other test shares the process while it is measured. The bound
//! is on memory, not time: a slow or busy machine only makes the upload take longer.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bareasgi::multipart::MultipartLimits;
use bareasgi::{Application, HttpError, HttpRequest};
use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const UPLOAD_BYTES: u64 = 50 * 1000 * 1000;
const WARM_UP_BYTES: u64 = 4 * 1000 * 1000;
const GROWTH_LIMIT_KIB: u64 = 8 * 1024;
const CHUNK: usize = 64 * 1024;
const CLIENT_MODE: &str = "BAREASGI_UPLOAD_CLIENT";

fn main() {
    if let Ok(args) = std::env::var(CLIENT_MODE) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(client_process(&args));
        return;
    }
    // The server's runtime is the one `#[tokio::main]` gives an application.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(a_50_mb_upload_is_streamed_to_disk_in_bounded_memory());
    println!("upload_memory: ok");
}

/// The byte at `offset` of the uploaded file: varied, so a lost or repeated chunk shows.
fn pattern(offset: u64) -> u8 {
    (offset.wrapping_mul(31) ^ (offset >> 12)) as u8
}

/// An order-sensitive checksum (FNV-1a), kept by both sides.
fn checksum(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

const CHECKSUM_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Writes every file field to the temp directory; answers `bytes checksum path`.
async fn store(mut req: HttpRequest) -> Result<String, HttpError> {
    let mut form = req.multipart_with(MultipartLimits::new().whole_body(128 * 1024 * 1024))?;
    let mut answer = String::new();
    while let Some(mut field) = form.next_field().await? {
        let path = std::env::temp_dir().join(format!(
            "bareasgi-upload-{}-{}",
            std::process::id(),
            field.file_name().unwrap_or("field")
        ));
        let mut file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| HttpError::internal(e.to_string()))?;
        let (mut written, mut hash) = (0u64, CHECKSUM_START);
        while let Some(chunk) = field.chunk().await? {
            hash = checksum(hash, &chunk);
            written += chunk.len() as u64;
            file.write_all(&chunk)
                .await
                .map_err(|e| HttpError::internal(e.to_string()))?;
        }
        file.flush()
            .await
            .map_err(|e| HttpError::internal(e.to_string()))?;
        answer = format!("{written} {hash:x} {}", path.display());
    }
    Ok(answer)
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Resets `VmHWM` to the current resident set; false where the kernel does not allow it.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

async fn upload(addr: std::net::SocketAddr, bytes: u64) -> (String, u64) {
    let output = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env(CLIENT_MODE, format!("{addr} {bytes}"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "the client process failed: {text}");
    let mut lines = text.lines();
    let answer = lines.next().unwrap_or_default().to_owned();
    let sent: u64 = u64::from_str_radix(lines.next().unwrap_or_default(), 16).unwrap();
    (answer, sent)
}

/// Checks the server's `200 written checksum path` against what was sent, and the file on
/// disk; then removes it.
fn check_answer(answer: &str, bytes: u64, sent_checksum: u64) {
    let fields: Vec<&str> = answer.splitn(4, ' ').collect();
    assert_eq!(fields.len(), 4, "unexpected answer {answer:?}");
    assert_eq!(fields[0], "200", "{answer}");
    assert_eq!(fields[1].parse::<u64>().unwrap(), bytes, "{answer}");
    let hash = u64::from_str_radix(fields[2], 16).unwrap();
    assert_eq!(
        hash, sent_checksum,
        "the stored file differs from the one sent"
    );
    let on_disk = std::fs::metadata(fields[3]).unwrap().len();
    std::fs::remove_file(fields[3]).unwrap();
    assert_eq!(on_disk, bytes, "the file on disk has the wrong size");
}

async fn a_50_mb_upload_is_streamed_to_disk_in_bounded_memory() {
    let mut app = Application::new();
    app.http_router.add(["POST"], "/upload", store);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve_with_shutdown(listener, async move {
        let _ = stopped.await;
    }));

    // Warm up: the connection path, the blocking threads behind tokio::fs, the allocator.
    let (answer, sent) = upload(addr, WARM_UP_BYTES).await;
    check_answer(&answer, WARM_UP_BYTES, sent);

    let sampling = Arc::new(AtomicBool::new(true));
    let sampled_peak = Arc::new(AtomicU64::new(0));
    let baseline = status_kib("VmRSS:");
    let peak_reset = reset_peak();
    let sampler = {
        let (sampling, sampled_peak) = (sampling.clone(), sampled_peak.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                sampled_peak.fetch_max(status_kib("VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let (answer, sent) = upload(addr, UPLOAD_BYTES).await;
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = if peak_reset {
        status_kib("VmHWM:").max(sampled_peak.load(Ordering::Relaxed))
    } else {
        sampled_peak.load(Ordering::Relaxed)
    };
    check_answer(&answer, UPLOAD_BYTES, sent);
    let growth = peak.saturating_sub(baseline);
    println!(
        "upload_memory: {} MB streamed to disk; server RSS {baseline} KiB before, peak {peak} KiB \
         ({}), growth {growth} KiB (limit {GROWTH_LIMIT_KIB} KiB)",
        UPLOAD_BYTES / 1_000_000,
        if peak_reset {
            "VmHWM after a reset"
        } else {
            "sampled VmRSS"
        }
    );
    assert!(
        growth < GROWTH_LIMIT_KIB,
        "the server's resident memory grew by {growth} KiB during a {} MB upload",
        UPLOAD_BYTES / 1_000_000
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// The client process: uploads `bytes` of the pattern as a streamed multipart file, then
/// prints the server's `status body` and the checksum of what it sent.
async fn client_process(args: &str) {
    let (addr, bytes) = args.split_once(' ').unwrap();
    let bytes: u64 = bytes.parse().unwrap();
    let sent_hash = Arc::new(AtomicU64::new(CHECKSUM_START));
    let hash = sent_hash.clone();
    let chunks = futures_util::stream::unfold(0u64, move |offset| {
        let hash = hash.clone();
        async move {
            if offset >= bytes {
                return None;
            }
            let len = (bytes - offset).min(CHUNK as u64);
            let chunk: Vec<u8> = (offset..offset + len).map(pattern).collect();
            hash.store(
                checksum(hash.load(Ordering::Relaxed), &chunk),
                Ordering::Relaxed,
            );
            Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), offset + len))
        }
    });
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(chunks), bytes)
            .file_name("big.bin")
            .mime_str("application/octet-stream")
            .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("title", "a large file")
        .part("file", part);
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    println!("{status} {body}");
    println!("{:x}", sent_hash.load(Ordering::Relaxed));
}
