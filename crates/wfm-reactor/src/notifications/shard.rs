//! Sharding the topic set over channels (pure): stable, minimal moves, capped.
//!
//! Why stable: moving a topic to another channel means unsubscribing and resubscribing
//! it, which is a window for lost events. So topics stay where they are; removed topics
//! leave; new topics fill free room first, then new channels.

use std::collections::{BTreeMap, BTreeSet};

/// The topic set does not fit in the allowed channels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{topics} topics need more than notifications.max_channels = {max_channels} channels of {per_channel} topics: \
     at most {capacity} topics fit; watch fewer business units/users or raise the limits"
)]
pub struct ShardError {
    /// Topics wanted.
    pub topics: usize,
    /// How many fit.
    pub capacity: usize,
    /// Channel cap.
    pub max_channels: usize,
    /// Topics per channel.
    pub per_channel: usize,
}

/// Slot id → topics of that channel.
pub type Assignment = BTreeMap<u64, BTreeSet<String>>;

/// Assigns `desired` onto `current` slots; new slots get ids from `next_id`.
pub(crate) fn assign(
    current: &Assignment,
    desired: &BTreeSet<String>,
    per_channel: usize,
    max_channels: usize,
    next_id: &mut u64,
) -> Result<Assignment, ShardError> {
    let per_channel = per_channel.max(1);
    let capacity = per_channel.saturating_mul(max_channels);
    if desired.len() > capacity {
        return Err(ShardError {
            topics: desired.len(),
            capacity,
            max_channels,
            per_channel,
        });
    }
    let mut out: Assignment = current
        .iter()
        .map(|(id, topics)| (*id, topics.intersection(desired).cloned().collect()))
        .collect();
    let placed: BTreeSet<&String> = out.values().flatten().collect();
    let mut new: Vec<String> = desired.iter().filter(|t| !placed.contains(t)).cloned().collect();
    new.reverse();
    for topics in out.values_mut() {
        while topics.len() < per_channel {
            match new.pop() {
                Some(t) => topics.insert(t),
                None => break,
            };
        }
    }
    while !new.is_empty() {
        let mut topics = BTreeSet::new();
        while topics.len() < per_channel {
            match new.pop() {
                Some(t) => topics.insert(t),
                None => break,
            };
        }
        out.insert(*next_id, topics);
        *next_id += 1;
    }
    out.retain(|_, t| !t.is_empty());
    // Existing slots are filled to the brim before a new one opens, so the count never
    // exceeds ceil(desired / per_channel) <= max_channels.
    debug_assert!(out.len() <= max_channels);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(n: std::ops::Range<usize>) -> BTreeSet<String> {
        n.map(|i| format!("t{i:05}")).collect()
    }

    #[test]
    fn shards_2500_into_three_channels() {
        let mut next = 0;
        let a = assign(&Assignment::new(), &topics(0..2500), 1000, 20, &mut next).unwrap();
        assert_eq!(a.len(), 3);
        assert!(a.values().all(|t| t.len() <= 1000));
        let all: BTreeSet<_> = a.values().flatten().cloned().collect();
        assert_eq!(all, topics(0..2500));
        assert_eq!(a.values().map(|t| t.len()).sum::<usize>(), 2500);
    }

    #[test]
    fn keeps_topics_in_place_and_fills_free_room() {
        let mut next = 0;
        let a = assign(&Assignment::new(), &topics(0..15), 10, 5, &mut next).unwrap();
        let mut want = topics(5..15);
        want.extend(topics(100..103));
        let b = assign(&a, &want, 10, 5, &mut next).unwrap();
        assert!(
            a[&0]
                .iter()
                .filter(|t| want.contains(*t))
                .all(|t| b[&0].contains(t))
        );
        assert!(
            b[&0].contains("t00100"),
            "new topics fill the room freed on channel 0"
        );
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn refuses_too_many_and_says_how_many_fit() {
        let mut next = 0;
        let e = assign(&Assignment::new(), &topics(0..21), 10, 2, &mut next).unwrap_err();
        assert_eq!(e.capacity, 20);
        assert!(e.to_string().contains("at most 20 topics fit"), "{e}");
    }
}
