//! How every example serves: on `127.0.0.1:$PORT`, over HTTPS (HTTP/2 and HTTP/1.1 by
//! ALPN) when `TLS_CERT` and `TLS_KEY` name PEM files, over cleartext HTTP otherwise.
//!
//! ```text
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
//!     -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
//!     -keyout key.pem -out cert.pem
//! TLS_CERT=cert.pem TLS_KEY=key.pem cargo run --features tls --example sse_clock
//! ```

use bareasgi::Application;

/// Serves `app` until Ctrl-C, on `$PORT` (`default_port` when unset). The first line
/// printed is the URL (with `path`), once the certificate, if any, has loaded.
///
/// Logs go to the console through a `tracing` subscriber (`info` by default, `RUST_LOG` to
/// change it): the library never prints, so without one a handler's 500 would go unexplained.
pub async fn serve(app: Application, default_port: u16, path: &str) -> Result<(), bareasgi::Error> {
    // `try_init`: an example that is also compiled into a test may find one installed.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(default_port);
    let addr = format!("127.0.0.1:{port}");
    match (std::env::var_os("TLS_CERT"), std::env::var_os("TLS_KEY")) {
        (None, None) => {}
        #[cfg(feature = "tls")]
        (Some(cert), Some(key)) => {
            let tls = bareasgi::tls::TlsConfig::from_pem_files(cert, key)?;
            println!("Listening on https://localhost:{port}{path}");
            return app.serve_tls(addr, tls).await;
        }
        #[cfg(not(feature = "tls"))]
        (Some(_), Some(_)) => {
            eprintln!(
                "TLS_CERT and TLS_KEY are set, but HTTPS needs the `tls` feature: cargo run --features tls --example ..."
            );
            std::process::exit(2);
        }
        _ => {
            eprintln!("set both TLS_CERT and TLS_KEY to serve HTTPS, or neither");
            std::process::exit(2);
        }
    }
    println!("Listening on http://localhost:{port}{path}");
    app.serve(addr).await
}
