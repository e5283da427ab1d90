//! HTTPS (feature `tls`): [`TlsConfig`], the certificate and key
//! [`Application::serve_tls`](crate::Application::serve_tls) serves with.
//!
//! ```no_run
//! use bareasgi::tls::TlsConfig;
//! use bareasgi::{Application, HttpRequest, IntoResponse};
//!
//! async fn index(_req: HttpRequest) -> impl IntoResponse {
//!     (200, [("content-type", "text/plain")], "Hello over TLS!")
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), bareasgi::Error> {
//!     let mut app = Application::new();
//!     app.http_router.add(["GET"], "/", index);
//!     let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
//!     app.serve_tls("0.0.0.0:8443", tls).await
//! }
//! ```
//!
//! Over TLS the protocol is chosen by ALPN: the server offers `h2` and `http/1.1`, so
//! browsers get HTTP/2 and with it as many event streams per page as they like (over
//! HTTP/1.1 they open at most six connections per origin, and a seventh `EventSource`
//! waits). HTTP/2 over TLS is served with the same limits and timeouts as HTTP/2 without;
//! the handshake must finish within the
//! [header-read timeout](crate::Application::header_read_timeout).
//!
//! The cryptography is rustls's, with [aws-lc-rs](https://docs.rs/aws-lc-rs) as the
//! provider, rustls's own default (or the process default, when the application installed
//! one with
//! [`CryptoProvider::install_default`](rustls::crypto::CryptoProvider::install_default));
//! [`TlsConfig::from_rustls`] takes a `ServerConfig` built with any provider.
//!
//! # Key exchange
//! The groups offered, in order of preference, are aws-lc-rs's defaults:
//! `X25519MLKEM768` (post-quantum: ML-KEM-768 in hybrid with X25519, what current Chrome,
//! Firefox and Safari offer first), then `secp384r1`, `X25519` and `secp256r1`. A client
//! that offers the hybrid gets it; any other gets the best classical group both know. With
//! another provider installed as the process default its groups apply instead (ring, for
//! one, has no post-quantum group: rustls 0.23.48 deprecated its provider for that).
//!
//! Certificates can be replaced while serving, for example after a renewal:
//! [`TlsConfig::reload_from_pem_files`] on a clone of the config passed to `serve_tls`.
//! New handshakes use the new certificate; connections already open keep theirs.

mod error;
mod pem;

use std::fmt;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

pub use error::TlsError;
pub use rustls;
use rustls::ServerConfig;

use pem::Origin;

/// The ALPN protocols offered, in order of preference.
fn alpn() -> Vec<Vec<u8>> {
    vec![b"h2".to_vec(), b"http/1.1".to_vec()]
}

/// The TLS settings of a server: its certificate chain and private key (or any rustls
/// [`ServerConfig`]), replaceable while it serves.
///
/// Clones share the configuration: keep one to [reload](Self::reload_from_pem_files) the
/// certificate of the server the other was given to.
#[derive(Clone)]
pub struct TlsConfig {
    /// Read once per handshake; replaced whole by the `reload_*` methods.
    current: Arc<RwLock<Arc<ServerConfig>>>,
}

impl TlsConfig {
    /// Loads the certificate chain (leaf first, then intermediates) from `cert_path` and the
    /// private key (PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted) from `key_path`, both PEM.
    /// The server offers TLS 1.3 and 1.2, ALPN `h2` and `http/1.1`, and presents this
    /// certificate whatever name the client asks for (SNI).
    ///
    /// The files are read at once, synchronously (they are small).
    ///
    /// # Errors
    /// When a file cannot be read, holds no certificate or no private key, is not PEM, or
    /// the key does not match the certificate; the error names the file.
    pub fn from_pem_files(
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let config = config_from_files(cert_path.as_ref(), key_path.as_ref())?;
        Ok(Self::new(Arc::new(config)))
    }

    /// As [`from_pem_files`](Self::from_pem_files), from the PEM texts themselves.
    ///
    /// # Errors
    /// When a text holds no certificate or no private key, is not PEM, or the key does not
    /// match the certificate.
    pub fn from_pem(
        cert_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<Self, TlsError> {
        let config = config_from_pem(cert_pem.as_ref(), key_pem.as_ref())?;
        Ok(Self::new(Arc::new(config)))
    }

    /// Serves with a rustls configuration of your own: another crypto provider, client
    /// certificates, certificates chosen by SNI, session tickets.
    ///
    /// When its `alpn_protocols` is empty the server offers `h2` and `http/1.1`; otherwise
    /// the list is kept as given (a config offering only `http/1.1` serves HTTP/1.1 only).
    /// A client that negotiates no ALPN protocol is served HTTP/2 if it starts with the
    /// HTTP/2 preface, HTTP/1.1 otherwise.
    #[must_use]
    pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
        Self::new(with_alpn(config))
    }

    /// Replaces the certificate and key with those in the PEM files, for the handshakes
    /// that start from now on; open connections keep the certificate they were made with.
    ///
    /// # Errors
    /// As [`from_pem_files`](Self::from_pem_files); the current certificate then stays.
    pub fn reload_from_pem_files(
        &self,
        cert_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<(), TlsError> {
        let config = config_from_files(cert_path.as_ref(), key_path.as_ref())?;
        self.replace(Arc::new(config));
        Ok(())
    }

    /// As [`reload_from_pem_files`](Self::reload_from_pem_files), from the PEM texts.
    ///
    /// # Errors
    /// As [`from_pem`](Self::from_pem); the current certificate then stays.
    pub fn reload_from_pem(
        &self,
        cert_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<(), TlsError> {
        let config = config_from_pem(cert_pem.as_ref(), key_pem.as_ref())?;
        self.replace(Arc::new(config));
        Ok(())
    }

    /// Replaces the whole rustls configuration for the handshakes that start from now on,
    /// with ALPN filled in as by [`from_rustls`](Self::from_rustls).
    pub fn reload_from_rustls(&self, config: Arc<ServerConfig>) {
        self.replace(with_alpn(config));
    }

    /// The rustls configuration the next handshake will use.
    #[must_use]
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn new(config: Arc<ServerConfig>) -> Self {
        Self {
            current: Arc::new(RwLock::new(config)),
        }
    }

    fn replace(&self, config: Arc<ServerConfig>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = config;
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.server_config();
        let alpn: Vec<_> = config
            .alpn_protocols
            .iter()
            .map(|protocol| String::from_utf8_lossy(protocol).into_owned())
            .collect();
        f.debug_struct("TlsConfig")
            .field("alpn", &alpn)
            .finish_non_exhaustive()
    }
}

fn config_from_files(cert_path: &Path, key_path: &Path) -> Result<ServerConfig, TlsError> {
    let cert_text = pem::read(cert_path, "certificate")?;
    let key_text = pem::read(key_path, "private key")?;
    let (cert_origin, key_origin) = (Origin::File(cert_path), Origin::File(key_path));
    let chain = pem::certificates(&cert_text, cert_origin)?;
    let key = pem::private_key(&key_text, key_origin)?;
    pem::server_config(chain, key, cert_origin, key_origin)
}

fn config_from_pem(cert_text: &[u8], key_text: &[u8]) -> Result<ServerConfig, TlsError> {
    let (cert_origin, key_origin) = (Origin::Text("certificate"), Origin::Text("private key"));
    let chain = pem::certificates(cert_text, cert_origin)?;
    let key = pem::private_key(key_text, key_origin)?;
    pem::server_config(chain, key, cert_origin, key_origin)
}

fn with_alpn(config: Arc<ServerConfig>) -> Arc<ServerConfig> {
    if !config.alpn_protocols.is_empty() {
        return config;
    }
    let mut config = Arc::unwrap_or_clone(config);
    config.alpn_protocols = alpn();
    Arc::new(config)
}
