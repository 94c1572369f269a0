//! Deterministic ids and a tiny seeded generator, so the same seed always yields the same org.

/// SplitMix64 step: a good 64-bit mixer, enough for reproducible test data.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hashes a list of numbers into one value (order-sensitive).
pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0xA076_1D64_78BD_642F, |acc, p| mix(acc ^ p))
}

/// Hashes a string (FNV-1a), used to fold ids into seeds.
pub(crate) fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A version-4 shaped UUID derived from `parts`.
pub(crate) fn uuid(parts: &[u64]) -> String {
    let a = hash(parts);
    let b = mix(a ^ 0x5555_5555_5555_5555);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// A small seeded generator (SplitMix64 sequence).
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// The next value below `n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(1);
        mix(self.0) % n.max(1)
    }
}
