//! The reactor loop's bookkeeping with a real store and no network: a panicked fetch is
//! handed back to the coalescer as a failure (so it is retried) instead of staying in flight.

use super::*;
use crate::wfm::{ClientSettings, Credentials, RateBudget};

fn context(dir: &std::path::Path) -> Arc<Context> {
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
