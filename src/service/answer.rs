//! The handler's answer as hyper's response: `HEAD` answered, a contradicted length
//! dropped, an HTTP/1.0 answer of unknown length marked as ending with the connection, and
//! a long-lived body readied to leave hyper (see `server::handoff`) where it may.

use http::{Response, Version};

use super::Shared;
use crate::body::Body;
use crate::body::in_flight::InFlight;
use crate::detachable::{Framing, sent_chunked};
use crate::response::{Head, HttpResponse, answer_head, drop_wrong_content_length};

pub(super) fn into_hyper(
    response: HttpResponse,
    head: Head,
    framing: Framing,
    shared: &Shared,
    in_flight: Option<InFlight>,
) -> Response<Body> {
    let HttpResponse {
        status,
        mut headers,
        mut body,
    } = response;
    if shared.header_room > 0 {
        headers.reserve(shared.header_room);
    }
    let mut version = Version::HTTP_11;
    match head {
        Head::Here => answer_head(&mut headers, &mut body),
        // A `HEAD` answer's body may be empty with the `GET` length declared (ServeDir's).
        Head::Outside => body.prepare_to_send(&shared.shutdown, in_flight, false),
        Head::No => {
            drop_wrong_content_length(&mut headers, &body);
            framing.declare_close(&mut version, &mut headers, body.exact_len());
            let detach = framing == Framing::Detachable
                && body.is_long_lived()
                && sent_chunked(status, &headers);
            body.prepare_to_send(&shared.shutdown, in_flight, detach);
        }
    }
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.version_mut() = version;
    let unused = std::mem::replace(response.headers_mut(), headers);
    // The map `Response::new` made, empty: `HeaderMap::new` documents that it does not
    // allocate, so there is nothing to free, and dropping it would still cost an
    // out-of-line call (about 60 instructions on every request).
    debug_assert_eq!(unused.capacity(), 0);
    std::mem::forget(unused);
    response
}
