//! A hostile download, for tests and measurements of the client's bounds: the agent
//! schedules of one management unit answered with a `downloadUrl` whose gzip body
//! inflates to a configured size (a gzip bomb), with or without `Content-Encoding`.
//!
//! Real Genesys never does this; a compromised or broken download service could, and the
//! daemon must refuse it without running out of memory (contract, second tranche).

use flate2::{Compression, write::GzEncoder};
use std::io::Write;

/// Which unit's downloads are bombs, and how big they inflate.
#[derive(Debug, Clone)]
pub struct DownloadBomb {
    /// Management unit id whose agent-schedule query results are the bomb.
    pub management_unit: String,
    /// Decompressed size in bytes.
    pub decoded_bytes: u64,
    /// Serve it without `Content-Encoding: gzip` (raw gzip bytes, found by magic).
    pub without_content_encoding: bool,
}

/// The bomb's gzip bytes, compressed once per process (compressing hundreds of MiB
/// takes a second or more; every retry of the client gets the same bytes).
pub(crate) fn cached_bomb(decoded_bytes: u64) -> bytes::Bytes {
    static CACHE: std::sync::Mutex<Option<(u64, bytes::Bytes)>> = std::sync::Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    match &*cache {
        Some((n, b)) if *n == decoded_bytes => b.clone(),
        _ => {
            let b = bytes::Bytes::from(gzip_bomb(decoded_bytes));
            *cache = Some((decoded_bytes, b.clone()));
            b
        }
    }
}

/// The bomb's gzip bytes: a JSON string of `decoded_bytes` spaces inside a valid start
/// of an agent-schedules result, so only the size limit can refuse it.
pub(crate) fn gzip_bomb(decoded_bytes: u64) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    let _ = e.write_all(br#"{"agentSchedules":[{"user":{"id":""#);
    let chunk = vec![b' '; 1 << 20];
    let mut left = decoded_bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        let _ = e.write_all(&chunk[..n]);
        left -= n as u64;
    }
    let _ = e.write_all(br#""}}],"businessUnitTimeZone":"UTC"}"#);
    e.finish().unwrap_or_default()
}
