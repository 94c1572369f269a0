//! The store: atomic commits, sequences, reopen, clear errors for bad files.

use wfm_reactor::events::NewEvent;
use wfm_reactor::store::{Batch, DirtyKey, StateChange, Store, StoreError};

/// A presence change of `user` whose `modifiedDate` second is `n` (mod 60).
fn presence_event(user: &str, n: u32) -> (StateChange, NewEvent) {
    let modified = format!("2026-01-01T00:00:{:02}.000Z", n % 60);
    wfm_testkit::delivery::presence_change(user, "Available", &modified, Some("PURECLOUD"))
}

#[tokio::test]
async fn commits_survive_reopen_and_sequences_keep_growing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/store.db");
    {
        let store = Store::open(&path).unwrap();
        let (c, e) = presence_event("u1", 1);
        let dirty = DirtyKey {
            business_unit_id: "bu".into(),
            schedule_id: "s1".into(),
        };
        let seqs = store
            .commit(Batch {
                changes: vec![
                    c,
                    StateChange::MarkDirty(dirty.clone()),
                    StateChange::Meta {
                        key: "snap".into(),
                        value: Some("done".into()),
                    },
                ],
                events: vec![e],
            })
            .await
            .unwrap();
        assert_eq!(seqs, vec![1]);
        assert_eq!(*store.committed().borrow(), 1);
        assert_eq!(store.dirty_keys().await.unwrap(), vec![dirty]);
        // Prune everything so the sequence must come from meta after reopen.
        store.sync_cursors(vec!["a".into()]).await.unwrap();
        store.ack("a", 1, vec![]).await.unwrap();
        assert_eq!(store.prune().await.unwrap(), 1);
        assert_eq!(store.outbox_depth().await.unwrap(), 0);
    }
    let store = Store::open(&path).unwrap();
    let mut live = store.live();
    assert_eq!(
        *store.committed().borrow(),
        1,
        "the watch starts at the last sequence"
    );
    assert_eq!(
        store.presence("u1").await.unwrap().unwrap().system_presence,
        "Available"
    );
    assert_eq!(store.meta("snap").await.unwrap().as_deref(), Some("done"));
    let (c, e) = presence_event("u2", 2);
    let seqs = store
        .commit(Batch {
            changes: vec![c],
            events: vec![e],
        })
        .await
        .unwrap();
    assert_eq!(seqs, vec![2], "sequences never restart after a prune");
    let out = store.read_outbox(0, 10).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        live.try_recv().unwrap(),
        out[0].json,
        "the live feed carries the committed JSON"
    );
    let v: serde_json::Value = serde_json::from_str(&out[0].json).unwrap();
    assert_eq!(v["sequence"], "2");
    assert_eq!(v["id"], out[0].id.as_str());
}

#[tokio::test]
async fn concurrent_commits_are_grouped_yet_each_gets_its_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let (c, e) = presence_event(&format!("u{i}"), i);
            store
                .commit(Batch {
                    changes: vec![c],
                    events: vec![e],
                })
                .await
                .unwrap()
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
    assert_eq!(store.outbox_depth().await.unwrap(), 200);
    assert_eq!(store.all_presences().await.unwrap().len(), 200);
}

#[tokio::test]
async fn garbage_file_is_a_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![0x5au8; 8192]).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage.db"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), vec![0x5au8; 8192], "never reset");
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Incompatible { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("future.db") && msg.contains("99"), "{msg}");
}

#[tokio::test]
async fn foreign_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x)").unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Incompatible { .. }), "{err:?}");
}

#[tokio::test]
async fn new_sink_starts_at_end_and_removed_sink_loses_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).unwrap();
    store.sync_cursors(vec!["old".into()]).await.unwrap();
    for i in 0..3 {
        let (c, e) = presence_event("u", i);
        store
            .commit(Batch {
                changes: vec![c],
                events: vec![e],
            })
            .await
            .unwrap();
    }
    let cursors = store.sync_cursors(vec!["new".into()]).await.unwrap();
    assert_eq!(cursors, vec![("new".to_string(), 3)]);
    assert_eq!(store.cursor("old").await.unwrap(), None);
}
