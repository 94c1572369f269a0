//! The reactor loop's bookkeeping with a real store and no network: a panicked fetch is
//! handed back to the coalescer as a failure (so it is retried) instead of staying in flight;
//! a reconcile is done only once what it observed committed (a failed commit reloads the
//! cache and retries it); membership and presence are replaced and read through messages
//! to the reactor.

use super::*;
use crate::events::Cause;
use crate::wfm::{ClientSettings, Credentials, RateBudget};

pub(super) fn context(dir: &std::path::Path) -> Arc<Context> {
    let text = format!(
        r#"
[genesys]
region = "mypurecloud.com"
client_id = "id"
client_secret = "secret"

[watch]
business_units = ["bu"]

[state]
path = "{store}"

[[sinks]]
type = "file"
path = "{sink}"
"#,
        store = dir.join("state.db").display(),
        sink = dir.join("events.ndjson").display(),
    );
    let config = Config::from_toml_str_with_env(&text, &|_| None).expect("test config");
    let wfm = WfmClient::new(
        "http://127.0.0.1:9",
        Credentials::Static("t".into()),
        RateBudget::new(60, 1),
        ClientSettings::default(),
    )
    .unwrap();
    Arc::new(Context {
        store: Store::open(&dir.join("state.db")).unwrap(),
        wfm,
        api_host: "api.test".into(),
        unit_slots: crate::reactor::unit_slots::UnitSlots::new(config.fetch.concurrency, 1),
        config: Arc::new(config),
    })
}

#[tokio::test(start_paused = true)]
async fn a_panicked_fetch_is_retried_not_left_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let (mut reactor, _handle) = Reactor::new(context(dir.path()), Membership::default(), rx);
    let key = ScheduleKey {
        business_unit_id: "bu".into(),
        schedule_id: "s".into(),
    };
    let mut hint = Hint::reconcile(Some("2026-08-10".into()));
    hint.cause = HintCause::Notification;
    hint.operation_id = Some("op".into());
    reactor.offer(key.clone(), hint.clone(), Instant::now());
    let due = reactor.coalescer.next_deadline().expect("debounced");
    let taken = reactor.coalescer.take_due(due);
    assert_eq!(taken, vec![key.clone()]);
    let hint = reactor.hints.remove(&key).unwrap();
    reactor
        .tasks
        .spawn_fetch(key.clone(), hint, |_| async { panic!("injected fetch panic") });
    assert!(reactor.coalescer.is_in_flight(&key));

    let joined = reactor.tasks.join_next().await.expect("the task ends");
    reactor.on_done(joined);
    // No longer in flight: waiting for a backoff retry, with the notification's hint.
    assert!(!reactor.coalescer.is_in_flight(&key));
    assert_eq!(reactor.coalescer.pending_keys(), vec![key.clone()]);
    let retry_at = reactor.coalescer.next_deadline().expect("a retry is scheduled");
    assert!(retry_at > Instant::now());
    let kept = &reactor.hints[&key];
    assert_eq!(kept.cause, HintCause::Notification);
    assert_eq!(kept.operation_id.as_deref(), Some("op"));
    // The retry really becomes due.
    assert_eq!(reactor.coalescer.take_due(retry_at), vec![key]);
}

#[tokio::test(start_paused = true)]
async fn a_panicked_reconcile_is_requested_again() {
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let (mut reactor, _handle) = Reactor::new(context(dir.path()), Membership::default(), rx);
    reactor.reconcile_running = true;
    reactor
        .tasks
        .spawn_reconcile(HintCause::Snapshot, async { panic!("injected reconcile panic") });
    let joined = reactor.tasks.join_next().await.expect("the task ends");
    reactor.on_done(joined);
    assert!(!reactor.reconcile_running, "a new reconcile may start");
    let (at, cause) = reactor.reconcile_due.expect("a retry is wanted");
    assert_eq!(cause, HintCause::Snapshot);
    assert!(at > Instant::now());
}

/// A membership watching `users` as the agents of one management unit.
pub(super) fn watching(users: &[&str]) -> Membership {
    let mut bu = WatchedBu::default();
    bu.management_units
        .insert("mu".into(), users.iter().map(|u| u.to_string()).collect());
    let mut m = Membership::default();
    m.business_units.insert("bu".into(), bu);
    m
}

fn away(at: &str) -> crate::presence::PresenceState {
    crate::presence::PresenceState {
        system_presence: "Away".into(),
        presence_definition_id: Some("away-id".into()),
        modified_date: Some(at.into()),
    }
}

#[tokio::test(start_paused = true)]
async fn a_reconcile_is_done_only_once_its_observed_presence_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let (mut reactor, handle) = Reactor::new(context(dir.path()), watching(&["u1"]), rx);
    reactor.reconcile_running = true;
    let observed = reconcile::Observed {
        presence: vec![("u1".into(), away("2026-08-10T09:00:00.000Z"), None)],
        routing: vec![],
    };
    let listed = reconcile::Listed {
        keys: vec![],
        observed,
        adherence: vec![],
    };
    reactor.on_done(tasks::Joined::Done(Done::Reconcile(
        HintCause::Snapshot,
        Ok(listed),
    )));
    assert!(reactor.reconcile_running, "decided, not yet committed");
    reactor.flush().await;
    assert!(!*handle.first_reconcile_done.borrow());
    let committed = reactor.commits.next().await.expect("one commit queued");
    reactor.on_committed(committed).await;
    assert!(!reactor.reconcile_running);
    assert!(*handle.first_reconcile_done.borrow(), "done once committed");
    let stored = reactor.ctx.store.presence("u1").await.unwrap().unwrap();
    assert_eq!(stored.system_presence, "Away");
}

#[tokio::test(start_paused = true)]
async fn membership_and_presence_are_read_and_replaced_through_the_reactor() {
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let (mut reactor, handle) = Reactor::new(context(dir.path()), watching(&["u1"]), rx);
    let observed = reconcile::Observed {
        presence: vec![("u1".into(), away("2026-08-10T09:00:00.000Z"), None)],
        routing: vec![],
    };
    reactor.presence.observed(observed, Cause::Reconcile, true);
    let h = handle.clone();
    let replace = tokio::spawn(async move { h.set_membership(watching(&["u1", "u2"])).await });
    let msg = reactor.messages.recv().await.unwrap();
    reactor.on_message(msg);
    assert!(replace.await.unwrap());
    let ask = tokio::spawn(async move { handle.users(1).await });
    let msg = reactor.messages.recv().await.unwrap();
    reactor.on_message(msg);
    let view = ask.await.unwrap().expect("answered");
    assert_eq!(view.truncated, 1, "u2 is watched now, left out by the limit");
    let u1 = &view.users["u1"];
    assert_eq!(u1.presence.as_ref().unwrap().system_presence, "Away");
    assert!(u1.routing.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_failed_presence_commit_reloads_the_cache_and_retries_its_reconcile() {
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let (mut reactor, _handle) = Reactor::new(context(dir.path()), watching(&["u1"]), rx);
    let observed = reconcile::Observed {
        presence: vec![("u1".into(), away("2026-08-10T09:00:00.000Z"), None)],
        routing: vec![],
    };
    reactor.reconcile_running = true;
    let listed = reconcile::Listed {
        keys: vec![],
        observed,
        adherence: vec![],
    };
    reactor.on_done(tasks::Joined::Done(Done::Reconcile(
        HintCause::Reconcile,
        Ok(listed),
    )));
    // The batch holding the decision never reaches the store: its commit failed.
    assert!(reactor.presence.take_batch().is_some());
    reactor.pending_reconcile.as_mut().unwrap().ticket = Some(1);
    let failed = commits::Committed {
        ticket: 1,
        result: Err(crate::store::StoreError::WriterGone),
    };
    reactor.on_committed(failed).await;
    let view = reactor.presence.users(["u1".to_string()].iter());
    assert!(view["u1"].presence.is_none(), "the cache is the store's again");
    assert!(!reactor.reconcile_running && reactor.pending_reconcile.is_none());
    let (at, cause) = reactor.reconcile_due.expect("the reconcile is retried");
    assert_eq!(cause, HintCause::Reconcile);
    assert!(at > Instant::now());
}

fn presence_frame(user: &str) -> UpstreamEvent {
    UpstreamEvent::Notification {
        notification: crate::topics::Notification::Presence(crate::topics::PresenceUpdate {
            user_id: user.into(),
            system_presence: Some("AWAY".into()),
            presence_definition_id: Some("away-id".into()),
            modified_date: Some("2026-08-10T09:00:00Z".parse().unwrap()),
            source: None,
        }),
        topic: format!("v2.users.{user}.presence"),
        received_at: Instant::now(),
    }
}

/// Commits whatever the reactor decided so far.
async fn commit_all(reactor: &mut Reactor) {
    reactor.flush().await;
    while !reactor.commits.is_empty() {
        let c = reactor.commits.next().await.expect("a commit");
        reactor.on_committed(c).await;
    }
}

#[tokio::test(start_paused = true)]
async fn presence_is_stored_only_for_watched_users_and_pruned_when_they_leave() {
    let dir = tempfile::tempdir().unwrap();
    let (_tx, rx) = mpsc::channel(1);
    let (mut reactor, handle) = Reactor::new(context(dir.path()), watching(&["u1", "u2"]), rx);
    for user in ["u1", "u2", "stranger"] {
        reactor.on_upstream(presence_frame(user));
    }
    commit_all(&mut reactor).await;
    let store = reactor.ctx.store.clone();
    assert!(store.presence("u1").await.unwrap().is_some());
    assert!(store.presence("u2").await.unwrap().is_some());
    assert!(
        store.presence("stranger").await.unwrap().is_none(),
        "unwatched: ignored"
    );

    let replace = tokio::spawn(async move { handle.set_membership(watching(&["u1"])).await });
    let msg = reactor.messages.recv().await.unwrap();
    reactor.on_message(msg);
    assert!(replace.await.unwrap());
    commit_all(&mut reactor).await;
    assert!(store.presence("u1").await.unwrap().is_some());
    assert!(
        store.presence("u2").await.unwrap().is_none(),
        "no longer watched: pruned"
    );
}
