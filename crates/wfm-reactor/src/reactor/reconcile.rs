//! Reconcile: the stream can never be trusted to be complete, so at start, after every gap,
//! on a timer and on `POST /v1/resync`, re-read what changed over REST (same budget).
//!
//! A reconcile runs on its own task and only reads: it returns the keys to fetch and the
//! presence it observed ([`Listed`]), and the reactor decides and commits both, so the
//! presence cache has one writer and presence commits one order.

use super::Context;
use super::membership::{self, Membership};
pub use super::observe::{Observed, Start};
use super::schedule::{Hint, HintCause};
use crate::coalesce::ScheduleKey;
use crate::store::{Batch, StateChange};
use crate::wfm::Weeks;
use chrono::{Datelike, Duration as Days, NaiveDate, Utc};
use std::collections::{BTreeSet, HashSet};
use tokio::sync::watch;

/// Store meta key set once the first reconcile committed (later starts are not snapshots).
pub const META_INITIALIZED: &str = "initialized";

/// What one reconcile found.
pub struct Listed {
    /// Keys whose version changed or that vanished (deletions), with their hints.
    pub keys: Vec<(ScheduleKey, Hint)>,
    /// Presence and routing status of every watched user (from the unit adherence answers
    /// where they describe the user, else over the presence routes: [`super::observe`]).
    pub observed: Observed,
    /// Genesys's adherence of every agent, per unit re-read (units on Genesys adherence).
    pub adherence: Vec<(String, Vec<crate::genesys::adherence::UserScheduleAdherence>)>,
}

/// Lists the watched schedules in the window, returns the keys whose version changed (or
/// that vanished: deletions), re-reads the units' adherence and reads presence.
pub async fn run(
    ctx: &Context,
    membership: &Membership,
    cause: HintCause,
    start: &Start,
) -> anyhow::Result<Listed> {
    crate::telemetry::reactor::reconcile_started();
    let started = tokio::time::Instant::now();
    let bus: Vec<String> = membership.business_units.keys().cloned().collect();
    let today = Utc::now().date_naive();
    let earliest = week_start(today) - Days::weeks(ctx.config.fetch.weeks_back as i64);
    let latest = week_start(today) + Days::weeks(ctx.config.fetch.weeks_ahead as i64);
    let (e, l) = (
        earliest.format("%Y-%m-%d").to_string(),
        latest.format("%Y-%m-%d").to_string(),
    );
    let known = ctx.store.known_schedules().await?;
    let mut keys = Vec::new();
    let mut listed = HashSet::new();
    for bu in &bus {
        let list = ctx
            .wfm
            .schedules(
                bu,
                Weeks::Recent {
                    earliest: &e,
                    latest: &l,
                },
                ctx.config.watch.published_only,
            )
            .await?;
        for s in list {
            let Some(id) = s.id.clone() else { continue };
            listed.insert(id.clone());
            let version = s.metadata.as_ref().and_then(|m| m.version);
            let stored = known.iter().find(|k| k.schedule_id == id).map(|k| k.version);
            if stored.is_some() && stored == version && cause != HintCause::Snapshot {
                continue;
            }
            let mut hint = Hint::reconcile(s.week_date.clone());
            hint.cause = cause;
            hint.version = version;
            hint.published = s.published;
            hint.week_count = s.week_count.map(|c| c as u32);
            keys.push((
                ScheduleKey {
                    business_unit_id: bu.clone(),
                    schedule_id: id,
                },
                hint,
            ));
        }
    }
    // Known schedules of a watched BU, inside the window, that the list no longer shows
    // were deleted while we were not looking.
    for k in &known {
        let in_window =
            NaiveDate::parse_from_str(&k.week_date, "%Y-%m-%d").is_ok_and(|d| d >= earliest && d <= latest);
        if bus.contains(&k.business_unit_id) && in_window && !listed.contains(&k.schedule_id) {
            let mut hint = Hint::reconcile(Some(k.week_date.clone()));
            hint.cause = cause;
            hint.deleted = true;
            keys.push((
                ScheduleKey {
                    business_unit_id: k.business_unit_id.clone(),
                    schedule_id: k.schedule_id.clone(),
                },
                hint,
            ));
        }
    }
    let adherence = super::observe::adherence(ctx, &start.adherence_units).await;
    let users = membership::watched_users(&ctx.config, membership);
    let observed = super::observe::presence_and_routing(ctx, &users, &adherence, start).await?;
    tracing::info!(
        schedules_to_fetch = keys.len(),
        business_units = bus.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        ?cause,
        "reconcile listed"
    );
    Ok(Listed {
        keys,
        observed,
        adherence,
    })
}

/// Monday of the week containing `d` (the simulator's and the common BU week start).
fn week_start(d: NaiveDate) -> NaiveDate {
    d - Days::days(d.weekday().num_days_from_monday() as i64)
}

/// Tracks the first reconcile until every key it found has been fetched (readiness).
pub struct FirstReconcile {
    done: watch::Sender<bool>,
    waiting: Option<BTreeSet<ScheduleKey>>,
    store: Option<crate::store::Store>,
    /// The commit of [`META_INITIALIZED`], awaited at shutdown so a stop right after the
    /// snapshot cannot lose it (the next start would repeat the whole snapshot).
    marking: Option<tokio::task::JoinHandle<()>>,
}

impl FirstReconcile {
    /// Not done yet.
    pub fn new(done: watch::Sender<bool>) -> Self {
        Self {
            done,
            waiting: None,
            store: None,
            marking: None,
        }
    }

    /// This first reconcile is the snapshot: mark the store initialised once it completes,
    /// so a crash before that repeats the snapshot rather than reporting it as changes.
    pub fn set_snapshot(&mut self, store: Option<crate::store::Store>) {
        self.store = store;
    }

    /// A reconcile listed these keys (only the first one counts).
    pub fn listed(&mut self, keys: Vec<ScheduleKey>) {
        if *self.done.borrow() || self.waiting.is_some() {
            return;
        }
        self.waiting = Some(keys.into_iter().collect());
        self.check();
    }

    /// True once the first reconcile and every fetch it caused finished.
    pub fn is_done(&self) -> bool {
        *self.done.borrow()
    }

    /// A key was fetched successfully.
    pub fn fetched(&mut self, key: &ScheduleKey) {
        if let Some(w) = &mut self.waiting {
            w.remove(key);
        }
        self.check();
    }

    /// Waits for the store to be marked initialised, if that is under way (shutdown).
    pub async fn finish_marking(&mut self) {
        if let Some(marking) = self.marking.take()
            && let Err(err) = marking.await
        {
            tracing::error!(error = %err, "marking the store initialised panicked");
        }
    }

    fn check(&mut self) {
        if self.waiting.as_ref().is_some_and(|w| w.is_empty()) && !*self.done.borrow() {
            tracing::info!("first reconcile finished");
            self.done.send_replace(true);
            self.waiting = None;
            if let Some(store) = self.store.take() {
                self.marking = Some(tokio::spawn(async move {
                    let meta = StateChange::Meta {
                        key: META_INITIALIZED.into(),
                        value: Some(Utc::now().to_rfc3339()),
                    };
                    if let Err(err) = store
                        .commit(Batch {
                            changes: vec![meta],
                            events: vec![],
                        })
                        .await
                    {
                        tracing::error!(error = %err, "cannot mark the store initialised; the next start repeats the snapshot");
                    }
                }));
            }
        }
    }
}
