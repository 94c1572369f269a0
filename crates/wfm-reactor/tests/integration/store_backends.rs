//! The store's behaviour, run against both backends: SQLite (a temp file) and
//! PostgreSQL (a schema of the test's own). Each case is one function taking a way to
//! (re)open the store, so both backends run exactly the same assertions.

use wfm_reactor::events::NewEvent;
use wfm_reactor::store::postgres::Fence;
use wfm_reactor::store::{
    Batch, DirtyKey, NewDeadLetter, StateChange, Store, StoreError, StoredRoutingStatus, StoredSchedule,
};
use wfm_testkit::services::postgres::Schema;

/// Where a test's store lives; `open` may be called again to "restart".
enum Where {
    Sqlite(tempfile::TempDir),
    Postgres(Schema),
}

impl Where {
    async fn open(&self) -> Store {
        match self {
            Where::Sqlite(dir) => Store::open(&dir.path().join("s.db")).unwrap(),
            Where::Postgres(s) => Store::open_postgres(&s.url, Fence::default()).await.unwrap(),
        }
    }
}

/// Runs `case` on SQLite, then on PostgreSQL unless it is unreachable (skipped).
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Where::Sqlite(tempfile::tempdir().unwrap())).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                let test = concat!("store postgres ", stringify!($name));
                let Some(schema) = wfm_testkit::services::postgres::Schema::create_or_skip(test).await else {
                    return;
                };
                super::$name(super::Where::Postgres(schema)).await;
            })*
        }
    };
}

both_backends!(
    sequences_survive_reopen_and_prune,
    concurrent_commits_group_and_keep_their_sequences,
    state_round_trips,
    cursors_acks_and_dead_letters,
    the_committed_tail_reads_as_the_store_does,
);

/// A presence change of `user` whose `modifiedDate` second is `n` (mod 60).
fn presence(user: &str, n: u32) -> (StateChange, NewEvent) {
    let modified = format!("2026-01-01T00:00:{:02}.000Z", n % 60);
    wfm_testkit::delivery::presence_change(user, "Available", &modified, Some("PURECLOUD"))
}

async fn commit_one(store: &Store, user: &str, n: u32) -> Vec<u64> {
    let (c, e) = presence(user, n);
    store
        .commit(Batch {
            changes: vec![c],
            events: vec![e],
        })
        .await
        .unwrap()
}

async fn sequences_survive_reopen_and_prune(at: Where) {
    {
        let store = at.open().await;
        assert_eq!(commit_one(&store, "u1", 1).await, vec![1]);
        assert_eq!(*store.committed().borrow(), 1);
        store.sync_cursors(vec!["a".into()]).await.unwrap();
        store.ack("a", 1, vec![]).await.unwrap();
        assert_eq!(store.prune().await.unwrap(), 1);
        assert_eq!(store.outbox_depth().await.unwrap(), 0);
    }
    let store = at.open().await;
    assert_eq!(
        *store.committed().borrow(),
        1,
        "the watch starts at the last sequence"
    );
    let mut live = store.live();
    assert_eq!(
        commit_one(&store, "u2", 2).await,
        vec![2],
        "never restarts after a prune"
    );
    let out = store.read_outbox(0, 10).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        live.try_recv().unwrap(),
        out[0].json,
        "live feed = committed JSON"
    );
    let v: serde_json::Value = serde_json::from_str(&out[0].json).unwrap();
    assert_eq!(v["sequence"], "2");
    assert_eq!(v["id"], out[0].id.as_str());
}

async fn concurrent_commits_group_and_keep_their_sequences(at: Where) {
    let store = at.open().await;
    let tasks: Vec<_> = (0..200u32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { commit_one(&store, &format!("u{i}"), i).await })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
    assert_eq!(store.outbox_depth().await.unwrap(), 200);
    assert_eq!(store.all_presences().await.unwrap().len(), 200);
    let seqs: Vec<u64> = store
        .read_outbox(0, 500)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<u64>>(),
        "the outbox reads back in order"
    );
}

/// What a sink reads from the committed tail (the handle that wrote) is what a handle
/// with an empty tail reads back from the database, at every cursor and limit.
async fn the_committed_tail_reads_as_the_store_does(at: Where) {
    let store = at.open().await;
    let tasks: Vec<_> = (0..300u32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { commit_one(&store, &format!("u{}", i % 7), i).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let other = at.open().await;
    for (after, limit) in [(0, 1000), (0, 1), (150, 7), (299, 10), (300, 10)] {
        let tail = store.read_outbox(after, limit).await.unwrap();
        let stored = other.read_outbox(after, limit).await.unwrap();
        assert_eq!(tail, stored, "after #{after}, limit {limit}");
    }
    assert_eq!(store.read_outbox(0, 1000).await.unwrap().len(), 300);
}

async fn state_round_trips(at: Where) {
    let store = at.open().await;
    let dirty = DirtyKey {
        business_unit_id: "bu".into(),
        schedule_id: "s1".into(),
    };
    let header = StoredSchedule {
        schedule_id: "s1".into(),
        business_unit_id: "bu".into(),
        week_date: "2026-01-05".into(),
        week_count: 2,
        published: true,
        version: 7,
    };
    let agent = |user: &str, hash: &str| StateChange::AgentSchedule {
        schedule_id: "s1".into(),
        mu_id: "mu".into(),
        user_id: user.into(),
        hash: hash.into(),
        canonical_json: format!("[\"{hash}\"]"),
    };
    let routing = StoredRoutingStatus {
        status: "IDLE".into(),
        start_time: "2026-01-05T08:00:00Z".into(),
    };
    let changes = vec![
        StateChange::Schedule(header.clone()),
        agent("a1", "h1"),
        agent("a2", "h2"),
        agent("a1", "h1b"),
        StateChange::MarkDirty(dirty.clone()),
        StateChange::MarkDirty(dirty.clone()),
        StateChange::RoutingStatus {
            user_id: "a1".into(),
            status: routing.clone(),
        },
        StateChange::Meta {
            key: "snap".into(),
            value: Some("done".into()),
        },
        presence("a1", 3).0,
    ];
    store
        .commit(Batch {
            changes,
            events: vec![],
        })
        .await
        .unwrap();
    assert_eq!(store.schedule_version("s1").await.unwrap(), Some(7));
    assert_eq!(store.known_schedule("s1").await.unwrap(), Some(header.clone()));
    assert_eq!(store.known_schedules().await.unwrap(), vec![header]);
    let hashes = store.agent_hashes("s1", "mu").await.unwrap();
    assert_eq!(
        (hashes["a1"].as_str(), hashes["a2"].as_str()),
        ("h1b", "h2"),
        "upserts replace"
    );
    let rows = store.agent_schedules_for_user("a1").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].week_date.as_deref(), Some("2026-01-05"));
    assert_eq!(store.dirty_keys().await.unwrap(), vec![dirty.clone()]);
    assert_eq!(store.routing_status("a1").await.unwrap(), Some(routing));
    assert_eq!(store.meta("snap").await.unwrap().as_deref(), Some("done"));
    let many = store.presences(&["a1".into(), "nobody".into()]).await.unwrap();
    assert_eq!(many.len(), 1);
    assert_eq!(store.presence("a1").await.unwrap(), many.get("a1").cloned());

    let changes = vec![
        StateChange::AgentRemoved {
            schedule_id: "s1".into(),
            mu_id: "mu".into(),
            user_id: "a2".into(),
        },
        StateChange::ClearDirty(dirty),
        StateChange::Meta {
            key: "snap".into(),
            value: None,
        },
    ];
    store
        .commit(Batch {
            changes,
            events: vec![],
        })
        .await
        .unwrap();
    assert_eq!(store.agent_hashes("s1", "mu").await.unwrap().len(), 1);
    assert!(store.dirty_keys().await.unwrap().is_empty());
    assert_eq!(store.meta("snap").await.unwrap(), None);
    let deleted = StateChange::ScheduleDeleted {
        schedule_id: "s1".into(),
    };
    store
        .commit(Batch {
            changes: vec![deleted],
            events: vec![],
        })
        .await
        .unwrap();
    assert!(store.known_schedules().await.unwrap().is_empty());
    assert!(store.agent_hashes("s1", "mu").await.unwrap().is_empty());
}

async fn cursors_acks_and_dead_letters(at: Where) {
    let store = at.open().await;
    store.sync_cursors(vec!["old".into()]).await.unwrap();
    for i in 0..3 {
        commit_one(&store, "u", i).await;
    }
    let cursors = store
        .sync_cursors(vec!["new".into(), "hook".into()])
        .await
        .unwrap();
    assert_eq!(cursors, vec![("new".to_string(), 3), ("hook".to_string(), 3)]);
    assert_eq!(
        store.cursor("old").await.unwrap(),
        None,
        "a removed sink loses its cursor"
    );
    commit_one(&store, "u", 4).await;
    let ev = store.read_outbox(3, 10).await.unwrap().remove(0);
    let dead = NewDeadLetter {
        seq: ev.seq,
        status: Some(400),
        error: "HTTP 400: no".into(),
        event: ev.json.to_string(),
    };
    store.ack("hook", 4, vec![dead]).await.unwrap();
    store.ack("hook", 2, vec![]).await.unwrap();
    assert_eq!(
        store.cursor("hook").await.unwrap(),
        Some(4),
        "a cursor never moves back"
    );
    let letters = store.dead_letters().await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].sequence, letters[0].status), (4, Some(400)));
    assert_eq!(letters[0].event["id"], ev.id.as_str());
    assert_eq!(store.dead_letter_count().await.unwrap(), 1);
    assert!(store.pending_replays("hook", 10).await.unwrap().is_empty());
    assert_eq!(store.request_replay(vec![]).await.unwrap(), 1);
    let pending = store.pending_replays("hook", 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    store
        .finish_replay(pending[0].id, Some((Some(422), "again".into())))
        .await
        .unwrap();
    assert!(!store.dead_letters().await.unwrap()[0].replay_pending);
    assert_eq!(store.request_replay(vec![pending[0].id]).await.unwrap(), 1);
    store.finish_replay(pending[0].id, None).await.unwrap();
    assert_eq!(store.dead_letter_count().await.unwrap(), 0);
    // "new" is still at 3: only the prefix both acknowledged goes.
    assert_eq!(store.prune().await.unwrap(), 3);
    assert_eq!(store.outbox_depth().await.unwrap(), 1);
}

#[tokio::test]
async fn postgres_migrates_once_and_refuses_a_newer_schema() {
    let Some(schema) = Schema::create_or_skip("store postgres newer schema").await else {
        return;
    };
    drop(Store::open_postgres(&schema.url, Fence::default()).await.unwrap());
    // A second start finds the schema current and applies nothing.
    drop(Store::open_postgres(&schema.url, Fence::default()).await.unwrap());
    let q = format!("SELECT count(*) FROM {}.wfm_reactor_migrations", schema.name);
    let steps: i64 = schema.admin().query_one(&q, &[]).await.unwrap().get(0);
    assert_eq!(steps as i32, wfm_reactor::store::postgres::schema_version());
    let bump = format!(
        "INSERT INTO {}.wfm_reactor_migrations (version) VALUES (999)",
        schema.name
    );
    schema.admin().execute(&bump, &[]).await.unwrap();
    let err = Store::open_postgres(&schema.url, Fence::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Incompatible { .. }), "{err:?}");
    assert!(err.to_string().contains("schema version 999 is newer"), "{err}");
}

#[tokio::test]
async fn postgres_unreachable_is_a_clear_error() {
    let err = Store::open_postgres("postgres://nobody@127.0.0.1:1/none", Fence::default())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Postgres(_)), "{err:?}");
    assert!(err.to_string().starts_with("state store (postgres):"), "{err}");
}
