//! The simulator's shared state: one mutex around everything mutable, never held across
//! an await, so REST handlers, sockets and the test handle see one consistent world.

use super::config::SimConfig;
use super::org::Org;
use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Most request-log entries kept (oldest dropped first).
const LOG_CAPACITY: usize = 20_000;

/// A frame queued for one socket.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A text frame (shared bytes: one rendering fans out to many sockets without copies).
    Text(Utf8Bytes),
    /// Close the socket.
    Close,
}

/// An issued token.
pub(crate) struct TokenState {
    /// The OAuth client it was issued to.
    pub client: String,
    pub expires_at: Instant,
    pub revoked: bool,
    pub rate_window_start: Instant,
    pub rate_count: u32,
}

/// The socket attached to a channel.
pub(crate) struct Socket {
    pub conn: u64,
    pub tx: mpsc::UnboundedSender<Outbound>,
    /// Frames queued but not yet written; the flood reads it to go only as fast as the
    /// client drains, instead of growing the unbounded queue without limit.
    pub pending: Arc<AtomicUsize>,
    /// A half-open connection ([`super::SimHandle::mute_sockets`]): the socket stays open
    /// but sends nothing (no heartbeats, pongs or events; queued events are dropped).
    pub muted: Arc<AtomicBool>,
}

impl Socket {
    /// A socket handle around `tx`.
    pub(crate) fn new(conn: u64, tx: mpsc::UnboundedSender<Outbound>) -> Self {
        Self {
            conn,
            tx,
            pending: Arc::new(AtomicUsize::new(0)),
            muted: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Queues a frame; false if the socket task is gone.
    pub(crate) fn send(&self, out: Outbound) -> bool {
        self.pending.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(out).is_ok() {
            true
        } else {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            false
        }
    }

    /// Queues a text frame; false if the socket task is gone.
    pub(crate) fn send_text(&self, text: impl Into<Utf8Bytes>) -> bool {
        self.send(Outbound::Text(text.into()))
    }
}

/// A notification channel.
pub(crate) struct ChannelState {
    pub id: String,
    /// The token that created it (channel listings are per token).
    pub token: String,
    /// Whether the channel dies with `token` (`SimConfig::channels_bound_to_token`).
    pub bound: bool,
    /// Subscriptions as the client sent them (combined topics kept whole).
    pub topics: Vec<String>,
    /// Every concrete topic the subscriptions stand for.
    pub expanded: HashSet<String>,
    pub expires: DateTime<Utc>,
    pub last_used: Instant,
    pub socket: Option<Socket>,
}

impl ChannelState {
    /// Recomputes `expanded` after the subscription list changed.
    pub(crate) fn reindex(&mut self) {
        self.expanded = self
            .topics
            .iter()
            .flat_map(|t| super::topics::expand(t).unwrap_or_default())
            .collect();
    }
}

/// A schedule's mutable state.
pub(crate) struct ScheduleState {
    pub id: String,
    pub bu: usize,
    pub week_date: NaiveDate,
    pub published: bool,
    pub deleted: bool,
    pub version: u32,
    pub description: String,
    pub modified: DateTime<Utc>,
}

/// A pending injected failure.
pub(crate) struct Fault {
    pub route: String,
    pub remaining: usize,
    pub status: u16,
    pub retry_after: Option<u64>,
}

/// A download served badly, as a broken network or download service would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadFault {
    /// Half the body, then the connection is cut (`Content-Length` promised it all).
    Truncated,
    /// The answer starts only after this long.
    Slow(std::time::Duration),
}

/// One served request, for tests that assert what a client did.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// When it arrived (tokio clock).
    pub at: Instant,
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Response status.
    pub status: u16,
    /// Bearer token presented, if any.
    pub token: Option<String>,
    /// Bytes of the response body as sent (compressed where it is), when known up front
    /// (every JSON and download answer; not websocket upgrades).
    pub bytes: Option<u64>,
}

/// Presence or routing status of one agent, once it differs from the generated default.
#[derive(Clone)]
pub(crate) struct StatusState {
    pub value: String,
    pub since: DateTime<Utc>,
}

/// Everything mutable.
pub(crate) struct Inner {
    pub tokens: HashMap<String, TokenState>,
    /// OAuth clients whose credentials are refused (revoked by a test).
    pub refused_clients: BTreeSet<String>,
    pub channels: Vec<ChannelState>,
    pub faults: Vec<Fault>,
    /// How the next downloads are mangled, first first.
    pub download_faults: std::collections::VecDeque<DownloadFault>,
    pub async_only: bool,
    pub denied: BTreeSet<String>,
    pub log: VecDeque<LoggedRequest>,
    pub schedules: Vec<ScheduleState>,
    pub revisions: HashMap<(usize, usize), u32>,
    pub presence: HashMap<usize, StatusState>,
    pub routing: HashMap<usize, StatusState>,
    /// Stored query results by key; keys sort by creation, so the first is the oldest.
    pub downloads: std::collections::BTreeMap<String, bytes::Bytes>,
    /// Creation counter behind the download keys.
    pub download_seq: u64,
    pub next_conn: u64,
    /// The newest `modifiedDate` a presence flood used, so the next flood starts after it.
    pub flood_clock: Option<DateTime<Utc>>,
}

/// State shared by every task of one simulator.
pub(crate) struct Shared {
    pub config: SimConfig,
    pub org: Org,
    pub base_url: String,
    pub ws_base: String,
    pub started: DateTime<Utc>,
    pub cancel: CancellationToken,
    inner: Mutex<Inner>,
}

/// The shared state as handlers receive it.
pub(crate) type AppState = Arc<Shared>;

impl Shared {
    /// Builds the state; `addr` is where the listener is bound.
    pub(crate) fn new(config: SimConfig, org: Org, addr: std::net::SocketAddr) -> Self {
        let started = Utc::now();
        let schedules = org
            .schedules
            .iter()
            .map(|s| ScheduleState {
                id: s.id.clone(),
                bu: s.bu,
                week_date: s.week_date,
                published: s.published,
                deleted: false,
                version: 1,
                description: s.description.clone(),
                modified: started,
            })
            .collect();
        Self {
            config,
            org,
            base_url: format!("http://{addr}"),
            ws_base: format!("ws://{addr}"),
            started,
            cancel: CancellationToken::new(),
            inner: Mutex::new(Inner {
                tokens: HashMap::new(),
                refused_clients: BTreeSet::new(),
                channels: Vec::new(),
                faults: Vec::new(),
                download_faults: Default::default(),
                async_only: false,
                denied: BTreeSet::new(),
                log: VecDeque::new(),
                schedules,
                revisions: HashMap::new(),
                presence: HashMap::new(),
                routing: HashMap::new(),
                downloads: std::collections::BTreeMap::new(),
                download_seq: 0,
                next_conn: 0,
                flood_clock: None,
            }),
        }
    }

    /// Locks the mutable state (a poisoned lock is recovered: the data stays usable).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the simulated client holds `permission`.
    pub(crate) fn has_permission(&self, inner: &Inner, permission: &str) -> bool {
        if inner.denied.contains(permission) {
            return false;
        }
        match &self.config.permissions {
            None => true,
            Some(set) => set.contains(permission),
        }
    }

    /// The first of `any` the client lacks entirely (`None` if it holds at least one).
    pub(crate) fn missing_any(&self, any: &[&str]) -> Option<Vec<String>> {
        let inner = self.lock();
        if any.iter().any(|p| self.has_permission(&inner, p)) {
            None
        } else {
            Some(any.iter().map(|p| p.to_string()).collect())
        }
    }

    /// Appends to the request log.
    pub(crate) fn log(&self, entry: LoggedRequest) {
        let mut inner = self.lock();
        if inner.log.len() >= LOG_CAPACITY {
            inner.log.pop_front();
        }
        inner.log.push_back(entry);
    }
}
