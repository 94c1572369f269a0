//! Decoding a `downloadUrl` body: `Content-Encoding: gzip` (already undone by reqwest),
//! raw gzip bytes (magic `1f 8b`, whatever the headers say), or plain JSON.
//!
//! The spec leaves the download's encoding UNVERIFIED (§4.4), so all three are accepted.
//! The decompressed size is capped so a corrupt or hostile body cannot exhaust memory.

use flate2::read::GzDecoder;
use std::io::Read;

/// Largest decompressed body accepted (a 5,000-agent unit is a few tens of MB).
pub const MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;

/// Why a download body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The gzip stream is corrupt.
    #[error("corrupt gzip body: {0}")]
    Gzip(#[from] std::io::Error),
    /// Larger than [`MAX_DECODED_BYTES`] once decompressed.
    #[error("download larger than {MAX_DECODED_BYTES} bytes once decompressed")]
    TooLarge,
}

/// True when `bytes` start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The JSON bytes of a download body, gunzipping when it is raw gzip.
pub fn decode_download(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if !is_gzip(bytes) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > MAX_DECODED_BYTES {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_and_gzip_bodies_decode_to_the_same_json() {
        let json = br#"{"agentSchedules":[],"businessUnitTimeZone":"UTC"}"#;
        assert_eq!(decode_download(json).unwrap(), json);
        assert_eq!(decode_download(&gz(json)).unwrap(), json);
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let mut bad = gz(b"{\"a\":1}");
        bad.truncate(12);
        assert!(matches!(decode_download(&bad), Err(DecodeError::Gzip(_))));
    }
}
