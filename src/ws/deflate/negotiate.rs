//! The negotiation of RFC 7692 §7.1: reading a client's `sec-websocket-extensions` offers,
//! choosing the first one the server can honour, and the response that says what was
//! agreed; and, for the test client, the offer a browser makes and the check of the answer.

use http::{HeaderMap, HeaderValue};

use super::config::Deflate;

const NAME: &str = "permessage-deflate";

/// What both sides agreed to: each side's window and whether it keeps its context from one
/// message to the next, with the server's own settings for what is left to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) level: u32,
    pub(crate) min_size: usize,
}

/// One `permessage-deflate` offer (or response), its parameters read and checked.
#[derive(Debug, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the parameter without a value ("tell me").
    client_max_window_bits: Option<Option<u8>>,
}

/// The server's side: the first offer in `headers` it can honour, with the response
/// header value; `None` when the client offered nothing it can honour (then the
/// conversation goes on without compression, as RFC 7692 §5 lets it).
pub(crate) fn accept(headers: &HeaderMap, config: &Deflate) -> Option<(HeaderValue, Params)> {
    let offer = offers(headers).find_map(|offer| parse_offer(offer).ok())?;
    let server_max_window_bits = offer
        .server_max_window_bits
        .map_or(config.server_max_window_bits, |bits| {
            bits.min(config.server_max_window_bits)
        });
    let client_max_window_bits = match offer.client_max_window_bits {
        None => 15,
        Some(None) => config.client_max_window_bits,
        Some(Some(bits)) => bits.min(config.client_max_window_bits),
    };
    let params = Params {
        server_max_window_bits,
        client_max_window_bits,
        server_no_context_takeover: offer.server_no_context_takeover
            || config.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover,
        level: config.level,
        min_size: config.min_size,
    };
    let mut response = String::from(NAME);
    if params.server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if params.client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    // Without an offer of it, the server may still announce a smaller window of its own.
    if offer.server_max_window_bits.is_some() || server_max_window_bits < 15 {
        response.push_str(&format!(
            "; server_max_window_bits={server_max_window_bits}"
        ));
    }
    // §7.1.2.2: only when offered, and then the server may name any value up to the offer.
    if offer.client_max_window_bits.is_some() {
        response.push_str(&format!(
            "; client_max_window_bits={client_max_window_bits}"
        ));
    }
    let value = HeaderValue::from_str(&response).expect("ASCII made here");
    Some((value, params))
}

/// The offer a client makes, as browsers make it.
pub(crate) fn client_offer() -> HeaderValue {
    HeaderValue::from_static("permessage-deflate; client_max_window_bits")
}

/// The client's side: what the server's response agrees to; `Ok(None)` when it declined.
///
/// # Errors
/// When the server answered with something the client did not offer or RFC 7692 forbids.
pub(crate) fn client_accept(headers: &HeaderMap) -> Result<Option<Params>, &'static str> {
    let mut responses = offers(headers);
    let Some(response) = responses.next() else {
        return Ok(None);
    };
    if responses.next().is_some() {
        return Err("the server accepted more than one extension");
    }
    let response = parse_offer(response)?;
    let client_max_window_bits = match response.client_max_window_bits {
        Some(Some(bits)) => bits,
        Some(None) => return Err("client_max_window_bits without a value in a response"),
        None => 15,
    };
    Ok(Some(Params {
        server_max_window_bits: response.server_max_window_bits.unwrap_or(15),
        client_max_window_bits,
        server_no_context_takeover: response.server_no_context_takeover,
        client_no_context_takeover: response.client_no_context_takeover,
        level: 6,
        min_size: 0,
    }))
}

/// Each extension listed in `sec-websocket-extensions`, over all its headers; only
/// `permessage-deflate` ones are yielded (as their parameter lists), the rest ignored.
fn offers(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(http::header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|extension| {
            let (name, params) = extension.split_once(';').unwrap_or((extension, ""));
            name.trim().eq_ignore_ascii_case(NAME).then_some(params)
        })
}

/// Reads the parameters of one offer; any unknown, repeated or malformed parameter makes
/// the whole offer one to decline (§7).
fn parse_offer(params: &str) -> Result<Offer, &'static str> {
    let mut offer = Offer::default();
    for param in params.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                (name.trim(), Some(value))
            }
            None => (param, None),
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover", None) if !offer.server_no_context_takeover => {
                offer.server_no_context_takeover = true;
            }
            ("client_no_context_takeover", None) if !offer.client_no_context_takeover => {
                offer.client_no_context_takeover = true;
            }
            ("server_max_window_bits", Some(value)) if offer.server_max_window_bits.is_none() => {
                offer.server_max_window_bits = Some(window_bits(value)?);
            }
            ("client_max_window_bits", value) if offer.client_max_window_bits.is_none() => {
                offer.client_max_window_bits = Some(value.map(window_bits).transpose()?);
            }
            _ => return Err("an unknown, repeated or malformed permessage-deflate parameter"),
        }
    }
    Ok(offer)
}

/// A window size: a decimal 8 to 15 without leading zeros (§7.1.2.1).
fn window_bits(value: &str) -> Result<u8, &'static str> {
    match value {
        "8" | "9" | "10" | "11" | "12" | "13" | "14" | "15" => {
            Ok(value.parse().expect("one of the listed numbers"))
        }
        _ => Err("a window size must be 8 to 15"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                http::header::SEC_WEBSOCKET_EXTENSIONS,
                HeaderValue::from_static(value),
            );
        }
        headers
    }

    fn answer(values: &[&'static str], config: Deflate) -> Option<(String, Params)> {
        accept(&offered(values), &config)
            .map(|(value, params)| (value.to_str().unwrap().to_owned(), params))
    }

    #[test]
    fn a_browser_offer_is_accepted_with_the_client_window_named() {
        let (response, params) = answer(
            &["permessage-deflate; client_max_window_bits"],
            Deflate::default(),
        )
        .unwrap();
        assert_eq!(response, "permessage-deflate; client_max_window_bits=15");
        assert_eq!(params.server_max_window_bits, 15);
        assert!(!params.server_no_context_takeover);
    }

    #[test]
    fn windows_are_the_smaller_of_the_offer_and_the_settings() {
        let config = Deflate::default()
            .server_max_window_bits(12)
            .client_max_window_bits(10);
        let (response, params) = answer(
            &["permessage-deflate; server_max_window_bits=14; client_max_window_bits=\"11\""],
            config,
        )
        .unwrap();
        assert_eq!(
            response,
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10"
        );
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (12, 10)
        );
        // Not offered: the server still names its own smaller window, never the client's.
        let (response, _) = answer(&["permessage-deflate"], config).unwrap();
        assert_eq!(response, "permessage-deflate; server_max_window_bits=12");
    }

    #[test]
    fn no_context_takeover_is_echoed_both_ways_and_can_be_imposed_by_the_server() {
        let (response, params) = answer(
            &["permessage-deflate; client_no_context_takeover; server_no_context_takeover"],
            Deflate::default(),
        )
        .unwrap();
        assert_eq!(
            response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        assert!(params.server_no_context_takeover && params.client_no_context_takeover);
        let config = Deflate::default().server_no_context_takeover(true);
        let (response, _) = answer(&["permessage-deflate"], config).unwrap();
        assert_eq!(response, "permessage-deflate; server_no_context_takeover");
    }

    #[test]
    fn a_bad_offer_is_declined_and_the_next_one_taken() {
        for bad in [
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=016",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; x-unknown",
            "x-webkit-deflate-frame",
        ] {
            assert_eq!(answer(&[bad], Deflate::default()), None, "{bad}");
        }
        let (response, params) = answer(
            &[
                "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=4",
                "permessage-deflate; server_max_window_bits=9",
            ],
            Deflate::default(),
        )
        .unwrap();
        assert_eq!(response, "permessage-deflate; server_max_window_bits=9");
        assert_eq!(params.server_max_window_bits, 9);
    }

    #[test]
    fn the_client_reads_what_the_server_agreed_to() {
        let agreed = client_accept(&offered(&[
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=9",
        ]))
        .unwrap()
        .unwrap();
        assert!(agreed.server_no_context_takeover);
        assert_eq!(agreed.client_max_window_bits, 9);
        assert_eq!(client_accept(&HeaderMap::new()), Ok(None));
        assert!(client_accept(&offered(&["permessage-deflate; client_max_window_bits"])).is_err());
    }
}
