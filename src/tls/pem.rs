//! From PEM text to a rustls `ServerConfig`, with errors that name the file and the problem.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;

/// Where a PEM text came from, for the error messages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin<'a> {
    File(&'a Path),
    /// `TlsConfig::from_pem`'s arguments: "certificate" or "private key".
    Text(&'static str),
}

impl Origin<'_> {
    fn error(self, message: String) -> TlsError {
        match self {
            Origin::File(path) => TlsError::new(message, Some(path)),
            Origin::Text(_) => TlsError::new(message, None),
        }
    }
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Text(what) => write!(f, "the {what} PEM"),
        }
    }
}

/// Reads a PEM file whole: certificates and keys are small.
pub(super) fn read(path: &Path, what: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| {
        TlsError::new(
            format!("cannot read the {what} file {}", path.display()),
            Some(path),
        )
        .with_source(error)
    })
}

/// The certificate chain, leaf first, as the PEM text lists it.
pub(super) fn certificates(
    text: &[u8],
    origin: Origin<'_>,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| not_pem(origin, error))?;
    if chain.is_empty() {
        let hint = if PrivateKeyDer::from_pem_slice(text).is_ok() {
            " but a private key: are the certificate and key swapped?"
        } else {
            " (expected a PEM \"CERTIFICATE\" block)"
        };
        return Err(origin.error(format!("{origin} holds no certificate{hint}")));
    }
    Ok(chain)
}

/// The first private key of the PEM text: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
pub(super) fn private_key(
    text: &[u8],
    origin: Origin<'_>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    match PrivateKeyDer::from_pem_slice(text) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => {
            let hint = if contains(text, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
                " but an encrypted one; decrypt it first (openssl pkey -in KEY -out PLAIN_KEY)"
            } else if CertificateDer::from_pem_slice(text).is_ok() {
                " but a certificate: are the certificate and key swapped?"
            } else {
                " (expected a PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block)"
            };
            Err(origin.error(format!("{origin} holds no private key{hint}")))
        }
        Err(error) => Err(not_pem(origin, error)),
    }
}

fn not_pem(origin: Origin<'_>, error: pem::Error) -> TlsError {
    origin
        .error(format!("{origin} is not valid PEM"))
        .with_source(error)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The crypto provider for configurations built from PEM: the process default when the
/// application installed one (`CryptoProvider::install_default`), otherwise aws-lc-rs,
/// whose default key-exchange groups put the post-quantum hybrid X25519MLKEM768 first
/// (rustls 0.23.48 deprecated ring's provider for lacking it).
fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// A configuration serving `chain` with `key` to every client (whatever its SNI), TLS 1.3
/// and 1.2, ALPN from [`super::alpn`].
pub(super) fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    cert_origin: Origin<'_>,
    key_origin: Origin<'_>,
) -> Result<ServerConfig, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| {
            TlsError::new(
                "the crypto provider supports neither TLS 1.3 nor TLS 1.2".to_owned(),
                None,
            )
            .with_source(error)
        })?;
    let mut config = builder
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| match error {
            rustls::Error::InconsistentKeys(_) => key_origin.error(format!(
                "the private key in {key_origin} does not match the certificate in {cert_origin}"
            )),
            other => key_origin
                .error(format!("the private key in {key_origin} cannot be used"))
                .with_source(other),
        })?;
    config.alpn_protocols = super::alpn();
    Ok(config)
}
