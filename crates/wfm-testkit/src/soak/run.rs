//! One simulated hour of a soak run (wait for the daemon to be connected, make changes,
//! fire the hour's fault, sample), the daily kill, and the final drain and judgement.

use super::daemon::Process;
use super::faults::{self, Fault, Outage};
use super::oracle::{self, Edit, Lifecycle, Made};
use super::resources::{self, Sample};
use super::{Report, Run};
use genesys_sim::{AgentPick, Emit, ScheduleChange};
use rand::Rng;
use std::time::Duration;

/// Presence changes made while the daemon is dead, each of a different agent.
const DOWN_CHANGES: usize = 3;

impl Run<'_> {
    /// Every agent's presence topic subscribed on a connected channel: changes made now
    /// reach the daemon (a change made into a gap is only ever seen as the reconciled end
    /// state). Channels nobody is connected to are not waited for: a killed process's and
    /// those left behind by a token rollover live on, unconnected, until their token
    /// expires, as on Genesys (there is no channel DELETE).
    async fn settled(&self) -> bool {
        let n = self.agents.len();
        let within = Duration::from_secs(20);
        self.sim
            .wait_for_channels(crate::patience(within), |chs| {
                let topics: std::collections::HashSet<&str> = chs
                    .iter()
                    .filter(|c| c.connected)
                    .flat_map(|c| c.topics.iter().map(String::as_str))
                    .filter(|t| t.ends_with(".presence"))
                    .collect();
                topics.len() >= n
            })
            .await
    }

    /// One simulated hour.
    pub(super) async fn hour(&mut self, hour: u32, outage: &mut Outage) {
        let started = tokio::time::Instant::now();
        if !self.settled().await {
            self.unsettled.push(format!(
                "hour {hour}: daemon not reconnected (run {})",
                self.runs - 1
            ));
        }
        // Distinct users: two presences of one user in one millisecond have no order, on
        // Genesys as here, so no oracle may demand one (the second week run's
        // "never emitted" pairs were such, docs/reliability.md).
        let n = self.plan.changes_per_hour.min(self.agents.len());
        for i in rand::seq::index::sample(&mut self.rng, self.agents.len(), n) {
            self.change_presence(self.agents[i].clone());
        }
        if hour % 3 == 1 {
            self.change_schedule();
        }
        match hour {
            10 => self.publish_draft(),
            16 => self.delete_next_week(),
            _ => {}
        }
        if let Some(fault) = Fault::draw(&mut self.rng) {
            // Let the hour's changes reach the daemon's sockets before they are cut.
            tokio::time::sleep(self.plan.hour / 4).await;
            faults::fire(fault, &self.sim, outage, &mut self.rng);
            *self.faults.entry(fault).or_default() += 1;
        }
        tokio::time::sleep_until(started + self.plan.hour).await;
        self.sample(hour).await;
    }

    /// A presence change of `user` to a random presence other than its current one.
    fn change_presence(&mut self, user: String) {
        let now = self.current.get(&user).cloned().unwrap_or_default();
        let others: Vec<_> = super::PRESENCES.iter().filter(|p| **p != now).collect();
        let presence = others[self.rng.random_range(0..others.len())].to_string();
        let modified = self
            .sim
            .set_presence(&user, &presence, true)
            .expect("a simulated agent");
        self.current.insert(user.clone(), presence.clone());
        self.made.push(Made {
            user,
            presence,
            modified,
        });
    }

    /// A schedule edit of a few agents, announced in one of the real event shapes.
    fn change_schedule(&mut self) {
        let first = crate::FirstSchedule::of(&self.sim);
        let emit = match self.rng.random_range(0..4) {
            0 => Emit::Silent,
            1 => Emit::Complete,
            2 => Emit::ProcessingThenComplete {
                duplicate_complete: 1,
            },
            _ => Emit::CompleteThenLateProcessing,
        };
        let change = ScheduleChange {
            business_unit_id: first.business_unit,
            schedule_id: first.schedule.clone(),
            management_unit_id: None,
            agents: AgentPick::Count(self.rng.random_range(1..4)),
            emit,
        };
        let done = self
            .sim
            .change_schedule(change)
            .expect("a scripted schedule change");
        self.edits.push(Edit {
            schedule: first.schedule,
            version: done.version,
            agents: done.changed_agents,
        });
    }

    /// Publishes the first business unit's draft (next week): a schedule appears.
    fn publish_draft(&mut self) {
        let org = self.sim.org();
        let bu = org.business_units[0].id.clone();
        let Some(draft) = org.schedules_of(&bu).into_iter().find(|s| !s.published).cloned() else {
            return;
        };
        self.sim
            .publish_schedule(&bu, &draft.id, Emit::Complete)
            .expect("publish the draft");
        self.lifecycle.push(Lifecycle::Published(draft.id));
    }

    /// Deletes next week's originally published schedule (not the one just published).
    fn delete_next_week(&mut self) {
        let first = crate::FirstSchedule::of(&self.sim);
        let org = self.sim.org();
        let next = org.schedules_of(&first.business_unit).into_iter().find(|s| {
            s.published
                && s.week_date.to_string() > first.week
                && !self.lifecycle.contains(&Lifecycle::Published(s.id.clone()))
        });
        let Some(id) = next.map(|s| s.id.clone()) else {
            return;
        };
        self.sim
            .delete_schedule(&first.business_unit, &id, Emit::Complete)
            .expect("delete a schedule");
        self.lifecycle.push(Lifecycle::Deleted(id));
    }

    /// The end of a simulated day: SIGKILL, a few changes while down, a restart on the
    /// same store (its start reconcile must emit those changes).
    pub(super) async fn kill_and_restart(&mut self) {
        if let Some(p) = self.process.take() {
            p.kill();
        }
        *self.faults.entry(Fault::Kill).or_default() += 1;
        let from = self.rng.random_range(0..self.agents.len());
        for i in 0..DOWN_CHANGES {
            self.change_presence(self.agents[(from + i) % self.agents.len()].clone());
        }
        let n = self.runs;
        self.runs += 1;
        self.process = Some(Process::start(self.bin, self.config, self.dir, n).await);
        self.await_down_changes().await;
    }

    /// Waits (bounded) for the restart's start reconcile to emit the changes made while
    /// the daemon was down: a change made before it read them would overwrite them
    /// unseen. If they never come, the oracle says so.
    async fn await_down_changes(&self) {
        let down: Vec<(String, String)> = self.made[self.made.len() - DOWN_CHANGES..]
            .iter()
            .map(|m| (m.user.clone(), m.modified.clone()))
            .collect();
        let emitted = || {
            let seen: std::collections::HashSet<(String, String)> = crate::file_events(self.dir)
                .iter()
                .filter_map(oracle::presence_of)
                .map(|(user, _, modified)| (user, modified))
                .collect();
            std::future::ready(down.iter().all(|c| seen.contains(c)))
        };
        let _ = crate::eventually::poll(Duration::from_secs(30), emitted, |done| *done).await;
    }

    async fn sample(&mut self, hour: u32) {
        let Some(p) = &self.process else { return };
        let chs = self.sim.channels();
        self.samples.push(Sample {
            hour,
            rss_kib: resources::rss_kib(p.pid()),
            fds: resources::fds(p.pid()),
            tasks: p.gauge("wfm_reactor_tokio_tasks").await,
            channels: chs.len() as u64,
            sockets: chs.iter().filter(|c| c.connected).count() as u64,
            store_bytes: resources::store_bytes(self.dir),
            outbox_depth: p.gauge("wfm_reactor_outbox_depth").await,
        });
    }

    /// Waits until both sinks hold every change (or the patience runs out), then judges.
    pub(super) async fn finish(mut self, hook: crate::webhook::Recorder) -> Report {
        let made = self.made.clone();
        let judge = || {
            let file = crate::file_events(self.dir);
            let hooked: Vec<_> = hook.accepted().iter().map(|r| r.json()).collect();
            let mut v = oracle::judge(&made, &self.baseline, &file, &hooked);
            oracle::judge_lifecycle(&self.lifecycle, &file, &mut v.violations);
            let covered = oracle::judge_edits(&self.edits, &file, &mut v.violations);
            (v, covered)
        };
        let within = Duration::from_secs(60);
        let (verdict, edits_covered) = crate::eventually::poll(
            within,
            || std::future::ready(judge()),
            |(v, _)| v.violations.is_empty(),
        )
        .await
        .unwrap_or_else(|v| v);
        let hours = 24;
        let bounds = resources::check(&self.samples, hours);
        self.process.take();
        self.sim.shutdown();
        Report {
            plan: self.plan.clone(),
            faults: std::mem::take(&mut self.faults),
            schedule_changes: self.edits.len(),
            edit_agents: self.edits.iter().map(|e| e.agents.len()).sum(),
            edits_covered,
            lifecycle: std::mem::take(&mut self.lifecycle),
            verdict,
            samples: std::mem::take(&mut self.samples),
            bounds,
            unsettled: std::mem::take(&mut self.unsettled),
            kept: None,
        }
    }
}
