//! [`TlsError`]: why a certificate or key could not be loaded, naming the file.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::BoxError;

/// A certificate or private key that could not be loaded into a
/// [`TlsConfig`](super::TlsConfig).
///
/// Its message names the file (or, for [`TlsConfig::from_pem`](super::TlsConfig::from_pem),
/// which of the two PEM texts) and the problem, so `main` returning it says what to fix:
///
/// ```text
/// certs/key.pem holds no private key (expected a PEM "PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY" block)
/// the private key in certs/key.pem does not match the certificate in certs/cert.pem
/// ```
pub struct TlsError {
    message: String,
    path: Option<PathBuf>,
    source: Option<BoxError>,
}

impl TlsError {
    pub(super) fn new(message: String, path: Option<&Path>) -> Self {
        Self {
            message,
            path: path.map(Path::to_path_buf),
            source: None,
        }
    }

    pub(super) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The file at fault, when the certificate and key came from files.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Debug for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsError")
            .field("message", &self.message)
            .field("path", &self.path)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        // The cause is part of the message so that `main` returning this error says why.
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// So that `TlsConfig::from_pem_files(..)?` works in a `main` returning [`crate::Error`].
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
impl From<TlsError> for crate::Error {
    fn from(error: TlsError) -> Self {
        Self::tls(error.into())
    }
}
