//! The adherence engine's share of a fetch, handed over one management unit at a time.
//!
//! A fetch used to collect every committed agent's timeline (plus its schedule, unit and
//! user ids) until the whole schedule was done, then report them all with its end: a
//! snapshot of five weeks of 19,000 agents held ~95,000 timelines in flight at once
//! (~85 MB, the largest part of its heap peak). Now each unit's timelines go to the
//! reactor right after that unit's commit, and none are built at all when the engine is
//! off (`[watch] adherence = false`), since nothing would read them.
//!
//! Order: a fetch sends its units before it ends, so when the reactor handles the end it
//! first takes whatever is still queued ([`UnitUpdates::drain`]), and the engine has every
//! committed timeline before the key counts as fetched (the first reconcile's readiness).

use super::adherence::ScheduleUpdate;
use tokio::sync::mpsc;

/// Where a fetch sends each committed unit's updates (`None`: the engine is off).
pub type UnitSender = Option<mpsc::UnboundedSender<Vec<ScheduleUpdate>>>;

/// The reactor's end: the units committed by every running fetch, in commit order per fetch.
pub(super) struct UnitUpdates {
    tx: UnitSender,
    rx: mpsc::UnboundedReceiver<Vec<ScheduleUpdate>>,
}

impl UnitUpdates {
    /// A channel for an engine that is on (`enabled`); otherwise fetches get no sender.
    pub(super) fn new(enabled: bool) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            tx: enabled.then_some(tx),
            rx,
        }
    }

    /// The sender a new fetch gets.
    pub(super) fn sender(&self) -> UnitSender {
        self.tx.clone()
    }

    /// The next unit's updates (never ends: the reactor holds a sender while the engine is
    /// on; when it is off nothing is ever sent, and the arm is disabled).
    pub(super) async fn recv(&mut self) -> Option<Vec<ScheduleUpdate>> {
        self.rx.recv().await
    }

    /// Whether any fetch can send (the engine is on).
    pub(super) fn is_open(&self) -> bool {
        self.tx.is_some()
    }

    /// Everything already queued, oldest first.
    pub(super) fn drain(&mut self) -> Vec<ScheduleUpdate> {
        let mut all = Vec::new();
        while let Ok(mut unit) = self.rx.try_recv() {
            all.append(&mut unit);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(user: &str) -> ScheduleUpdate {
        ScheduleUpdate::Agent {
            schedule_id: "s".into(),
            mu_id: "mu".into(),
            user_id: user.into(),
            timeline: None,
        }
    }

    fn users(updates: &[ScheduleUpdate]) -> Vec<String> {
        updates
            .iter()
            .map(|u| match u {
                ScheduleUpdate::Agent { user_id, .. } => user_id.clone(),
                ScheduleUpdate::Deleted { schedule_id } => schedule_id.clone(),
            })
            .collect()
    }

    #[test]
    fn an_engine_that_is_off_gives_fetches_no_sender() {
        let off = UnitUpdates::new(false);
        assert!(off.sender().is_none() && !off.is_open());
        assert!(UnitUpdates::new(true).sender().is_some());
    }

    #[tokio::test]
    async fn units_arrive_in_the_order_sent_and_drain_takes_what_is_left() {
        let mut units = UnitUpdates::new(true);
        let tx = units.sender().unwrap();
        tx.send(vec![agent("a"), agent("b")]).unwrap();
        tx.send(vec![agent("c")]).unwrap();
        tx.send(vec![agent("d")]).unwrap();
        assert_eq!(users(&units.recv().await.unwrap()), ["a", "b"]);
        assert_eq!(users(&units.drain()), ["c", "d"]);
        assert!(units.drain().is_empty());
    }
}
