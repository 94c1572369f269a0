//! Filling a store for delivery tests and benches: presence-sized batches (one state
//! change and its event), fast delivery options, and waiting for a sink's durable cursor.

use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wfm_reactor::backoff::BackoffPolicy;
use wfm_reactor::config::SinkConfig;
use wfm_reactor::events::{Cause, NewEvent, PresenceChanged};
use wfm_reactor::sinks::{DeliveryHandle, DeliveryOptions, spawn_delivery};
use wfm_reactor::store::{Batch, StateChange, Store, StoredPresence};

/// One presence change of `user` to `presence` at `modified_date`, as the store change and
/// the outbox event the reactor would commit together.
pub fn presence_change(
    user: &str,
    presence: &str,
    modified_date: &str,
    source: Option<&str>,
) -> (StateChange, NewEvent) {
    let data = PresenceChanged {
        user_id: user.into(),
        system_presence: presence.into(),
        presence_definition_id: "def-q".into(),
        previous: None,
        modified_date: modified_date.into(),
        source: source.map(Into::into),
        cause: Cause::Notification,
    };
    let change = StateChange::Presence {
        user_id: data.user_id.clone(),
        presence: StoredPresence {
            system_presence: data.system_presence.clone(),
            presence_definition_id: data.presence_definition_id.clone(),
            modified_date: data.modified_date.clone(),
        },
    };
    (change, NewEvent::presence_changed("api.test", &data))
}

/// A batch of exactly one presence change.
pub fn single(change: (StateChange, NewEvent)) -> Batch {
    Batch {
        changes: vec![change.0],
        events: vec![change.1],
    }
}

/// Commits `n` presence events (users u`from`.., distinct modifiedDates), one per batch.
pub async fn commit_presence(store: &Store, from: u32, n: u32) -> Vec<u64> {
    let mut seqs = Vec::new();
    for i in from..from + n {
        let change = presence_change(
            &format!("u{i}"),
            "On Queue",
            &format!("2026-02-03T04:05:06.{i:03}Z"),
            None,
        );
        seqs.extend(store.commit(single(change)).await.unwrap());
    }
    seqs
}

/// Fast options for tests: tiny backoff, fast replay polling.
pub fn fast_options() -> DeliveryOptions {
    DeliveryOptions {
        batch_size: 8,
        prune_interval: Duration::from_millis(50),
        grace: Duration::from_millis(500),
        backoff: BackoffPolicy::try_new(Duration::from_millis(2), Duration::from_millis(10), 2.0).unwrap(),
        replay_poll: Duration::from_millis(20),
        cursor_persist_interval: Duration::ZERO,
        linger: Duration::from_millis(2),
    }
}

/// Waits (30 s base; virtual seconds in paused tests) until `sink`'s durable cursor is `seq`.
pub async fn wait_cursor(store: &Store, sink: &str, seq: u64) {
    let what = format!("cursor of {sink} to reach {seq}");
    crate::eventually_within(Duration::from_secs(30), what, || async {
        store.cursor(sink).await.unwrap() == Some(seq)
    })
    .await;
}

/// One sink's delivery task running with [`fast_options`], and what stops it.
pub struct OneSink {
    pub handle: DeliveryHandle,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
}

/// Spawns delivery of `store`'s outbox to `sink` under the name `name`.
pub async fn spawn_one_sink(store: &Store, name: &str, sink: SinkConfig) -> OneSink {
    let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
    let handle = spawn_delivery(
        store.clone(),
        vec![(name.into(), sink)],
        fast_options(),
        cancel.clone(),
        &tracker,
    )
    .await
    .expect("delivery starts");
    OneSink {
        handle,
        cancel,
        tracker,
    }
}
