//! The reactor's child tasks (schedule fetches and the reconcile), tracked by task id.
//!
//! A task that panics never reports back with its key, so without this bookkeeping the
//! coalescer would keep that key "in flight" forever: every later notification would mark
//! it dirty and none would ever fetch it. Each task's id maps to what it was doing, so a
//! `JoinError` still names the key (and the hint to retry with) or the reconcile.

use super::Done;
use super::schedule::{Announced, Hint, HintCause};
use crate::coalesce::ScheduleKey;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use tokio::task::{Id, JoinError, JoinSet};

/// What one finished task amounts to.
pub(super) enum Joined {
    /// The task returned.
    Done(Done),
    /// A fetch panicked (or was cancelled): retry `key` with the hint it started from.
    FetchLost {
        key: ScheduleKey,
        hint: Hint,
        error: JoinError,
    },
    /// The reconcile panicked (or was cancelled).
    ReconcileLost { cause: HintCause, error: JoinError },
    /// A task we did not track (cannot happen; logged by the caller).
    Unknown(JoinError),
}

/// A fetch in flight: its key, the hint it started from, and the newest version
/// announced for its key since it started.
struct InFlight {
    key: ScheduleKey,
    hint: Hint,
    announced: Arc<Announced>,
}

/// The child tasks and what each is doing.
#[derive(Default)]
pub(super) struct Tasks {
    set: JoinSet<Done>,
    fetches: HashMap<Id, InFlight>,
    by_key: HashMap<ScheduleKey, Arc<Announced>>,
    reconcile: Option<(Id, HintCause)>,
}

impl Tasks {
    /// Spawns the fetch of `key`; `run` gets the cell where newer versions for the key are
    /// announced while it runs.
    pub(super) fn spawn_fetch<F, Fut>(&mut self, key: ScheduleKey, hint: Hint, run: F)
    where
        F: FnOnce(Arc<Announced>) -> Fut,
        Fut: Future<Output = Done> + Send + 'static,
    {
        let announced = Arc::new(Announced::default());
        let id = self.set.spawn(run(announced.clone())).id();
        self.by_key.insert(key.clone(), announced.clone());
        self.fetches.insert(id, InFlight { key, hint, announced });
    }

    /// Spawns the reconcile.
    pub(super) fn spawn_reconcile<Fut>(&mut self, cause: HintCause, run: Fut)
    where
        Fut: Future<Output = Done> + Send + 'static,
    {
        let id = self.set.spawn(run).id();
        self.reconcile = Some((id, cause));
    }

    /// True when a fetch of `key` is running that reads every management unit at
    /// `version` or later (a reconcile's own), so offering the key again would only cause
    /// a redundant re-fetch.
    pub(super) fn covers(&self, key: &ScheduleKey, version: Option<i64>) -> bool {
        self.fetches.values().any(|f| {
            f.key == *key
                && f.hint.management_units.is_empty()
                && version.is_some()
                && f.hint.version >= version
        })
    }

    /// Tells the fetch of `key`, if one runs, that `version` was announced meanwhile.
    pub(super) fn announce(&self, key: &ScheduleKey, version: Option<i64>) {
        if let (Some(cell), Some(v)) = (self.by_key.get(key), version) {
            cell.raise(v);
        }
    }

    /// The next finished task (`None` when there is none).
    pub(super) async fn join_next(&mut self) -> Option<Joined> {
        let joined = self.set.join_next_with_id().await?;
        let id = match &joined {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        let fetch = self.fetches.remove(&id);
        if let Some(f) = &fetch
            && self
                .by_key
                .get(&f.key)
                .is_some_and(|c| Arc::ptr_eq(c, &f.announced))
        {
            self.by_key.remove(&f.key);
        }
        let reconcile = self.reconcile.take_if(|(r, _)| *r == id).map(|(_, c)| c);
        Some(match (joined, fetch, reconcile) {
            (Ok((_, done)), _, _) => Joined::Done(done),
            (Err(error), Some(f), _) => Joined::FetchLost {
                key: f.key,
                hint: f.hint,
                error,
            },
            (Err(error), None, Some(cause)) => Joined::ReconcileLost { cause, error },
            (Err(error), None, None) => Joined::Unknown(error),
        })
    }

    /// True when no task runs.
    pub(super) fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Number of running tasks.
    pub(super) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ScheduleKey {
        ScheduleKey {
            business_unit_id: "bu".into(),
            schedule_id: s.into(),
        }
    }

    #[tokio::test]
    async fn a_panicked_fetch_names_its_key_and_hint() {
        let mut tasks = Tasks::default();
        let mut hint = Hint::reconcile(Some("2026-08-10".into()));
        hint.version = Some(7);
        tasks.spawn_fetch(key("boom"), hint, |_| async { panic!("injected") });
        match tasks.join_next().await {
            Some(Joined::FetchLost { key: k, hint, error }) => {
                assert_eq!(k, key("boom"));
                assert_eq!(hint.version, Some(7));
                assert!(error.is_panic());
            }
            _ => panic!("expected a lost fetch"),
        }
        assert!(tasks.is_empty());
        assert!(tasks.join_next().await.is_none());
    }

    #[tokio::test]
    async fn a_panicked_reconcile_names_its_cause_and_announcements_reach_the_fetch() {
        let mut tasks = Tasks::default();
        tasks.spawn_reconcile(HintCause::Snapshot, async { panic!("injected") });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tasks.spawn_fetch(key("a"), Hint::reconcile(None), |announced| async move {
            rx.await.ok();
            Done::Fetch(
                key("a"),
                announced.get().map(|_| ()).ok_or_else(|| Hint::reconcile(None)),
                Vec::new(),
            )
        });
        match tasks.join_next().await {
            Some(Joined::ReconcileLost { cause, error }) => {
                assert_eq!(cause, HintCause::Snapshot);
                assert!(error.is_panic());
            }
            _ => panic!("expected the lost reconcile"),
        }
        tasks.announce(&key("a"), Some(3));
        tasks.announce(&key("other"), Some(4));
        tx.send(()).unwrap();
        match tasks.join_next().await {
            Some(Joined::Done(Done::Fetch(k, Ok(()), _))) => assert_eq!(k, key("a")),
            _ => panic!("the fetch saw the announced version"),
        }
        assert!(tasks.by_key.is_empty() && tasks.fetches.is_empty());
    }
}
