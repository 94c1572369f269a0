//! [`Store`]: the one handle the daemon uses, over either backend.
//!
//! The backends are a closed set, so an enum (as the sinks are), not a trait object:
//! every method is one `match` that forwards to the backend's method of the same name
//! and signature, and the compiler checks both backends offer all of them.

use super::postgres::{Fence, PgStore};
use super::tail::{CommittedTail, TAIL_BUDGET};
use super::{
    AgentScheduleRow, Batch, DeadLetter, DirtyKey, LIVE_CAPACITY, NewDeadLetter, OutboxEvent, Queued,
    SqliteStore, StoreError, StoredPresence, StoredRoutingStatus, StoredSchedule,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Handle on the store; clone freely.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// The newest committed events, filled by the backend's writer after each commit.
    tail: Arc<CommittedTail>,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Forwards `self.method(args)` to the backend.
macro_rules! forward {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(s) => s.$method($($arg),*).await,
            Backend::Postgres(p) => p.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens or creates the SQLite store at `path` (and its parent directory). A garbage
    /// or incompatible file is an error naming the file, never silently reset.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let tail = Arc::new(CommittedTail::new(TAIL_BUDGET));
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open(path, live, tail.clone())?),
            tail,
        })
    }

    /// Connects to the PostgreSQL store at `url` and migrates its schema. `fence` is
    /// the lease epoch every write must still hold ([`Fence::default`]: no lease).
    pub async fn open_postgres(url: &str, fence: Fence) -> Result<Store, StoreError> {
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let tail = Arc::new(CommittedTail::new(TAIL_BUDGET));
        Ok(Store {
            backend: Backend::Postgres(PgStore::open(url, fence, live, tail.clone()).await?),
            tail,
        })
    }

    /// The store `[state]` describes: PostgreSQL when `url` is set (no lease), else the file.
    pub async fn open_configured(state: &crate::config::StateConfig) -> Result<Store, StoreError> {
        match &state.url {
            Some(url) => Store::open_postgres(url.expose(), Fence::default()).await,
            None => Store::open(&state.path),
        }
    }

    /// Which backend this is (`"sqlite"` or `"postgres"`), for logs.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Commits state changes and events in one transaction; returns the events'
    /// sequences. Answers only after the transaction is durable.
    pub async fn commit(&self, batch: Batch) -> Result<Vec<u64>, StoreError> {
        self.queue(batch).await?.committed().await
    }

    /// Puts `batch` in the writer's queue and returns once it holds its place (waiting
    /// only while the queue is full). Batches queued one after the other by one task
    /// commit in that order; [`Store::commit`] is this plus the wait.
    pub async fn queue(&self, batch: Batch) -> Result<Queued, StoreError> {
        let timing = super::queue::timing(&batch);
        let answer = forward!(self.queue(batch))?;
        Ok(Queued::new(timing, answer))
    }

    /// The last committed sequence, updated after every commit (wakes sink tasks).
    pub fn committed(&self) -> watch::Receiver<u64> {
        match &self.backend {
            Backend::Sqlite(s) => s.committed(),
            Backend::Postgres(p) => p.committed(),
        }
    }

    /// False once the writer has stopped: every commit would fail, so readiness says so.
    pub(crate) fn is_healthy(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(s) => s.is_healthy(),
            Backend::Postgres(p) => p.is_healthy(),
        }
    }

    /// The live feed's sender, for subscribers that join later (the admin SSE endpoint).
    pub(crate) fn live_sender(&self) -> broadcast::Sender<Arc<str>> {
        match &self.backend {
            Backend::Sqlite(s) => s.live_sender(),
            Backend::Postgres(p) => p.live_sender(),
        }
    }

    /// Every committed event's JSON from now on; lossy (`Lagged`) for slow receivers.
    pub fn live(&self) -> broadcast::Receiver<Arc<str>> {
        self.live_sender().subscribe()
    }
}

// === impl Store (outbox, cursors, dead letters) ===

impl Store {
    /// Up to `limit` committed events after `after`, in order, at most about
    /// `MAX_BATCH_BYTES` of JSON (always at least one event): from the committed tail
    /// when it holds the next one, else from the store.
    pub async fn read_outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        if let Some(events) = self.tail.read(after, limit, super::outbox::MAX_BATCH_BYTES) {
            crate::telemetry::delivery::outbox_read("tail");
            return Ok(events);
        }
        crate::telemetry::delivery::outbox_read("store");
        forward!(self.read_outbox(after, limit))
    }
    /// Events currently kept in the outbox (not yet pruned).
    pub async fn outbox_depth(&self) -> Result<u64, StoreError> {
        forward!(self.outbox_depth())
    }
    /// Makes the cursor set equal `sinks`: a new sink starts at the current end of the
    /// outbox, a sink no longer configured loses its cursor. Each sink's cursor, in order.
    pub async fn sync_cursors(&self, sinks: Vec<String>) -> Result<Vec<(String, u64)>, StoreError> {
        forward!(self.sync_cursors(sinks))
    }
    /// A sink's cursor (last acknowledged sequence), if it has one.
    pub async fn cursor(&self, sink: &str) -> Result<Option<u64>, StoreError> {
        forward!(self.cursor(sink))
    }
    /// Acknowledges everything up to `upto` for `sink`, recording dead letters in the
    /// same transaction (a dead-lettered event is never skipped without a trace).
    pub async fn ack(&self, sink: &str, upto: u64, dead: Vec<NewDeadLetter>) -> Result<(), StoreError> {
        forward!(self.ack(sink, upto, dead))
    }
    /// Deletes outbox entries every sink has acknowledged; returns how many.
    pub async fn prune(&self) -> Result<usize, StoreError> {
        forward!(self.prune())
    }
    /// Every dead letter, oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        forward!(self.dead_letters())
    }
    /// Flags dead letters for redelivery (all when `ids` is empty); how many.
    pub async fn request_replay(&self, ids: Vec<i64>) -> Result<usize, StoreError> {
        forward!(self.request_replay(ids))
    }
    /// Dead letters of `sink` flagged for replay, oldest first.
    pub async fn pending_replays(&self, sink: &str, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        forward!(self.pending_replays(sink, limit))
    }
    /// Records a replay's outcome: delivered (`None`: deleted) or refused again.
    pub async fn finish_replay(
        &self,
        id: i64,
        refused: Option<(Option<u16>, String)>,
    ) -> Result<(), StoreError> {
        forward!(self.finish_replay(id, refused))
    }
    /// How many dead letters are stored.
    pub async fn dead_letter_count(&self) -> Result<u64, StoreError> {
        forward!(self.dead_letter_count())
    }
}

// === impl Store (last-known state) ===

impl Store {
    /// The stored `metadata.version` of a schedule.
    pub async fn schedule_version(&self, schedule_id: &str) -> Result<Option<i64>, StoreError> {
        forward!(self.schedule_version(schedule_id))
    }
    /// One known schedule header.
    pub async fn known_schedule(&self, schedule_id: &str) -> Result<Option<StoredSchedule>, StoreError> {
        forward!(self.known_schedule(schedule_id))
    }
    /// Every known schedule header.
    pub async fn known_schedules(&self) -> Result<Vec<StoredSchedule>, StoreError> {
        forward!(self.known_schedules())
    }
    /// user id → canonical hash for one (schedule, management unit).
    pub async fn agent_hashes(
        &self,
        schedule_id: &str,
        mu_id: &str,
    ) -> Result<HashMap<String, String>, StoreError> {
        forward!(self.agent_hashes(schedule_id, mu_id))
    }
    /// Every stored agent schedule of one user (for "scheduled activity now").
    pub async fn agent_schedules_for_user(&self, user_id: &str) -> Result<Vec<AgentScheduleRow>, StoreError> {
        forward!(self.agent_schedules_for_user(user_id))
    }
    /// A user's stored presence.
    pub async fn presence(&self, user_id: &str) -> Result<Option<StoredPresence>, StoreError> {
        forward!(self.presence(user_id))
    }
    /// Stored presences of many users (unknown users are absent from the map).
    pub async fn presences(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, StoredPresence>, StoreError> {
        forward!(self.presences(user_ids))
    }
    /// Every stored presence (for `/v1/state`).
    pub async fn all_presences(&self) -> Result<HashMap<String, StoredPresence>, StoreError> {
        forward!(self.all_presences())
    }
    /// A user's stored routing status.
    pub async fn routing_status(&self, user_id: &str) -> Result<Option<StoredRoutingStatus>, StoreError> {
        forward!(self.routing_status(user_id))
    }
    /// Keys marked dirty and not yet cleared (re-fetch them after a restart).
    pub async fn dirty_keys(&self) -> Result<Vec<DirtyKey>, StoreError> {
        forward!(self.dirty_keys())
    }
    /// Every stored adherence row.
    pub async fn all_adherence(&self) -> Result<Vec<super::StoredAdherence>, StoreError> {
        forward!(self.all_adherence())
    }
    /// Every stored routing status, by user (rebuilding the adherence engine at start).
    pub async fn all_routing_statuses(&self) -> Result<Vec<(String, StoredRoutingStatus)>, StoreError> {
        forward!(self.all_routing_statuses())
    }
    /// Every stored agent schedule with its user (rebuilding the adherence engine).
    pub async fn all_agent_schedules(&self) -> Result<Vec<super::StoredAgentSchedule>, StoreError> {
        forward!(self.all_agent_schedules())
    }
    /// The oldest sequence still in the outbox (`None` when it is empty).
    pub async fn oldest_sequence(&self) -> Result<Option<u64>, StoreError> {
        forward!(self.oldest_sequence())
    }
    /// A meta value (set through `StateChange::Meta`).
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        forward!(self.meta(key))
    }
}
