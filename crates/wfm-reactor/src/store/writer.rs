//! The store actors: one OS thread owns the writer connection and group-commits, one
//! owns a read-only connection.
//!
//! Group commit: the writer takes every request already queued (up to
//! [`MAX_GROUP`]) and runs them in ONE SQLite transaction, each inside its own
//! savepoint so one failing request never undoes the others. Callers are answered only
//! after that transaction committed, so "committed" is never said too early, while one
//! fsync-bound commit is shared by hundreds of requests.
//!
//! The queue is FIFO and groups run one after the other, so requests commit (and their
//! events take outbox sequences) in the order they were queued (see `queue.rs`).

use super::StoreError;
use super::tail::{CommittedTail, GroupEvents};
use rusqlite::{Connection, TransactionBehavior};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};

/// Most requests folded into one transaction (bounds latency of the first one).
pub const MAX_GROUP: usize = 1024;

/// Writer-side state shared by the requests of one group.
#[derive(Debug)]
pub struct GroupState {
    /// The sequence the next appended event gets.
    pub next_seq: u64,
    /// Events appended in this group, kept until the commit for the live feed (when it
    /// has receivers) and the committed tail (within its budget): a snapshot group can
    /// hold hundreds of megabytes of schedule events, which are not kept.
    pub events: GroupEvents,
}

/// Called once the group's fate is known.
pub type Reply = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// One write request: runs inside a savepoint, returns (succeeded, reply).
pub type WriteOp = Box<dyn FnOnce(&Connection, &mut GroupState) -> (bool, Reply) + Send>;
/// One read request on the read-only connection.
pub type ReadOp = Box<dyn FnOnce(&Connection) + Send>;

/// Where committed events are announced.
pub struct Outputs {
    /// Last committed sequence.
    pub committed: watch::Sender<u64>,
    /// Every committed event's JSON, lossy for slow receivers.
    pub live: broadcast::Sender<Arc<str>>,
    /// The newest committed events, for sinks that keep up.
    pub tail: Arc<CommittedTail>,
}

/// The writer loop; ends when every handle is dropped.
pub(crate) fn run_writer(mut conn: Connection, mut rx: mpsc::Receiver<WriteOp>, next_seq: u64, out: Outputs) {
    let mut state = GroupState {
        next_seq,
        events: GroupEvents::new(false, out.tail.budget()),
    };
    let mut ops = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.blocking_recv() {
        ops.push(first);
        while ops.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(op) => ops.push(op),
                Err(_) => break,
            }
        }
        run_group(&mut conn, &mut ops, &mut state, &out);
    }
}

fn run_group(conn: &mut Connection, ops: &mut Vec<WriteOp>, state: &mut GroupState, out: &Outputs) {
    let group_start = state.next_seq;
    // Best effort by design: a receiver subscribing during this group sees the next one.
    state.events = GroupEvents::new(out.live.receiver_count() > 0, out.tail.budget());
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // Dropping the requests answers each caller with `WriterGone`.
            crate::telemetry::delivery::store_commit_failed(&e.to_string(), ops.len());
            ops.clear();
            return;
        }
    };
    let replies = if ops.len() == 1 {
        match run_alone(&tx, ops.pop().expect("one request"), state) {
            Ok(reply) => vec![reply],
            Err(reply) => {
                // Dropping the transaction rolls it back: nothing of the request stays.
                drop(tx);
                reply(Ok(()));
                return;
            }
        }
    } else {
        run_in_savepoints(&tx, ops, state)
    };
    match tx.commit() {
        Ok(()) => {
            // Announce before answering: a caller told "committed" sees it in the watch.
            state.events.publish(&out.tail, &out.live);
            if state.next_seq > group_start {
                out.committed.send_replace(state.next_seq - 1);
            }
            for reply in replies {
                reply(Ok(()));
            }
        }
        Err(e) => {
            let err = StoreError::from(e);
            crate::telemetry::delivery::store_commit_failed(&err.to_string(), replies.len());
            for reply in replies {
                reply(Err(err.clone()));
            }
            state.next_seq = group_start;
            state.events.discard();
        }
    }
}

/// A group of one request needs no savepoint: the transaction is its undo. (A savepoint
/// makes SQLite copy every page the request touches into its statement journal first,
/// which on a paced stream, one request per group, was a fifth of the writer's time.)
/// `Err` carries the reply of a request that failed: the caller rolls back.
fn run_alone(conn: &Connection, op: WriteOp, state: &mut GroupState) -> Result<Reply, Reply> {
    let before = (state.next_seq, state.events.len());
    let (ok, reply) = op(conn, state);
    if ok {
        return Ok(reply);
    }
    state.next_seq = before.0;
    state.events.undo_to(before.1);
    Err(reply)
}

/// Runs each request in its own savepoint, so one failing request is undone alone.
fn run_in_savepoints(conn: &Connection, ops: &mut Vec<WriteOp>, state: &mut GroupState) -> Vec<Reply> {
    let mut replies = Vec::with_capacity(ops.len());
    for op in ops.drain(..) {
        let before = (state.next_seq, state.events.len());
        // Savepoints by cached prepared statements: rusqlite's `Savepoint` re-parses
        // its SQL every time, which showed up in the hot path of one-event commits.
        if let Err(e) = savepoint(conn, "SAVEPOINT req") {
            crate::telemetry::delivery::store_commit_failed(&e.to_string(), 1);
            continue;
        }
        let (ok, reply) = op(conn, state);
        let kept = ok && savepoint(conn, "RELEASE req").is_ok();
        if !kept {
            let undone = savepoint(conn, "ROLLBACK TO req").and_then(|_| savepoint(conn, "RELEASE req"));
            if let Err(e) = undone {
                crate::telemetry::delivery::store_commit_failed(&e.to_string(), 1);
            }
            state.next_seq = before.0;
            state.events.undo_to(before.1);
        }
        replies.push(reply);
    }
    replies
}

fn savepoint(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// The reader loop; ends when every handle is dropped.
pub(crate) fn run_reader(conn: Connection, mut rx: mpsc::Receiver<ReadOp>) {
    while let Some(op) = rx.blocking_recv() {
        op(&conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An op inserting `x`, then failing when asked; its reply records the outcome.
    fn op(x: i64, fail: bool, log: Arc<Mutex<Vec<(i64, bool)>>>) -> WriteOp {
        Box::new(move |conn, st| {
            conn.execute("INSERT INTO t VALUES (?1)", [x]).unwrap();
            st.next_seq += 1;
            st.events
                .keep(st.next_seq - 1, &format!("id-{x}"), &x.to_string());
            let reply: Reply = Box::new(move |commit| {
                log.lock().unwrap().push((x, commit.is_ok() && !fail));
            });
            (!fail, reply)
        })
    }

    fn outputs(tail_budget: usize) -> (Outputs, watch::Receiver<u64>, broadcast::Receiver<Arc<str>>) {
        let (committed, rx) = watch::channel(0);
        let (live, live_rx) = broadcast::channel(16);
        let tail = Arc::new(CommittedTail::new(tail_budget));
        (
            Outputs {
                committed,
                live,
                tail,
            },
            rx,
            live_rx,
        )
    }

    /// What table `t` holds, in insertion order.
    fn rows_of(conn: &Connection) -> Vec<i64> {
        conn.prepare("SELECT x FROM t")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn group_state(next_seq: u64) -> GroupState {
        GroupState {
            next_seq,
            events: GroupEvents::new(false, 0),
        }
    }

    #[test]
    fn a_failing_request_is_undone_alone_and_answers_follow_the_commit() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let (out, rx, mut live_rx) = outputs(1024);
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut ops: Vec<WriteOp> = vec![
            op(1, false, log.clone()),
            op(2, true, log.clone()),
            op(3, false, log.clone()),
        ];
        let mut st = group_state(10);
        run_group(&mut conn, &mut ops, &mut st, &out);

        let rows = rows_of(&conn);
        assert_eq!(rows, vec![1, 3], "only the failing request is rolled back");
        assert_eq!(*log.lock().unwrap(), vec![(1, true), (2, false), (3, true)]);
        assert_eq!(st.next_seq, 12, "the failed request's sequence is reused");
        assert_eq!(*rx.borrow(), 11, "watch = last committed sequence");
        assert_eq!(&*live_rx.try_recv().unwrap(), "1");
        assert_eq!(&*live_rx.try_recv().unwrap(), "3");
        let tail: Vec<(u64, String)> = out
            .tail
            .read(9, 10, 1 << 20)
            .expect("the tail holds the group")
            .into_iter()
            .map(|e| (e.seq, e.json.to_string()))
            .collect();
        assert_eq!(tail, vec![(10, "1".into()), (11, "3".into())], "committed only");
    }

    #[test]
    fn a_failing_request_alone_in_its_group_is_rolled_back_and_the_next_group_commits() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let (out, rx, mut live_rx) = outputs(1024);
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut st = group_state(10);
        run_group(&mut conn, &mut vec![op(1, true, log.clone())], &mut st, &out);
        assert_eq!(st.next_seq, 10, "its sequence is handed out again");
        assert_eq!(*rx.borrow(), 0, "nothing was announced");
        assert!(live_rx.try_recv().is_err());
        assert!(out.tail.read(9, 10, 100).is_none());
        run_group(&mut conn, &mut vec![op(2, false, log.clone())], &mut st, &out);
        let rows = rows_of(&conn);
        assert_eq!(rows, vec![2], "the failed request left no row");
        assert_eq!(*log.lock().unwrap(), vec![(1, false), (2, true)]);
        assert_eq!(*rx.borrow(), 10);
        assert_eq!(&*live_rx.try_recv().unwrap(), "2");
        assert_eq!(out.tail.read(9, 10, 100).unwrap()[0].seq, 10);
    }

    #[test]
    fn without_live_receivers_beyond_the_tail_budget_nothing_is_kept_and_the_watch_still_advances() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let (out, rx, live_rx) = outputs(0);
        drop(live_rx);
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut ops: Vec<WriteOp> = vec![op(1, false, log.clone()), op(2, true, log.clone())];
        let mut st = group_state(5);
        run_group(&mut conn, &mut ops, &mut st, &out);
        assert!(!st.events.is_live(), "no receiver: the group keeps no JSON");
        assert!(st.events.is_empty());
        assert!(out.tail.read(4, 10, 100).is_none(), "nothing fits the tail");
        assert_eq!(st.next_seq, 6);
        assert_eq!(
            *rx.borrow(),
            5,
            "the committed sequence is announced all the same"
        );
        // A later receiver gets the JSON of the groups after it subscribed.
        let mut late = out.live.subscribe();
        let mut ops: Vec<WriteOp> = vec![op(3, false, log.clone())];
        run_group(&mut conn, &mut ops, &mut st, &out);
        assert_eq!(&*late.try_recv().unwrap(), "3");
        assert_eq!(*rx.borrow(), 6);
    }
}
