//! Which OAuth client watches which topic: capacity-aware rendezvous hashing.
//!
//! Why rendezvous (highest-random-weight) hashing: every client ranks every topic by a
//! hash of (client id, topic), and a topic goes to its best-ranked client that still has
//! room. The rank of a topic never depends on the other topics, so adding or removing a
//! client (or a topic) moves only the topics whose best choice changed, about 1/n of
//! them, instead of reshuffling every channel. Clients that are failing (token refused)
//! rank after every healthy one: their topics move to the healthy clients while those
//! have room, and come back when the client recovers, because the ranking is the same.

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// One client as the spread sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// The OAuth client id (the hash key; stable across restarts).
    pub client_id: String,
    /// Topics it can hold: its channels × topics per channel (one channel kept spare).
    pub capacity: usize,
    /// False while its token is refused: it only gets what the healthy clients cannot hold.
    pub healthy: bool,
}

/// Not every topic fits into every client's capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    /// Topics wanted.
    pub topics: usize,
    /// Topics all clients together hold.
    pub capacity: usize,
}

/// The weight of `topic` at `client_id`: the first 8 bytes of SHA-256 over both.
fn weight(client_id: &str, topic: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(client_id.as_bytes());
    h.update([0u8]);
    h.update(topic.as_bytes());
    let digest = h.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Spreads `topics` over `seats`: the returned vector holds, per seat (same order), the
/// topics it watches. Every topic is in exactly one set.
pub fn spread(topics: &BTreeSet<String>, seats: &[Seat]) -> Result<Vec<BTreeSet<String>>, Overflow> {
    let capacity: usize = seats.iter().map(|s| s.capacity).sum();
    if topics.len() > capacity {
        return Err(Overflow {
            topics: topics.len(),
            capacity,
        });
    }
    let mut out = vec![BTreeSet::new(); seats.len()];
    let mut ranked: Vec<(bool, u64, usize)> = Vec::with_capacity(seats.len());
    for topic in topics {
        ranked.clear();
        ranked.extend(
            seats
                .iter()
                .enumerate()
                .map(|(i, s)| (s.healthy, weight(&s.client_id, topic), i)),
        );
        // Healthy first, then the highest weight.
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        let seat = ranked
            .iter()
            .map(|&(_, _, i)| i)
            .find(|&i| out[i].len() < seats[i].capacity)
            .expect("total capacity checked above");
        out[seat].insert(topic.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(n: usize, capacity: usize) -> Vec<Seat> {
        (0..n)
            .map(|i| Seat {
                client_id: format!("client-{i}"),
                capacity,
                healthy: true,
            })
            .collect()
    }

    fn topics(n: usize) -> BTreeSet<String> {
        (0..n).map(|i| format!("v2.users.{i}.presence")).collect()
    }

    #[test]
    fn every_topic_lands_once_and_spread_is_even() {
        let t = topics(3000);
        let out = spread(&t, &seats(3, 2000)).unwrap();
        let union: BTreeSet<String> = out.iter().flatten().cloned().collect();
        assert_eq!(union, t);
        assert_eq!(
            out.iter().map(BTreeSet::len).sum::<usize>(),
            3000,
            "no duplicates"
        );
        for set in &out {
            assert!((800..1200).contains(&set.len()), "uneven: {}", set.len());
        }
    }

    #[test]
    fn adding_a_client_moves_about_a_third() {
        let t = topics(3000);
        let before = spread(&t, &seats(2, 5000)).unwrap();
        let after = spread(&t, &seats(3, 5000)).unwrap();
        let kept = (0..2)
            .map(|i| before[i].intersection(&after[i]).count())
            .sum::<usize>();
        let moved = 3000 - kept;
        assert_eq!(moved, after[2].len(), "only topics for the new client move");
        assert!((800..1200).contains(&moved), "moved {moved}");
    }

    #[test]
    fn capacity_is_respected_and_overflow_refused() {
        let t = topics(250);
        let out = spread(&t, &seats(3, 100)).unwrap();
        assert!(out.iter().all(|s| s.len() <= 100));
        let err = spread(&topics(301), &seats(3, 100)).unwrap_err();
        assert_eq!(
            err,
            Overflow {
                topics: 301,
                capacity: 300
            }
        );
    }

    #[test]
    fn a_failing_client_gives_its_topics_away_and_gets_them_back() {
        let t = topics(600);
        let mut s = seats(3, 1000);
        let healthy = spread(&t, &s).unwrap();
        s[1].healthy = false;
        let failing = spread(&t, &s).unwrap();
        assert!(
            failing[1].is_empty(),
            "room elsewhere: nothing stays on the failing client"
        );
        assert!(
            healthy[0].is_subset(&failing[0]),
            "the healthy clients keep theirs"
        );
        assert!(healthy[2].is_subset(&failing[2]));
        s[1].healthy = true;
        assert_eq!(spread(&t, &s).unwrap(), healthy, "back where they were");
    }

    #[test]
    fn a_failing_client_keeps_only_what_the_others_cannot_hold() {
        let t = topics(250);
        let mut s = seats(2, 200);
        s[0].healthy = false;
        let out = spread(&t, &s).unwrap();
        assert_eq!(out[1].len(), 200);
        assert_eq!(out[0].len(), 50);
    }
}
