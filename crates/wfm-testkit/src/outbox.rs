//! Reading what the daemon committed and waiting for it: outbox pages as parsed
//! CloudEvents, the reactor's readiness signals, and "settled" (nothing pending). Every
//! wait polls through [`crate::eventually`], so its patience follows `WFM_TEST_PATIENCE`.

use crate::eventually::{eventually, eventually_value};
use crate::patience::{DEFAULT_WAIT, patience};
use genesys_sim::SimHandle;
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;
use wfm_reactor::app::RunningApp;

/// Every outbox event after `after`, as (sequence, parsed CloudEvent).
pub async fn events_after(app: &RunningApp, after: u64) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    let mut cursor = after;
    loop {
        let page = app.store.read_outbox(cursor, 1000).await.expect("read outbox");
        if page.is_empty() {
            return out;
        }
        for e in page {
            cursor = e.seq;
            out.push((e.seq, serde_json::from_str(&e.json).expect("outbox JSON")));
        }
    }
}

/// The sequence of the last committed outbox event (0 when empty).
pub async fn last_seq(app: &RunningApp) -> u64 {
    events_after(app, 0).await.last().map_or(0, |(s, _)| *s)
}

/// Waits until the events after `after` satisfy `pred`; returns them.
pub async fn wait_events(
    app: &RunningApp,
    after: u64,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let fetch = || async {
        let evs: Vec<Value> = events_after(app, after)
            .await
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        evs
    };
    eventually_value(DEFAULT_WAIT, format!("events: {what}"), fetch, |evs| pred(evs)).await
}

/// Events of one CloudEvent `type`.
pub fn of_type<'a>(evs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    evs.iter().filter(|e| e["type"] == ty).collect()
}

/// Waits until no schedule key is waiting or in flight.
pub async fn idle(app: &RunningApp) {
    let pending = app.reactor.pending.clone();
    eventually("no pending schedule keys", || {
        let v = *pending.borrow();
        async move { v == 0 }
    })
    .await;
}

/// Waits until the first reconcile (and every fetch it caused) finished, a channel is
/// connected with its topics, and no schedule key is pending.
pub async fn settle(app: &RunningApp, sim: &SimHandle) {
    let mut done = app.reactor.first_reconcile_done.clone();
    eventually("first reconcile done", || {
        let v = *done.borrow_and_update();
        async move { v }
    })
    .await;
    let subscribed =
        |chs: &[genesys_sim::ChannelView]| chs.iter().any(|c| c.connected && !c.topics.is_empty());
    assert!(
        sim.wait_for_channels(patience(DEFAULT_WAIT), subscribed).await,
        "channels connected and subscribed"
    );
    idle(app).await;
}

/// Waits for the first reconcile to finish (benches: an error, with what is pending).
pub async fn first_reconcile(app: &RunningApp, within: Duration) -> anyhow::Result<Instant> {
    let mut rx = app.reactor.first_reconcile_done.clone();
    tokio::time::timeout(patience(within), rx.wait_for(|d| *d))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "first reconcile not done within {within:?} (pending {}, committed {})",
                *app.reactor.pending.borrow(),
                *app.store.committed().borrow()
            )
        })??;
    Ok(Instant::now())
}

/// Waits until nothing is pending, nothing new was committed for `quiet`, and every sink
/// caught up; returns the last committed sequence (benches: an error after `within`).
pub async fn quiesce(app: &RunningApp, quiet: Duration, within: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + patience(within);
    let (mut last, mut since) = (u64::MAX, Instant::now());
    loop {
        let committed = *app.store.committed().borrow();
        let pending = *app.reactor.pending.borrow();
        if committed != last || pending > 0 || sink_cursor(app) < committed {
            (last, since) = (committed, Instant::now());
        } else if since.elapsed() >= quiet {
            return Ok(committed);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "daemon did not settle within {within:?}"
        );
        tokio::time::sleep(crate::eventually::POLL).await;
    }
}

/// The lowest delivered cursor over the sinks.
pub fn sink_cursor(app: &RunningApp) -> u64 {
    app.delivery
        .statuses()
        .values()
        .map(|s| s.cursor)
        .min()
        .unwrap_or(0)
}
