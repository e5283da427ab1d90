//! External processes for the scale-out tests: a real `redis-server`, the example binaries,
//! and nginx — each on an ephemeral port, in a temp dir, killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Whether a test that needs outside `programs` must skip: it prints one line naming what is
/// missing and how to install it, and returns `true`. With `BAREASGI_REQUIRE_EXTERNAL=1` (set
/// by `.ci/run`) a missing program fails the test instead, so CI runs every test.
///
/// ```ignore
/// if common::external::missing(&[("redis-server", "redis-server")]) { return; }
/// ```
pub fn missing(programs: &[(&str, &str)]) -> bool {
    let absent: Vec<_> = programs
        .iter()
        .filter(|(program, _)| !on_path(program))
        .collect();
    if absent.is_empty() {
        return false;
    }
    let names = absent
        .iter()
        .map(|(p, _)| *p)
        .collect::<Vec<_>>()
        .join(", ");
    let mut packages: Vec<_> = absent.iter().map(|(_, p)| *p).collect();
    packages.dedup();
    let packages = packages.join(" ");
    let line = format!("{names} not found on PATH (apt-get install {packages})");
    if std::env::var_os("BAREASGI_REQUIRE_EXTERNAL").is_some_and(|v| v == "1") {
        panic!("{line}; BAREASGI_REQUIRE_EXTERNAL=1 makes it required");
    }
    // Straight to the process's stderr: `eprintln!` is captured by the test harness and
    // shown only for failing tests, and a skip must be seen.
    let _ = writeln!(std::io::stderr(), "skipped: {line}");
    true
}

/// Whether `program` is an executable file in a directory of `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .any(|dir| std::fs::metadata(dir.join(program)).is_ok_and(|m| m.is_file()))
    })
}

/// `missing` for the tests that need `redis-server` (and `redis-cli`, which comes with it).
pub fn no_redis() -> bool {
    missing(&[
        ("redis-server", "redis-server"),
        ("redis-cli", "redis-tools"),
    ])
}

/// A port that was free a moment ago (the kernel does not hand it out again at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh directory under the system's temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(what: &str) -> Self {
        Self::under(std::env::temp_dir(), what)
    }

    /// In memory (`/dev/shm`, where there is one): files there outlive a killed process as
    /// on disk, but an `fsync` costs nothing, so a shared machine's disk latency cannot time
    /// out a test's writes.
    pub fn in_memory(what: &str) -> Self {
        let shm = Path::new("/dev/shm");
        let parent = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        Self::under(parent, what)
    }

    fn under(parent: PathBuf, what: &str) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = parent.join(format!(
            "bareasgi-{what}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct KillOnDrop(pub Child);

impl KillOnDrop {
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `redis-server` of its own: an ephemeral port, a temp dir, no RDB snapshots, and AOF
/// with `appendfsync always` if asked (so a kill loses no acknowledged write).
pub struct RedisServer {
    process: Option<KillOnDrop>,
    pub port: u16,
    aof: bool,
    dir: TempDir,
}

impl RedisServer {
    /// Without persistence.
    pub fn start() -> Self {
        Self::launch(false)
    }

    /// With AOF persistence, `appendfsync always`.
    pub fn start_with_aof() -> Self {
        Self::launch(true)
    }

    fn launch(aof: bool) -> Self {
        for _ in 0..5 {
            let mut server = Self {
                process: None,
                port: free_port(),
                aof,
                // The AOF's `appendfsync always` fsyncs every publish: on a busy VM's disk
                // that alone could pass the tests' publish timeout.
                dir: TempDir::in_memory("redis"),
            };
            if server.try_start() {
                return server;
            }
        }
        panic!("redis-server did not start (is it installed? apt-get install redis-server)");
    }

    fn try_start(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--save", ""])
            .args(["--appendonly", if self.aof { "yes" } else { "no" }])
            .args(["--appendfsync", "always"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot run redis-server: apt-get install redis-server");
        self.process = Some(KillOnDrop(child));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(process) = &mut self.process
                && let Ok(Some(_status)) = process.0.try_wait()
            {
                self.process = None;
                return false; // exited: most likely the port was taken meanwhile
            }
            if self.ping() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        if stream.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// SIGKILL: the harshest way to lose Redis.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Starts it again on the same port and directory (so it reloads its AOF).
    pub fn restart(&mut self) {
        assert!(self.try_start(), "redis-server did not restart");
    }

    /// Runs a command with `redis-cli` and returns its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli is installed with redis-server");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

/// The directory cargo builds this test's binaries in (`target/<profile>`).
pub fn target_dir() -> PathBuf {
    // tests run from target/<profile>/deps/<name>-<hash>
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .to_path_buf()
}

/// `examples/<name>` (built by `cargo test`) running with `env` on a free port.
pub struct ExampleProcess {
    process: KillOnDrop,
    pub port: u16,
}

impl ExampleProcess {
    pub fn start(name: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let binary = target_dir().join("examples").join(name);
        let mut child = Command::new(&binary)
            .envs(env.iter().copied())
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {} ({error}): build it with `cargo test --all-features`",
                    binary.display()
                )
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("Listening on"),
            "{name} did not start: {line:?}"
        );
        let process = KillOnDrop(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{name} is not listening");
            std::thread::sleep(Duration::from_millis(10));
        }
        Self { process, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn kill(&mut self) {
        self.process.kill();
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}

/// nginx running `examples/deploy/nginx.conf` with its ports and paths swapped for ours:
/// the instances at `upstreams` instead of 9101-9103, a free port instead of 8080, and a
/// temp dir instead of `/tmp/bareasgi-nginx*`. Stopped with SIGTERM when dropped (its
/// workers go with the master).
pub struct Nginx {
    process: Option<Child>,
    pub port: u16,
    _dir: TempDir,
}

impl Nginx {
    pub fn start(upstreams: &[u16]) -> Self {
        assert_eq!(
            upstreams.len(),
            3,
            "the shipped config balances three instances"
        );
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/deploy/nginx.conf"),
        )
        .unwrap();
        let dir = TempDir::new("nginx");
        let port = free_port();
        let mut config = shipped
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
            .replace(
                "/tmp/bareasgi-nginx",
                &dir.path().join("nginx").display().to_string(),
            );
        for (shipped_port, port) in [9101, 9102, 9103].iter().zip(upstreams) {
            let shipped_server = format!("127.0.0.1:{shipped_port}");
            assert!(
                config.contains(&shipped_server),
                "{shipped_server} in nginx.conf"
            );
            config = config.replace(&shipped_server, &format!("127.0.0.1:{port}"));
        }
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot run nginx: apt-get install nginx");
        let mut nginx = Self {
            process: Some(child),
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(Ok(Some(status))) = nginx.process.as_mut().map(Child::try_wait) {
                nginx.process = None;
                panic!("nginx exited: {status}");
            }
            assert!(Instant::now() < deadline, "nginx is not listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let Some(mut child) = self.process.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
