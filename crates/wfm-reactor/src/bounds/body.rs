//! Reading an upstream answer's body with a size cap, chunk by chunk.
//!
//! `Response::bytes()` and `text()` read whatever the server sends; a hostile or broken
//! server (or a proxy's error page in a loop) could then exhaust memory with one answer.
//! Every REST answer is read here instead, stopping as soon as the route's cap is
//! passed (contract, second tranche: "Every REST answer is read with a per-route size
//! cap").

use bytes::{Bytes, BytesMut};

/// Cap on the token call's answer: a token response is well under 8 KiB.
pub const TOKEN_BODY: u64 = 64 * 1024;
/// Cap on notifications API answers (a channel, a subscription listing of ~1000 topics).
pub const CHANNEL_BODY: u64 = 4 * 1024 * 1024;
/// Cap on inline WFM answers (lists of units, users, presence pages, inline schedules).
pub const WFM_BODY: u64 = 64 * 1024 * 1024;

/// Most bytes reserved up front on the strength of `Content-Length` alone (a server may
/// announce more than it sends).
const PREALLOCATE: u64 = 8 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// More than the cap arrived (or was announced by `Content-Length`).
    #[error("{route}: answer larger than {cap} bytes")]
    TooLarge {
        /// Which call.
        route: &'static str,
        /// The cap passed.
        cap: u64,
    },
    /// The connection failed mid-body.
    #[error("{route}: reading the answer failed: {source}")]
    Transport {
        /// Which call.
        route: &'static str,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
}

/// The whole body of `resp`, or [`BodyError::TooLarge`] as soon as it passes `cap`.
pub async fn read_capped(
    route: &'static str,
    mut resp: reqwest::Response,
    cap: u64,
) -> Result<Bytes, BodyError> {
    let too_large = || {
        crate::telemetry::upstream::body_too_large(route, cap);
        BodyError::TooLarge { route, cap }
    };
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    // Sized once from `Content-Length` (up to PREALLOCATE): grown by doubling, a megabyte
    // answer passed through every power of two below it and could end in twice its size.
    let announced = resp.content_length().unwrap_or(0).min(PREALLOCATE);
    let mut out = BytesMut::with_capacity(announced as usize);
    loop {
        let chunk = resp.chunk().await.map_err(|e| BodyError::Transport {
            route,
            source: e.without_url(),
        })?;
        let Some(chunk) = chunk else {
            return Ok(out.freeze());
        };
        if (out.len() + chunk.len()) as u64 > cap {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
}
