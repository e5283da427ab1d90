//! An HTTP/1.1 connection: served by hyper, except while a long-lived response body is
//! sent by the connection itself (see `handoff`), after which hyper serves it again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::connection::{Connection, Io};
use super::handoff::{Detached, Ended};
use super::host;
use super::io::Metered;
use super::sniffed::Sniffed;
use crate::body::in_flight::{Activity, InFlight};
use crate::service::AppService;

/// The application as an HTTP/1.1 connection's service: each request is counted in the
/// connection's [`Activity`], and one with a missing or bad `Host` is answered `400`.
#[derive(Clone)]
pub(super) struct Http1Service {
    app: AppService,
    activity: Arc<Activity>,
    known_host: host::KnownHost,
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for Http1Service {
    type Response = hyper::Response<crate::Body>;
    type Error = std::convert::Infallible;
    type Future = crate::ResponseFuture;

    fn call(&self, request: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        let checked = host::check(request.version(), request.headers(), &self.known_host);
        if let Some(problem) = checked.problem {
            tracing::debug!(problem, "refused a request");
            return self.app.answer(host::bad_request(problem));
        }
        let in_flight = InFlight::start(&self.activity, checked.close_requested);
        self.app.respond(request, Some(in_flight))
    }
}

type Hyper<I> = http1::UpgradeableConnection<Io<I>, Http1Service>;

/// Who is sending on the connection.
// The detached state is what an event stream holds for hours: inline in the task, where
// boxing it would add an allocation; hyper's, used briefly, is the boxed one.
#[allow(clippy::large_enum_variant)]
enum State<I> {
    /// hyper. Boxed, so that its state (a few hundred bytes, besides its buffers) goes
    /// with it while a detached body is sent.
    Hyper(Pin<Box<Hyper<I>>>),
    /// The connection itself, a long-lived body.
    Detached {
        socket: Metered<Sniffed<I>>,
        sender: Detached,
        /// What hyper had read beyond the request (a pipelined one), for when it is back.
        read_ahead: Bytes,
        service: Http1Service,
    },
    /// The connection, closing after a detached body during a graceful shutdown.
    Closing(Metered<Sniffed<I>>),
    Done,
}

/// An HTTP/1.1 connection, as `drive` sees it.
pub(super) struct Http1Connection<'a, I> {
    builder: &'a http1::Builder,
    activity: Arc<Activity>,
    state: State<I>,
    /// A graceful shutdown started: no more requests after the current one.
    draining: bool,
}

impl<'a, I> Http1Connection<'a, I>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    pub(super) fn new(
        builder: &'a http1::Builder,
        io: Io<I>,
        app: AppService,
        activity: Arc<Activity>,
    ) -> Self {
        let service = Http1Service {
            app,
            activity: activity.clone(),
            known_host: host::KnownHost::default(),
        };
        Self {
            builder,
            state: State::Hyper(Self::hyper(builder, io, service)),
            activity,
            draining: false,
        }
    }

    fn hyper(builder: &http1::Builder, io: Io<I>, service: Http1Service) -> Pin<Box<Hyper<I>>> {
        Box::pin(builder.serve_connection(io, service).with_upgrades())
    }

    /// Takes the socket from hyper, which has written everything before the offered body.
    fn detach(&mut self, body: crate::Body) {
        let State::Hyper(hyper) = std::mem::replace(&mut self.state, State::Done) else {
            unreachable!("a body is only offered while hyper serves");
        };
        let parts = Pin::into_inner(hyper)
            .into_parts()
            .expect("a connection that is sending a response has not been upgraded");
        self.state = State::Detached {
            socket: parts.io.into_inner(),
            sender: Detached::new(body, !parts.read_buf.is_empty()),
            // A copy, usually of nothing: hyper's 8 KiB read buffer is freed now.
            read_ahead: Bytes::copy_from_slice(&parts.read_buf),
            service: parts.service,
        };
    }

    /// After a detached body: hyper again, or closing.
    fn after_detached(&mut self, ended: Result<Ended, crate::error::BoxError>) -> bool {
        let State::Detached {
            mut socket,
            read_ahead,
            service,
            ..
        } = std::mem::replace(&mut self.state, State::Done)
        else {
            unreachable!("called after a detached body");
        };
        match ended {
            Ok(Ended::Complete { received }) if !self.draining => {
                socket.get_mut().rewind(read_ahead, received);
                self.state = State::Hyper(Self::hyper(self.builder, TokioIo::new(socket), service));
                true
            }
            Ok(Ended::Complete { .. }) => {
                self.state = State::Closing(socket);
                true
            }
            Ok(Ended::ClientLeft) => false,
            Err(error) => {
                // Closed without the last chunk: the client sees a truncated body.
                tracing::debug!(%error, "a streamed response body failed; closing the connection");
                false
            }
        }
    }
}

impl<I> Future for Http1Connection<'_, I>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = Result<(), hyper::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Hyper(hyper) => {
                    if let Poll::Ready(result) = hyper.as_mut().poll(cx) {
                        this.state = State::Done;
                        return Poll::Ready(result);
                    }
                    // A body offers itself on hyper's first poll of it; hyper has flushed
                    // the head by the time it returns, unless the socket was full.
                    let Some(body) = this.activity.handoff.take() else {
                        return Poll::Pending;
                    };
                    this.detach(body);
                }
                State::Detached { socket, sender, .. } => {
                    let ended = ready!(sender.poll_send(socket, cx));
                    if !this.after_detached(ended) {
                        return Poll::Ready(Ok(()));
                    }
                }
                State::Closing(socket) => {
                    let _ = ready!(Pin::new(socket).poll_shutdown(cx));
                    this.state = State::Done;
                }
                State::Done => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// However the connection ends (hyper's error after a head it could not flush, the
/// write-stall watchdog, a hard stop, the client leaving), a body offered to it and not yet
/// taken is dropped with it: the offer and the body hold each other (see
/// `Handoff::withdraw`), and only the connection can break that tie.
impl<I> Drop for Http1Connection<'_, I> {
    fn drop(&mut self) {
        drop(self.activity.handoff.withdraw());
    }
}

impl<I> Connection for Http1Connection<'_, I>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    const IS_HTTP2: bool = false;

    fn start_graceful_shutdown(self: Pin<&mut Self>) {
        let this = self.get_mut();
        this.draining = true;
        if let State::Hyper(hyper) = &mut this.state {
            hyper.as_mut().graceful_shutdown();
        }
    }
}
