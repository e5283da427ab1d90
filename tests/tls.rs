//! HTTPS over a real socket with a rustls client (tokio-rustls and hyper's client): HTTP/1.1
//! and HTTP/2 chosen by ALPN, TLS 1.3 and 1.2, the key encodings, certificate reload,
//! handshake failures, graceful shutdown with an open event stream, and the errors of
//! `TlsConfig`.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bareasgi::sse::{Event, EventStream};
use bareasgi::tls::TlsConfig;
use bareasgi::tls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use bareasgi::{Application, HttpRequest, IntoResponse};
use bytes::Bytes;
use common::{TestServer, read_until_close};
use futures_util::stream;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A self-signed certificate for `localhost` (ECDSA P-256, PKCS#8), made fresh by rcgen.
struct Cert {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

fn make_cert() -> Cert {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    Cert {
        cert_pem: made.cert.pem(),
        key_pem: made.signing_key.serialize_pem(),
        der: made.cert.der().clone(),
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// A file in a directory of this test's own.
fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(contents)
        .unwrap();
    path
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A client trusting `trusted`, offering `alpn` and the TLS versions `versions`.
fn client_config(
    trusted: &[&CertificateDer<'static>],
    alpn: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in trusted {
        roots.add((*cert).clone()).unwrap();
    }
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Arc::new(config)
}

const BOTH: &[&[u8]] = &[b"h2", b"http/1.1"];

fn tls13_and_12() -> &'static [&'static rustls::SupportedProtocolVersion] {
    rustls::DEFAULT_VERSIONS
}

async fn connect(
    server: &TestServer,
    config: Arc<ClientConfig>,
    name: &str,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(server.addr).await?;
    let name = ServerName::try_from(name.to_owned()).unwrap();
    TlsConnector::from(config).connect(name, tcp).await
}

fn alpn_of(stream: &TlsStream<TcpStream>) -> Option<Vec<u8>> {
    stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
}

fn peer_cert(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

type H1 = http1::SendRequest<Empty<Bytes>>;
type H2 = http2::SendRequest<Empty<Bytes>>;

async fn http1_over(stream: TlsStream<TcpStream>) -> H1 {
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    sender
}

async fn http2_over(stream: TlsStream<TcpStream>) -> H2 {
    let (sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(format!("https://localhost{path}"))
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

async fn text(response: Response<hyper::body::Incoming>) -> String {
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

async fn hello(_req: HttpRequest) -> impl IntoResponse {
    (200, [("content-type", "text/plain")], "hello over TLS")
}

/// An endless event stream: an event every 50 ms.
async fn ticks(_req: HttpRequest) -> EventStream {
    let ticks = stream::unfold(0u64, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some((Event::data(format!("tick {n}")), n + 1))
    });
    EventStream::new(ticks)
}

fn app() -> Application {
    let mut app = Application::new();
    app.http_router.add(["GET"], "/", hello);
    app.http_router.add(["GET"], "/events", ticks);
    app
}

async fn serve_cert(app: Application, cert: &Cert) -> TestServer {
    let tls = TlsConfig::from_pem(&cert.cert_pem, &cert.key_pem).unwrap();
    TestServer::start_tls(app, tls).await
}

// Browsers offer both protocols; the server must pick HTTP/2, the point of issue 13.
#[tokio::test]
async fn a_client_offering_h2_and_http1_gets_http2() {
    let cert = make_cert();
    let server = serve_cert(app(), &cert).await;
    let stream = connect(
        &server,
        client_config(&[&cert.der], BOTH, tls13_and_12()),
        "localhost",
    )
    .await
    .unwrap();
    assert_eq!(alpn_of(&stream).as_deref(), Some(&b"h2"[..]));
    let mut sender = http2_over(stream).await;
    // Several requests at once on the one connection: HTTP/2's streams.
    let responses =
        futures_util::future::join_all((0..5).map(|_| sender.send_request(get("/")))).await;
    for response in responses {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), Version::HTTP_2);
        assert_eq!(text(response).await, "hello over TLS");
    }
}

// Issue 20: with ring (deprecated by rustls 0.23.48 for lacking it) the server offered no
// post-quantum key exchange; on aws-lc-rs a client offering X25519MLKEM768 gets it, and a
// client that offers only classical groups is still served.
#[tokio::test]
async fn the_key_exchange_is_post_quantum_when_the_client_offers_it() {
    use rustls::NamedGroup;
    use rustls::crypto::aws_lc_rs::kx_group;
    let cert = make_cert();
    let server = serve_cert(app(), &cert).await;
    let stream = connect(
        &server,
        client_config(&[&cert.der], BOTH, tls13_and_12()),
        "localhost",
    )
    .await
    .unwrap();
    let group = stream.get_ref().1.negotiated_key_exchange_group().unwrap();
    assert_eq!(group.name(), NamedGroup::X25519MLKEM768);

    let mut classical = rustls::crypto::aws_lc_rs::default_provider();
    classical.kx_groups = vec![kx_group::X25519];
    let mut roots = RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(classical))
        .with_protocol_versions(tls13_and_12())
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let stream = connect(&server, Arc::new(config), "localhost")
        .await
        .unwrap();
    let group = stream.get_ref().1.negotiated_key_exchange_group().unwrap();
    assert_eq!(group.name(), NamedGroup::X25519);
    let mut sender = http1_over(stream).await;
    let response = sender.send_request(get("/")).await.unwrap();
    assert_eq!(text(response).await, "hello over TLS");
}

#[tokio::test]
async fn a_client_offering_only_http1_gets_http1() {
    let cert = make_cert();
    let server = serve_cert(app(), &cert).await;
    let config = client_config(&[&cert.der], &[b"http/1.1"], tls13_and_12());
    let stream = connect(&server, config, "localhost").await.unwrap();
    assert_eq!(alpn_of(&stream).as_deref(), Some(&b"http/1.1"[..]));
    let mut sender = http1_over(stream).await;
    for _ in 0..3 {
        // keep-alive: the same connection answers again
        let response = sender.send_request(get("/")).await.unwrap();
        assert_eq!(response.version(), Version::HTTP_11);
        assert_eq!(text(response).await, "hello over TLS");
    }
}

// Without ALPN the protocol is told by the first bytes, as on a cleartext connection.
#[tokio::test]
async fn a_client_without_alpn_is_served_by_its_first_bytes() {
    let cert = make_cert();
    let server = serve_cert(app(), &cert).await;
    let config = client_config(&[&cert.der], &[], tls13_and_12());

    let stream = connect(&server, config.clone(), "localhost").await.unwrap();
    assert_eq!(alpn_of(&stream), None);
    let response = http1_over(stream)
        .await
        .send_request(get("/"))
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
    assert_eq!(text(response).await, "hello over TLS");

    let stream = connect(&server, config, "localhost").await.unwrap();
    let response = http2_over(stream)
        .await
        .send_request(get("/"))
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(text(response).await, "hello over TLS");
}

#[tokio::test]
async fn tls12_and_tls13_are_both_served() {
    let cert = make_cert();
    let server = serve_cert(app(), &cert).await;
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let config = client_config(&[&cert.der], BOTH, &[version]);
        let stream = connect(&server, config, "localhost").await.unwrap();
        assert_eq!(stream.get_ref().1.protocol_version(), Some(version.version));
        let response = http2_over(stream)
            .await
            .send_request(get("/"))
            .await
            .unwrap();
        assert_eq!(text(response).await, "hello over TLS");
    }
}

// rcgen writes PKCS#8; openssl's traditional encodings must load too: PKCS#1 for RSA,
// SEC1 for EC. Each over both TLS versions, since TLS 1.2 signs differently.
#[tokio::test]
async fn rsa_pkcs1_and_ec_sec1_keys_from_openssl_are_served() {
    for (cert, key) in [
        ("rsa-cert.pem", "rsa-pkcs1-key.pem"),
        ("ec-cert.pem", "ec-sec1-key.pem"),
    ] {
        let tls = TlsConfig::from_pem_files(fixture(cert), fixture(key)).unwrap();
        let server = TestServer::start_tls(app(), tls).await;
        let der = CertificateDer::from_pem_file(fixture(cert)).unwrap();
        for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
            let config = client_config(&[&der], BOTH, &[version]);
            let stream = connect(&server, config, "localhost")
                .await
                .unwrap_or_else(|error| panic!("{cert} over {version:?}: {error}"));
            let response = http2_over(stream)
                .await
                .send_request(get("/"))
                .await
                .unwrap();
            assert_eq!(text(response).await, "hello over TLS");
        }
    }
}

// A ServerConfig of one's own keeps its ALPN list: offering only HTTP/1.1 serves only
// HTTP/1.1, even to a client that offers h2.
#[tokio::test]
async fn from_rustls_keeps_the_alpn_list_it_is_given() {
    let cert = make_cert();
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap();
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der.clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server = TestServer::start_tls(app(), TlsConfig::from_rustls(Arc::new(config))).await;
    let stream = connect(
        &server,
        client_config(&[&cert.der], BOTH, tls13_and_12()),
        "localhost",
    )
    .await
    .unwrap();
    assert_eq!(alpn_of(&stream).as_deref(), Some(&b"http/1.1"[..]));
    let response = http1_over(stream)
        .await
        .send_request(get("/"))
        .await
        .unwrap();
    assert_eq!(text(response).await, "hello over TLS");
}

// Rotation: new handshakes get the new certificate; a connection made before keeps its
// own and keeps working. A failed reload changes nothing.
#[tokio::test]
async fn reload_changes_the_certificate_of_new_handshakes_only() {
    let (old, new) = (make_cert(), make_cert());
    let tls = TlsConfig::from_pem(&old.cert_pem, &old.key_pem).unwrap();
    let server = TestServer::start_tls(app(), tls.clone()).await;
    let config = client_config(&[&old.der, &new.der], BOTH, tls13_and_12());

    let before = connect(&server, config.clone(), "localhost").await.unwrap();
    assert_eq!(peer_cert(&before), old.der);
    let mut before = http2_over(before).await;
    assert_eq!(
        text(before.send_request(get("/")).await.unwrap()).await,
        "hello over TLS"
    );

    let cert_path = temp_file("reload-cert.pem", new.cert_pem.as_bytes());
    let key_path = temp_file("reload-key.pem", new.key_pem.as_bytes());
    tls.reload_from_pem_files(&cert_path, &key_path).unwrap();

    let after = connect(&server, config.clone(), "localhost").await.unwrap();
    assert_eq!(peer_cert(&after), new.der);
    let mut after = http2_over(after).await;
    assert_eq!(
        text(after.send_request(get("/")).await.unwrap()).await,
        "hello over TLS"
    );
    // The connection from before the reload still answers.
    assert_eq!(
        text(before.send_request(get("/")).await.unwrap()).await,
        "hello over TLS"
    );

    let missing = cert_path.with_file_name("no-such-cert.pem");
    let error = tls.reload_from_pem_files(&missing, &key_path).unwrap_err();
    assert_eq!(error.path(), Some(missing.as_path()));
    let again = connect(&server, config, "localhost").await.unwrap();
    assert_eq!(peer_cert(&again), new.der);
}

/// Log lines written while a test runs on this thread (current-thread runtime: the
/// server's tasks run here too).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

// Issue 13: plain HTTP to the TLS port, a name with no certificate (SNI), a client that
// stalls mid-handshake and bytes that are not TLS are logged at DEBUG and end only their own
// connection; the server goes on accepting, with its one connection slot free again.
#[tokio::test]
async fn handshake_failures_are_logged_at_debug_and_the_server_goes_on() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let cert = make_cert();
    // Certificates by SNI: only `localhost` has one.
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap();
    let certified =
        rustls::sign::CertifiedKey::from_der(vec![cert.der.clone()], key, &provider()).unwrap();
    let mut by_name = rustls::server::ResolvesServerCertUsingSni::new();
    by_name.add("localhost", certified).unwrap();
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(by_name));
    let mut app = app();
    app.header_read_timeout(Some(Duration::from_millis(500)))
        .max_connections(Some(1));
    let server = TestServer::start_tls(app, TlsConfig::from_rustls(Arc::new(config))).await;
    let client = client_config(&[&cert.der], BOTH, tls13_and_12());

    // Plain HTTP gets a cleartext 400 that says what to do.
    let reply = common::raw(server.addr, b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n").await;
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply:?}");
    assert!(reply.contains("https://"), "{reply:?}");

    // Not TLS, not HTTP: closed.
    let mut garbage = TcpStream::connect(server.addr).await.unwrap();
    garbage.write_all(b"\x00\x01\x02 not tls").await.unwrap();
    assert_eq!(
        read_until_close(&mut garbage, Duration::from_secs(5)).await,
        ""
    );

    // A name the server has no certificate for.
    let error = connect(&server, client.clone(), "unknown.example")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("alert"), "{error}");

    // A client that sends half a record header, then nothing: it holds the only slot until
    // the header-read timeout closes it; a good client waiting meanwhile gets in after.
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01, 0x00]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await; // let the server take it first
    let waiting = tokio::spawn({
        let client = client.clone();
        let addr = server.addr;
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let stream = TlsConnector::from(client)
                .connect(ServerName::try_from("localhost").unwrap(), tcp)
                .await
                .unwrap();
            (Instant::now(), stream)
        }
    });
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), stalled.read(&mut buffer))
        .await
        .expect("the stalled handshake must be closed by the header-read timeout");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let stalled_closed = Instant::now();
    let (handshake_done, stream) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert!(
        handshake_done >= stalled_closed,
        "max_connections(1) must count the handshake"
    );
    let response = http2_over(stream)
        .await
        .send_request(get("/"))
        .await
        .unwrap();
    assert_eq!(text(response).await, "hello over TLS");

    let logs = logs.text();
    for expected in [
        "plain HTTP sent to the TLS port",
        "not a TLS client",
        "TLS handshake failed",
        "TLS handshake not done within the header-read timeout",
    ] {
        let line = logs
            .lines()
            .find(|line| line.contains(expected))
            .unwrap_or_else(|| panic!("no log line with {expected:?} in:\n{logs}"));
        assert!(line.contains("DEBUG"), "{line}");
    }
    assert!(
        !logs
            .lines()
            .any(|line| line.contains(" WARN ") || line.contains("ERROR")),
        "{logs}"
    );
}

// Over HTTP/1.1 an event stream is written by the connection itself once its head is out
// (issue 15); through TLS each event must still leave at once, not wait in the TLS
// layer's buffer for the next one.
#[tokio::test]
async fn an_event_stream_over_tls_and_http1_delivers_each_event_as_it_comes() {
    let cert = make_cert();
    let server = serve_cert(app(), &cert).await;
    let config = client_config(&[&cert.der], &[b"http/1.1"], tls13_and_12());
    let stream = connect(&server, config, "localhost").await.unwrap();
    let response = http1_over(stream)
        .await
        .send_request(get("/events"))
        .await
        .unwrap();
    assert_eq!(response.version(), Version::HTTP_11);
    let mut body = response.into_body();
    for n in 0..4 {
        let frame = tokio::time::timeout(Duration::from_secs(2), body.frame())
            .await
            .expect("each tick arrives within 2 s of the last")
            .unwrap()
            .unwrap();
        let data = frame.into_data().unwrap();
        assert!(
            String::from_utf8_lossy(&data).contains(&format!("data: tick {n}")),
            "{data:?}"
        );
    }
}

// A TLS client that reads nothing of an event stream sent by the connection itself
// (HTTP/1.1, detached from hyper) must be cut at the write-stall timeout as over TCP.
// TLS takes each chunk whole into its own buffer and only the flush finds the socket full:
// the detached sender, waiting on that flush, used to write nothing more, so no write ever
// found the socket full and the stream was held forever.
#[tokio::test]
async fn a_tls_client_that_reads_no_events_is_cut_at_the_write_stall_timeout() {
    let cert = make_cert();
    let (dropped, was_dropped) = tokio::sync::oneshot::channel();
    let guard = Arc::new(Mutex::new(Some(dropped)));
    let mut app = Application::new();
    app.header_read_timeout(None)
        .write_stall_timeout(Some(Duration::from_millis(500)));
    app.http_router
        .add(["GET"], "/firehose", move |_req: HttpRequest| {
            let guard = common::DropGuard(guard.lock().unwrap().take());
            async move {
                let big = "x".repeat(64 * 1024);
                EventStream::new(futures_util::stream::repeat_with(move || {
                    let _held = &guard;
                    Event::data(big.clone())
                }))
            }
        });
    let server = serve_cert(app, &cert).await;
    let config = client_config(&[&cert.der], &[b"http/1.1"], tls13_and_12());
    let mut stream = connect(&server, config, "localhost").await.unwrap();
    stream
        .write_all(b"GET /firehose HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    stream.flush().await.unwrap();
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), was_dropped)
        .await
        .expect("the stream was not dropped within 10 s")
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(500));
    drop(stream);
}

// Graceful shutdown over TLS: an open event stream ends at once (it is marked
// end_on_shutdown) on both protocols, and serve returns long before the shutdown timeout.
#[tokio::test]
async fn graceful_shutdown_over_tls_ends_an_open_event_stream() {
    for alpn in [&b"h2"[..], b"http/1.1"] {
        let cert = make_cert();
        let mut app = app();
        app.shutdown_timeout(Duration::from_secs(60));
        let mut server = serve_cert(app, &cert).await;
        let stream = connect(
            &server,
            client_config(&[&cert.der], &[alpn], tls13_and_12()),
            "localhost",
        )
        .await
        .unwrap();
        let response = if alpn == b"h2" {
            http2_over(stream).await.send_request(get("/events")).await
        } else {
            http1_over(stream).await.send_request(get("/events")).await
        }
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert!(
            String::from_utf8_lossy(&first).contains("data: tick 0"),
            "{first:?}"
        );

        let started = Instant::now();
        server.trigger_stop();
        let served = server.take_handle();
        let drained = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(frame) = body.frame().await {
                if frame.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(drained.is_ok(), "the event stream did not end on shutdown");
        let result = tokio::time::timeout(Duration::from_secs(20), served)
            .await
            .expect("serve did not return before the shutdown timeout");
        result.unwrap().unwrap();
        assert!(started.elapsed() < Duration::from_secs(60));
    }
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let cert = make_cert();
    let other = make_cert();
    let cert_path = temp_file("cert.pem", cert.cert_pem.as_bytes());
    let key_path = temp_file("key.pem", cert.key_pem.as_bytes());
    let other_key_path = temp_file("other-key.pem", other.key_pem.as_bytes());
    let missing = cert_path.with_file_name("missing.pem");
    let not_pem = temp_file(
        "broken.pem",
        b"-----BEGIN CERTIFICATE-----\n!!! not base64 !!!\n-----END CERTIFICATE-----\n",
    );
    let empty = temp_file("empty.pem", b"");

    let message =
        |result: Result<TlsConfig, bareasgi::tls::TlsError>| result.unwrap_err().to_string();
    let show = |path: &PathBuf| path.display().to_string();

    assert!(TlsConfig::from_pem_files(&cert_path, &key_path).is_ok());

    let text = message(TlsConfig::from_pem_files(&missing, &key_path));
    assert!(
        text.starts_with(&format!(
            "cannot read the certificate file {}",
            show(&missing)
        )),
        "{text}"
    );
    let text = message(TlsConfig::from_pem_files(&cert_path, &missing));
    assert!(
        text.starts_with(&format!(
            "cannot read the private key file {}",
            show(&missing)
        )),
        "{text}"
    );

    let text = message(TlsConfig::from_pem_files(&key_path, &cert_path));
    assert!(
        text.contains(&show(&key_path)) && text.contains("swapped"),
        "{text}"
    );

    let text = message(TlsConfig::from_pem_files(&cert_path, &other_key_path));
    assert_eq!(
        text,
        format!(
            "the private key in {} does not match the certificate in {}",
            show(&other_key_path),
            show(&cert_path)
        )
    );

    let text = message(TlsConfig::from_pem_files(&not_pem, &key_path));
    assert!(
        text.starts_with(&format!("{} is not valid PEM", show(&not_pem))),
        "{text}"
    );

    let text = message(TlsConfig::from_pem_files(&cert_path, &empty));
    assert!(
        text.starts_with(&format!("{} holds no private key", show(&empty))),
        "{text}"
    );

    let text = message(TlsConfig::from_pem_files(
        fixture("ec-cert.pem"),
        fixture("ec-encrypted-key.pem"),
    ));
    assert!(
        text.contains("ec-encrypted-key.pem") && text.contains("encrypted"),
        "{text}"
    );

    let error = TlsConfig::from_pem_files(&cert_path, &empty).unwrap_err();
    assert_eq!(error.path(), Some(empty.as_path()));

    let text = message(TlsConfig::from_pem("", cert.key_pem.as_bytes()));
    assert!(
        text.starts_with("the certificate PEM holds no certificate"),
        "{text}"
    );
    let text = message(TlsConfig::from_pem(&cert.cert_pem, &other.key_pem));
    assert_eq!(
        text,
        "the private key in the private key PEM does not match the certificate in the certificate PEM"
    );

    // `?` in a main returning bareasgi::Error keeps the message.
    let error = bareasgi::Error::from(TlsConfig::from_pem_files(&missing, &key_path).unwrap_err());
    assert!(error.is_tls());
    assert!(error.to_string().contains(&show(&missing)), "{error}");
}
