//! The leader lease on a real PostgreSQL: one holder at a time, a takeover increments the
//! epoch, and a leader whose lock session is cut commits nothing more (fencing).

use std::time::Duration;
use tokio_util::sync::CancellationToken;
use wfm_reactor::events::{Cause, NewEvent, PresenceChanged};
use wfm_reactor::store::{Batch, Store, StoreError, lease};
use wfm_testkit::services::postgres::Schema;

const TAKEOVER: Duration = Duration::from_secs(2);

fn event(n: u32) -> Batch {
    let data = PresenceChanged {
        user_id: format!("u{n}"),
        system_presence: "Available".into(),
        presence_definition_id: "d".into(),
        previous: None,
        modified_date: format!("2026-01-01T00:00:{:02}.000Z", n % 60),
        source: None,
        cause: Cause::Notification,
    };
    Batch {
        changes: vec![],
        events: vec![NewEvent::presence_changed("api.test", &data)],
    }
}

#[tokio::test]
async fn a_cut_lock_session_fences_the_leader_and_a_standby_takes_over_with_the_next_epoch() {
    let Some(schema) = Schema::create_or_skip("lease takeover").await else {
        return;
    };
    let cancel = CancellationToken::new();
    let mut a = lease::acquire(&schema.url, "a", TAKEOVER, &cancel).await.unwrap();
    let store_a = Store::open_postgres(&schema.url, a.fence()).await.unwrap();
    assert_eq!(store_a.commit(event(1)).await.unwrap(), vec![1]);

    // The standby polls; it cannot have the lock while A holds it.
    let standby = {
        let (url, cancel) = (schema.url.clone(), cancel.clone());
        tokio::spawn(async move { lease::acquire(&url, "b", TAKEOVER, &cancel).await })
    };
    tokio::time::sleep(TAKEOVER).await;
    assert!(
        !standby.is_finished(),
        "no second holder while the first holds the lock"
    );

    let cut = tokio::time::Instant::now();
    schema
        .admin()
        .execute("SELECT pg_terminate_backend($1)", &[&a.session_pid()])
        .await
        .unwrap();
    tokio::time::timeout(TAKEOVER, a.lost())
        .await
        .expect("the leader notices at once");
    let err = store_a.commit(event(2)).await.unwrap_err();
    assert!(matches!(err, StoreError::Fenced { ours: 1, .. }), "{err:?}");

    let b = tokio::time::timeout(TAKEOVER * 2, standby)
        .await
        .expect("the standby takes over within the takeover time")
        .unwrap()
        .unwrap();
    let took = cut.elapsed();
    assert_eq!(b.epoch(), a.epoch() + 1);
    assert!(took <= TAKEOVER, "takeover took {took:?}");
    let store_b = Store::open_postgres(&schema.url, b.fence()).await.unwrap();
    assert_eq!(
        store_b.commit(event(3)).await.unwrap(),
        vec![2],
        "sequences continue from the shared outbox"
    );
    let err = store_a.commit(event(4)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Fenced { ours: 1, current: 2 }),
        "{err:?}"
    );
    let ids: Vec<u64> = store_b
        .read_outbox(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(ids, vec![1, 2], "nothing of the fenced leader after the cut");
    cancel.cancel();
}
