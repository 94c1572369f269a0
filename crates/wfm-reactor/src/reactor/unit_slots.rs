//! How many management units are between their agent-schedules query and their commit
//! at once, across every fetch.
//!
//! Fetches are spawned per schedule without a bound (a snapshot fires every key at once),
//! and the REST budget's concurrency only bounds requests on the wire: once an answer is
//! parsed the slot is free, and the parsed unit, its diff, its rendered event and its state
//! rows wait for the CPU and the writer while the next request starts. Without this bound
//! a snapshot held one parsed unit per schedule (the heap peak of the 19,000-agent
//! snapshot); with it, at most `slots` units' transient data exist at once.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The shared bound (cloning shares it).
#[derive(Clone, Debug)]
pub struct UnitSlots(Arc<Semaphore>);

impl UnitSlots {
    /// `per_client` units per OAuth client (each client has its own request concurrency).
    pub fn new(per_client: usize, clients: usize) -> Self {
        Self(Arc::new(Semaphore::new(per_client.max(1) * clients.max(1))))
    }

    /// Waits for a slot; dropping the permit frees it.
    pub async fn acquire(&self) -> OwnedSemaphorePermit {
        // Never closed, so acquiring cannot fail; a closed semaphore would be a bug here.
        self.0
            .clone()
            .acquire_owned()
            .await
            .expect("unit slots are never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn no_more_units_than_slots_and_a_freed_slot_lets_the_next_in() {
        let slots = UnitSlots::new(2, 1);
        let a = slots.acquire().await;
        let _b = slots.acquire().await;
        let third = tokio::time::timeout(Duration::from_secs(1), slots.acquire()).await;
        assert!(third.is_err(), "a third unit waits while two hold slots");
        drop(a);
        let third = tokio::time::timeout(Duration::from_secs(1), slots.acquire()).await;
        assert!(third.is_ok(), "a freed slot lets the next unit in");
    }

    #[test]
    fn each_client_adds_its_concurrency() {
        let slots = UnitSlots::new(4, 3);
        assert_eq!(slots.0.available_permits(), 12);
        assert_eq!(UnitSlots::new(0, 0).0.available_permits(), 1);
    }
}
