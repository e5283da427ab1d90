//! Bare hyper 1.x: the baseline. `hyper_server [PORT] [--auto | --tls CERT KEY]`.
//!
//! Routing is a `match` on the path; the captures route is parsed by hand. By default each
//! connection is served by `hyper::server::conn::http1` (hyper's own hello example);
//! `--auto` serves it with hyper-util's HTTP/1.1 + HTTP/2 auto builder instead, the one
//! axum and bareasgi use, to tell the cost of the builder from the cost of the framework.
//! `--tls` serves HTTPS the bare way: tokio-rustls with aws-lc-rs (as bareasgi's `tls` feature),
//! ALPN `h2` and `http/1.1`, then hyper's http2 or http1 builder as ALPN chose; no
//! handshake timeout, no connection limit.

use std::convert::Infallible;

use std::sync::Arc;

use bareasgi_bench_servers::{CHUNKS, HELLO, chunk, port, tls_paths};
use bytes::Bytes;
use futures_util::stream;
use http_body_util::{Either, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use percent_encoding::percent_decode_str;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

type Chunks = stream::Iter<
    std::iter::Map<std::ops::Range<usize>, fn(usize) -> Result<Frame<Bytes>, Infallible>>,
>;
type Body = Either<Full<Bytes>, StreamBody<Chunks>>;

fn data_frame(_: usize) -> Result<Frame<Bytes>, Infallible> {
    Ok(Frame::data(chunk()))
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(body.into())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// `/users/{id:int}/posts/{slug}` by hand: the id must fit an `i64`, the slug is one
/// non-empty segment, percent-decoded.
fn user_post(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/users/")?;
    let (id, rest) = rest.split_once('/')?;
    let slug = rest.strip_prefix("posts/")?;
    if slug.is_empty() || slug.contains('/') {
        return None;
    }
    let id: i64 = id.parse().ok()?;
    let slug = percent_decode_str(slug).decode_utf8().ok()?;
    Some(format!("user {id} post {slug}"))
}

async fn handle(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if request.method() != Method::GET {
        return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"));
    }
    let path = request.uri().path();
    Ok(match path {
        "/" => text(StatusCode::OK, HELLO),
        "/stream" => {
            let chunks: Chunks = stream::iter((0..CHUNKS).map(data_frame as fn(usize) -> _));
            let mut response = Response::new(Either::Right(StreamBody::new(chunks)));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            response
        }
        _ => match user_post(path) {
            Some(body) => text(StatusCode::OK, body),
            None => text(StatusCode::NOT_FOUND, "Not Found"),
        },
    })
}

fn tls_acceptor(cert: &str, key: &str) -> TlsAcceptor {
    let chain = CertificateDer::pem_file_iter(cert)
        .expect("certificate file")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificate PEM");
    let key = PrivateKeyDer::from_pem_file(key).expect("private key PEM");
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS 1.3 and 1.2")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    TlsAcceptor::from(Arc::new(config))
}

async fn serve_tls(acceptor: TlsAcceptor, stream: TcpStream) {
    let Ok(stream) = acceptor.accept(stream).await else {
        return;
    };
    let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = TokioIo::new(stream);
    if http2 {
        let _ = http2::Builder::new(TokioExecutor::new())
            .serve_connection(io, service_fn(handle))
            .await;
    } else {
        let _ = http1::Builder::new()
            .serve_connection(io, service_fn(handle))
            .await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let use_auto = std::env::args().any(|arg| arg == "--auto");
    let listener = TcpListener::bind(("127.0.0.1", port())).await?;
    if let Some((cert, key)) = tls_paths() {
        let acceptor = tls_acceptor(&cert, &key);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            // The handshake runs in the connection's task, as bareasgi's does.
            tokio::spawn(serve_tls(acceptor.clone(), stream));
        }
    }
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let io = TokioIo::new(stream);
        tokio::spawn(async move {
            // Errors are the client going away mid-request; nothing to do about them.
            if use_auto {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(io, service_fn(handle))
                    .await;
            } else {
                let _ = http1::Builder::new()
                    .serve_connection(io, service_fn(handle))
                    .await;
            }
        });
    }
}
