//! A bounded memory of recently delivered frames, so a frame seen on two overlapping
//! sockets (make-before-break) reaches the reactor once.
//!
//! Frames are remembered by a 128-bit digest from two SipHash passes under keys drawn at
//! random for this process. The digest never leaves the process, so it needs no stable
//! or cryptographic hash: keyed, an upstream cannot craft two frames that collide, and
//! by chance two of the 4,096 remembered frames collide with odds near 2^-104. SHA-256
//! was a third of the daemon's instructions per notification (callgrind, flood phase).

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};

/// The last `capacity` frame digests.
#[derive(Debug)]
pub struct RecentFrames {
    capacity: usize,
    order: VecDeque<u128>,
    seen: HashSet<u128>,
    keys: [RandomState; 2],
}

impl RecentFrames {
    /// Remembers at most `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
            keys: [RandomState::new(), RandomState::new()],
        }
    }

    /// The frame's digest under this memory's keys.
    fn digest(&self, text: &str) -> u128 {
        let [high, low] = &self.keys;
        (u128::from(high.hash_one(text)) << 64) | u128::from(low.hash_one(text))
    }

    /// True when `text` was not seen recently (and remembers it).
    pub fn insert(&mut self, text: &str) -> bool {
        let digest = self.digest(text);
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

    #[test]
    fn frames_differing_in_one_byte_are_both_delivered() {
        let mut r = RecentFrames::default();
        let frame = |i: u32| format!(r#"{{"topicName":"v2.users.u.presence","eventBody":{{"n":{i}}}}}"#);
        for i in 0..4096 {
            assert!(r.insert(&frame(i)), "frame {i} is new");
        }
        for i in 0..4096 {
            assert!(!r.insert(&frame(i)), "frame {i} was seen");
        }
    }

    #[test]
    fn the_two_keys_differ_so_the_digest_has_128_bits() {
        let r = RecentFrames::default();
        let d = r.digest("frame");
        assert_ne!(d >> 64, d & u128::from(u64::MAX));
    }
}
