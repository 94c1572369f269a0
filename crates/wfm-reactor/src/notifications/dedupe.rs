//! A bounded memory of recently delivered frames, so a frame seen on two overlapping
//! sockets (make-before-break) reaches the reactor once.

use sha2::{Digest, Sha256};
use std::collections::{HashSet, VecDeque};

/// The last `capacity` frame digests.
#[derive(Debug)]
pub struct RecentFrames {
    capacity: usize,
    order: VecDeque<[u8; 32]>,
    seen: HashSet<[u8; 32]>,
}

impl RecentFrames {
    /// Remembers at most `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }

    /// True when `text` was not seen recently (and remembers it).
    pub fn insert(&mut self, text: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        if !self.seen.insert(digest) {
            return false;
        }
        self.order.push_back(digest);
        if self.order.len() > self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }
}

impl Default for RecentFrames {
    fn default() -> Self {
        Self::new(4096)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_within_capacity_only() {
        let mut r = RecentFrames::new(2);
        assert!(r.insert("a"));
        assert!(!r.insert("a"));
        assert!(r.insert("b"));
        assert!(r.insert("c"));
        assert!(r.insert("a"), "evicted after capacity");
    }
}
