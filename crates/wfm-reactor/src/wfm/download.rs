//! Decoding and parsing a `downloadUrl` body as a stream: `Content-Encoding: gzip`, raw
//! gzip bytes (magic `1f 8b`, whatever the headers say), or plain JSON.
//!
//! The spec leaves the download's encoding UNVERIFIED (§4.4), so all three are accepted.
//! Real downloads of large business units are tens of MB, and a hostile one can inflate
//! a few hundred KB into gigabytes, so the body is never buffered whole: the bytes go
//! through a streaming gzip decoder, a counter that fails past `[fetch]
//! max_download_bytes` decoded bytes, and straight into `serde_json` — memory is bounded
//! by the parsed value, not by the download. The download client does not let reqwest
//! undo the gzip itself (that would bypass the counter); this module decides.
//!
//! One more bound: `serde_json` holds a JSON string whole until it ends (growing its
//! buffer by doubling), so a bomb made of one huge string would still cost hundreds of
//! MB before the byte cap stops it. No string of an agent-schedules answer is longer than
//! an id, a name or a description, so any string beyond [`MAX_STRING_BYTES`] is refused
//! as it streams in.

use flate2::read::MultiGzDecoder;
use serde::de::DeserializeOwned;
use std::io::{self, BufReader, Read};

/// Default of `[fetch] max_download_bytes`: 256 MiB decoded.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 268_435_456;

/// Longest JSON string accepted in a download (1 MiB): far beyond any id, name or
/// description, far below what would let one string dominate the daemon's memory.
pub const MAX_STRING_BYTES: u64 = 1 << 20;

/// Why a download body could not be decoded and parsed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The gzip stream is corrupt or the connection failed mid-body.
    #[error("corrupt gzip body or failed read: {0}")]
    Read(io::Error),
    /// Larger than the limit once decompressed.
    #[error("download larger than max_download_bytes = {limit} bytes once decompressed")]
    TooLarge {
        /// `[fetch] max_download_bytes`.
        limit: u64,
    },
    /// A JSON string longer than [`MAX_STRING_BYTES`].
    #[error("download holds a JSON string longer than {limit} bytes")]
    StringTooLong {
        /// [`MAX_STRING_BYTES`].
        limit: u64,
    },
    /// The decoded bytes are not the expected JSON.
    #[error("invalid JSON: {0}")]
    Json(serde_json::Error),
}

/// True when `bytes` start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Parses `T` from the raw body `body`: gunzipped when `gzip_header` (the answer said
/// `Content-Encoding: gzip`) or when it starts with the gzip magic, and refused with
/// [`DecodeError::TooLarge`] once more than `limit` decoded bytes were read.
pub fn parse_download<T: DeserializeOwned, R: Read>(
    body: R,
    gzip_header: bool,
    limit: u64,
) -> Result<T, DecodeError> {
    let mut body = BufReader::new(body);
    let head = peek2(&mut body).map_err(DecodeError::Read)?;
    let decoded: Box<dyn Read> = if gzip_header || is_gzip(&head) {
        Box::new(MultiGzDecoder::new(io::Cursor::new(head).chain(body)))
    } else {
        Box::new(io::Cursor::new(head).chain(body))
    };
    let mut capped = Capped {
        inner: decoded,
        left: limit,
        passed: false,
        strings: StringScan::default(),
    };
    let parsed = serde_json::from_reader(BufReader::new(&mut capped));
    match parsed {
        Ok(v) => Ok(v),
        Err(_) if capped.passed => Err(DecodeError::TooLarge { limit }),
        Err(_) if capped.strings.too_long => Err(DecodeError::StringTooLong {
            limit: MAX_STRING_BYTES,
        }),
        Err(e) if e.is_io() => Err(DecodeError::Read(io::Error::other(e))),
        Err(e) => Err(DecodeError::Json(e)),
    }
}

/// The first two bytes of `r` (fewer at end of input), for the magic-number check.
fn peek2(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(2);
    r.take(2).read_to_end(&mut head)?;
    Ok(head)
}

/// A reader that fails once more than `left` bytes went through it, or once a JSON
/// string in them grew past [`MAX_STRING_BYTES`].
struct Capped<R> {
    inner: R,
    left: u64,
    passed: bool,
    strings: StringScan,
}

/// Where the JSON byte stream is relative to strings, carried across reads.
#[derive(Default)]
struct StringScan {
    in_string: bool,
    escaped: bool,
    /// Bytes of the string being read so far.
    length: u64,
    too_long: bool,
}

impl StringScan {
    /// Follows `bytes`; false once a string is longer than [`MAX_STRING_BYTES`].
    fn follow(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            if !self.in_string {
                self.in_string = b == b'"';
                continue;
            }
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                self.length = 0;
                continue;
            }
            self.length += 1;
            if self.length > MAX_STRING_BYTES {
                self.too_long = true;
                return false;
            }
        }
        true
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // read one byte more than allowed, so "exactly the limit" still parses
        let room = usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.passed = true;
            return Err(io::Error::other("max_download_bytes passed"));
        }
        self.left -= n as u64;
        if !self.strings.follow(&buf[..n]) {
            return Err(io::Error::other("a JSON string passed MAX_STRING_BYTES"));
        }
        Ok(n)
    }
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

    type V = serde_json::Value;

    #[test]
    fn plain_and_gzip_bodies_parse_to_the_same_json() {
        let json = br#"{"agentSchedules":[],"businessUnitTimeZone":"UTC"}"#;
        let plain: V = parse_download(&json[..], false, 1000).unwrap();
        let magic: V = parse_download(&gz(json)[..], false, 1000).unwrap();
        let header: V = parse_download(&gz(json)[..], true, 1000).unwrap();
        assert_eq!(plain, magic);
        assert_eq!(plain, header);
        let exact: V = parse_download(&json[..], false, json.len() as u64).unwrap();
        assert_eq!(plain, exact);
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let mut bad = gz(b"{\"a\":1}");
        bad.truncate(12);
        assert!(matches!(
            parse_download::<V, _>(&bad[..], false, 1000),
            Err(DecodeError::Read(_))
        ));
    }

    /// Gzip of `[` followed by `mib` MiB of `fill`.
    fn bomb(fill: &[u8], mib: usize) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::best());
        e.write_all(b"[").unwrap();
        for _ in 0..mib {
            for chunk in fill.repeat((1 << 20) / fill.len()).chunks(1 << 20) {
                e.write_all(chunk).unwrap();
            }
        }
        e.finish().unwrap()
    }

    #[test]
    fn one_huge_string_is_refused_as_soon_as_it_passes_the_string_limit() {
        let bomb = bomb(b"\"aaaaaaaaaaaaaaa", 4); // one string (the quotes only open it)
        let bomb_of_one = {
            let mut e = GzEncoder::new(Vec::new(), Compression::best());
            e.write_all(b"[\"").unwrap();
            for _ in 0..4 {
                e.write_all(&[b'a'; 1 << 20]).unwrap();
            }
            e.finish().unwrap()
        };
        let r = parse_download::<V, _>(&bomb_of_one[..], true, 1 << 30);
        assert!(
            matches!(
                r,
                Err(DecodeError::StringTooLong {
                    limit: MAX_STRING_BYTES
                })
            ),
            "{r:?}"
        );
        // many short strings (quotes alternate) are no string bomb: only invalid JSON
        let r = parse_download::<V, _>(&bomb[..], true, 1 << 30);
        assert!(matches!(r, Err(DecodeError::Json(_))), "{r:?}");
    }

    #[test]
    fn escaped_quotes_do_not_end_a_string_and_long_legit_strings_parse() {
        let json = format!(r#"["{}\"x", "{}"]"#, "b".repeat(1000), "c".repeat(1 << 19));
        let v: V = parse_download(json.as_bytes(), false, 1 << 30).unwrap();
        assert_eq!(v[0].as_str().unwrap().len(), 1002);
        let long = format!(r#"["{}\"{}"]"#, "d".repeat(600_000), "e".repeat(600_000));
        let r = parse_download::<V, _>(long.as_bytes(), false, 1 << 30);
        assert!(matches!(r, Err(DecodeError::StringTooLong { .. })), "{r:?}");
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        let bomb = bomb(b"1,", 64);
        for header in [false, true] {
            let r = parse_download::<V, _>(&bomb[..], header, 1 << 20);
            assert!(
                matches!(r, Err(DecodeError::TooLarge { limit: 1048576 })),
                "{r:?}"
            );
        }
    }
}
