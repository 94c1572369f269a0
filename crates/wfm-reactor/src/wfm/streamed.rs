//! `downloadUrl` results fetched as a stream: the body flows from the socket through a
//! bounded bridge into the blocking decoder of [`super::download`] on a blocking thread,
//! so neither the compressed nor the decoded body is ever held whole.
//!
//! The download client follows no redirect to another host (a pre-signed URL that sends
//! us elsewhere is refused as its 3xx) and does not undo `Content-Encoding` itself.

use super::http::Call;
use super::{WfmClient, WfmError, parse_download};
use futures::TryStreamExt;
use reqwest::{Method, header};
use serde::de::DeserializeOwned;

impl WfmClient {
    /// GET a pre-signed download URL (no bearer) and parse the possibly gzipped JSON,
    /// at most `max_download_bytes` decoded; `unit` names what is downloaded (for the
    /// error: which management unit's fetch failed).
    pub(crate) async fn download_json<T: DeserializeOwned + Send + 'static>(
        &self,
        route: &'static str,
        url: &str,
        unit: &str,
    ) -> Result<T, WfmError> {
        let call = Call {
            route,
            method: Method::GET,
            url: url.to_string(),
            body: None,
            bearer: false,
            cap: self.settings.max_download_bytes,
        };
        let (resp, permit) = self.send_raw(&call).await?;
        let gzip_header = resp
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let stream = resp
            .bytes_stream()
            .map_err(|e| std::io::Error::other(e.without_url()));
        let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
        let limit = self.settings.max_download_bytes;
        let parsed =
            tokio::task::spawn_blocking(move || parse_download::<T, _>(reader, gzip_header, limit)).await;
        drop(permit);
        let parsed = parsed.map_err(|e| WfmError::Decode {
            route,
            message: format!("decoder task failed: {e}"),
        })?;
        parsed.map_err(|e| {
            crate::telemetry::rest::download_refused(route, unit, &e);
            WfmError::Decode {
                route,
                message: format!("{unit}: {e}"),
            }
        })
    }
}

/// The client for pre-signed downloads: no automatic gzip (the decoder counts decoded
/// bytes itself), redirects only within the same host.
pub(crate) fn download_client(timeout: std::time::Duration) -> Result<reqwest::Client, reqwest::Error> {
    let same_host = reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt
            .previous()
            .first()
            .and_then(|u| u.host_str().map(str::to_string));
        if attempt.previous().len() < 5 && first.as_deref() == attempt.url().host_str() {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    reqwest::Client::builder()
        .timeout(timeout)
        .no_gzip()
        .redirect(same_host)
        .user_agent(concat!("wfm-reactor/", env!("CARGO_PKG_VERSION")))
        .build()
}
