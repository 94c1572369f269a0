//! The PostgreSQL writer task: group commit with one savepoint per request, and the
//! epoch check (fencing) as the first statement of every transaction.
//!
//! Requests are data (not closures over a connection, as in the SQLite writer) because
//! the same request must run on whichever pooled connection the group got.

use super::super::state::StateChange;
use super::super::{Batch, NewDeadLetter, StoreError};
use super::{Fence, pg_err};
use crate::store::tail::{CommittedTail, GroupEvents};
use deadpool_postgres::{Pool, Transaction};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Most requests folded into one transaction (as the SQLite writer).
const MAX_GROUP: usize = 1024;
const LAST_SEQ_KEY: &str = "outbox_last_seq";

/// One write.
pub enum Write {
    /// State changes and their events.
    Commit(Batch),
    /// Make the cursor set equal these sinks.
    SyncCursors(Vec<String>),
    /// Acknowledge up to `upto`, recording dead letters.
    Ack(String, u64, Vec<NewDeadLetter>),
    /// Delete the outbox prefix every sink acknowledged.
    Prune,
    /// Flag dead letters for replay (all when empty).
    RequestReplay(Vec<i64>),
    /// A replay's outcome.
    FinishReplay(i64, Option<(Option<u16>, String)>),
}

/// What a write answers.
#[derive(Debug)]
pub enum Done {
    /// Sequences of the committed events.
    Seqs(Vec<u64>),
    /// Each sink's cursor.
    Cursors(Vec<(String, u64)>),
    /// Rows affected.
    Count(usize),
}

/// A queued write and where its answer goes.
pub struct Request {
    /// The write.
    pub write: Write,
    /// Answered once the group's transaction committed (or failed).
    pub reply: oneshot::Sender<Result<Done, StoreError>>,
}

/// What the writer announces after each commit.
pub struct Outputs {
    /// Last committed sequence.
    pub committed: watch::Sender<u64>,
    /// Committed events' JSON (lossy).
    pub live: broadcast::Sender<Arc<str>>,
    /// The newest committed events, for sinks that keep up.
    pub tail: Arc<CommittedTail>,
}

/// The writer loop: ends when every handle is dropped.
pub async fn run(pool: Pool, mut rx: mpsc::Receiver<Request>, mut next_seq: u64, fence: Fence, out: Outputs) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        let start = next_seq;
        if let Err(e) = run_group(&pool, &mut group, &mut next_seq, &fence, &out).await {
            // Nothing of the group committed: its sequences are handed out again.
            next_seq = start;
            crate::telemetry::delivery::store_commit_failed(&e.to_string(), group.len());
            for r in group.drain(..) {
                let _ = r.reply.send(Err(e.clone()));
            }
        }
    }
}

async fn run_group(
    pool: &Pool,
    group: &mut Vec<Request>,
    next_seq: &mut u64,
    fence: &Fence,
    out: &Outputs,
) -> Result<(), StoreError> {
    let mut conn = pool.get().await.map_err(|e| StoreError::Postgres(Arc::new(e)))?;
    let tx = conn.transaction().await.map_err(pg_err)?;
    fence.check(&tx).await?;
    let start = *next_seq;
    let mut events = GroupEvents::new(out.live.receiver_count() > 0, out.tail.budget());
    let mut answers = Vec::with_capacity(group.len());
    for req in group.iter() {
        tx.batch_execute("SAVEPOINT req").await.map_err(pg_err)?;
        let (seq_before, events_before) = (*next_seq, events.len());
        let mut st = GroupState {
            next_seq: *next_seq,
            epoch: fence.epoch_or_zero(),
            events: &mut events,
        };
        let result = apply(&tx, &req.write, &mut st).await;
        *next_seq = st.next_seq;
        if result.is_ok() {
            tx.batch_execute("RELEASE SAVEPOINT req").await.map_err(pg_err)?;
        } else {
            tx.batch_execute("ROLLBACK TO SAVEPOINT req; RELEASE SAVEPOINT req")
                .await
                .map_err(pg_err)?;
            *next_seq = seq_before;
            events.undo_to(events_before);
        }
        answers.push(result);
    }
    tx.commit().await.map_err(pg_err)?;
    events.publish(&out.tail, &out.live);
    if *next_seq > start {
        out.committed.send_replace(*next_seq - 1);
    }
    for (req, answer) in group.drain(..).zip(answers) {
        let _ = req.reply.send(answer);
    }
    Ok(())
}

struct GroupState<'a> {
    next_seq: u64,
    epoch: i64,
    events: &'a mut GroupEvents,
}

async fn apply(tx: &Transaction<'_>, write: &Write, st: &mut GroupState<'_>) -> Result<Done, StoreError> {
    match write {
        Write::Commit(batch) => {
            for change in &batch.changes {
                apply_change(tx, change).await?;
            }
            append(tx, batch, st).await.map(Done::Seqs)
        }
        Write::SyncCursors(sinks) => sync_cursors(tx, sinks, st.next_seq - 1).await.map(Done::Cursors),
        Write::Ack(sink, upto, dead) => {
            for d in dead {
                insert_dead_letter(tx, sink, d).await?;
            }
            let n = exec(
                tx,
                "UPDATE cursors SET seq = greatest(seq, $2) WHERE sink = $1",
                &[sink, &(*upto as i64)],
            )
            .await?;
            Ok(Done::Count(n))
        }
        Write::Prune => prune(tx, st.next_seq - 1).await.map(Done::Count),
        Write::RequestReplay(ids) if ids.is_empty() => {
            exec(tx, "UPDATE dead_letters SET replay = true", &[]).await.map(Done::Count)
        }
        Write::RequestReplay(ids) => exec(tx, "UPDATE dead_letters SET replay = true WHERE id = ANY($1)", &[ids])
            .await
            .map(Done::Count),
        Write::FinishReplay(id, None) => exec(tx, "DELETE FROM dead_letters WHERE id = $1", &[id])
            .await
            .map(Done::Count),
        Write::FinishReplay(id, Some((status, error))) => exec(
            tx,
            "UPDATE dead_letters SET replay = false, status = $2, error = $3, dead_lettered_at = $4 WHERE id = $1",
            &[id, &status.map(i32::from), error, &chrono::Utc::now().to_rfc3339()],
        )
        .await
        .map(Done::Count),
    }
}

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

async fn exec(tx: &Transaction<'_>, sql: &str, params: &[Param<'_>]) -> Result<usize, StoreError> {
    let st = tx.prepare_cached(sql).await.map_err(pg_err)?;
    Ok(tx.execute(&st, params).await.map_err(pg_err)? as usize)
}

async fn apply_change(tx: &Transaction<'_>, c: &StateChange) -> Result<(), StoreError> {
    match c {
        StateChange::Schedule(s) => exec(
            tx,
            "INSERT INTO schedules VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (schedule_id) DO UPDATE SET \
             business_unit_id = excluded.business_unit_id, week_date = excluded.week_date, \
             week_count = excluded.week_count, published = excluded.published, version = excluded.version",
            &[&s.schedule_id, &s.business_unit_id, &s.week_date, &(s.week_count as i32), &s.published, &s.version],
        )
        .await?,
        StateChange::AgentSchedule { schedule_id, mu_id, user_id, hash, canonical_json } => exec(
            tx,
            "INSERT INTO agent_schedules VALUES ($1, $2, $3, $4, $5) ON CONFLICT (schedule_id, mu_id, user_id) \
             DO UPDATE SET hash = excluded.hash, canonical_json = excluded.canonical_json",
            &[schedule_id, mu_id, user_id, hash, canonical_json],
        )
        .await?,
        StateChange::AgentRemoved { schedule_id, mu_id, user_id } => exec(
            tx,
            "DELETE FROM agent_schedules WHERE schedule_id = $1 AND mu_id = $2 AND user_id = $3",
            &[schedule_id, mu_id, user_id],
        )
        .await?,
        StateChange::ScheduleDeleted { schedule_id } => {
            exec(tx, "DELETE FROM agent_schedules WHERE schedule_id = $1", &[schedule_id]).await?;
            exec(tx, "DELETE FROM schedules WHERE schedule_id = $1", &[schedule_id]).await?
        }
        StateChange::Presence { user_id, presence: p } => exec(
            tx,
            "INSERT INTO presence VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
             system_presence = excluded.system_presence, presence_definition_id = excluded.presence_definition_id, \
             modified_date = excluded.modified_date",
            &[user_id, &p.system_presence, &p.presence_definition_id, &p.modified_date],
        )
        .await?,
        StateChange::RoutingStatus { user_id, status } => exec(
            tx,
            "INSERT INTO routing_status VALUES ($1, $2, $3) ON CONFLICT (user_id) DO UPDATE SET \
             status = excluded.status, start_time = excluded.start_time",
            &[user_id, &status.status, &status.start_time],
        )
        .await?,
        StateChange::UserForgotten { user_id } => {
            exec(tx, "DELETE FROM presence WHERE user_id = $1", &[user_id]).await?;
            exec(tx, "DELETE FROM routing_status WHERE user_id = $1", &[user_id]).await?
        }
        StateChange::MarkDirty(k) => exec(
            tx,
            "INSERT INTO dirty VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&k.business_unit_id, &k.schedule_id],
        )
        .await?,
        StateChange::ClearDirty(k) => exec(
            tx,
            "DELETE FROM dirty WHERE business_unit_id = $1 AND schedule_id = $2",
            &[&k.business_unit_id, &k.schedule_id],
        )
        .await?,
        StateChange::Adherence(a) => exec(
            tx,
            "INSERT INTO adherence VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (user_id) DO UPDATE SET \
             management_unit_id = excluded.management_unit_id, business_unit_id = excluded.business_unit_id, \
             state = excluded.state, scheduled_category = excluded.scheduled_category, \
             scheduled_code_id = excluded.scheduled_code_id, actual_category = excluded.actual_category, \
             change_time = excluded.change_time, computed_by = excluded.computed_by",
            &[&a.user_id, &a.management_unit_id, &a.business_unit_id, &a.state, &a.scheduled_category,
              &a.scheduled_code_id, &a.actual_category, &a.change_time, &a.computed_by],
        )
        .await?,
        StateChange::Meta { key, value: Some(v) } => set_meta(tx, key, v).await?,
        StateChange::Meta { key, value: None } => exec(tx, "DELETE FROM meta WHERE key = $1", &[key]).await?,
    };
    Ok(())
}

async fn set_meta(tx: &Transaction<'_>, key: &str, value: &str) -> Result<usize, StoreError> {
    exec(
        tx,
        "INSERT INTO meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&key, &value],
    )
    .await
}

async fn append(
    tx: &Transaction<'_>,
    batch: &Batch,
    st: &mut GroupState<'_>,
) -> Result<Vec<u64>, StoreError> {
    let insert = tx
        .prepare_cached("INSERT INTO outbox (seq, event_id, json, epoch) VALUES ($1, $2, $3, $4)")
        .await
        .map_err(pg_err)?;
    let mut seqs = Vec::with_capacity(batch.events.len());
    for ev in &batch.events {
        let seq = st.next_seq;
        let json = ev.render(seq);
        tx.execute(&insert, &[&(seq as i64), &ev.id, &json, &st.epoch])
            .await
            .map_err(pg_err)?;
        st.next_seq += 1;
        st.events.keep(seq, &ev.id, &json);
        seqs.push(seq);
    }
    Ok(seqs)
}

async fn sync_cursors(
    tx: &Transaction<'_>,
    sinks: &[String],
    end: u64,
) -> Result<Vec<(String, u64)>, StoreError> {
    exec(tx, "DELETE FROM cursors WHERE NOT (sink = ANY($1))", &[&sinks]).await?;
    let mut out = Vec::with_capacity(sinks.len());
    for s in sinks {
        exec(
            tx,
            "INSERT INTO cursors VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[s, &(end as i64)],
        )
        .await?;
        let row = tx
            .query_one("SELECT seq FROM cursors WHERE sink = $1", &[s])
            .await
            .map_err(pg_err)?;
        out.push((s.clone(), row.get::<_, i64>(0) as u64));
    }
    Ok(out)
}

async fn prune(tx: &Transaction<'_>, last: u64) -> Result<usize, StoreError> {
    let row = tx
        .query_one("SELECT min(seq) FROM cursors", &[])
        .await
        .map_err(pg_err)?;
    let Some(min) = row.get::<_, Option<i64>>(0) else {
        return Ok(0);
    };
    set_meta(tx, LAST_SEQ_KEY, &last.to_string()).await?;
    exec(tx, "DELETE FROM outbox WHERE seq <= $1", &[&min]).await
}

async fn insert_dead_letter(
    tx: &Transaction<'_>,
    sink: &str,
    d: &NewDeadLetter,
) -> Result<usize, StoreError> {
    exec(
        tx,
        "INSERT INTO dead_letters (sink, seq, status, error, dead_lettered_at, event) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&sink, &(d.seq as i64), &d.status.map(i32::from), &d.error, &chrono::Utc::now().to_rfc3339(), &d.event],
    )
    .await
}

/// The highest sequence ever assigned (outbox or the value kept before pruning).
pub async fn last_sequence(client: &tokio_postgres::Client) -> Result<u64, StoreError> {
    let row = client
        .query_one(
            "SELECT greatest(coalesce((SELECT max(seq) FROM outbox), 0), \
             coalesce((SELECT value::bigint FROM meta WHERE key = $1), 0))",
            &[&LAST_SEQ_KEY],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.get::<_, i64>(0).max(0) as u64)
}
