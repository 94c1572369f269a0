//! One simulated hour of a soak run (wait for the daemon to be connected, make changes,
//! fire the hour's fault, sample), the daily kill, and the final drain and judgement.

use super::daemon::Process;
use super::faults::{self, Fault, Outage};
use super::oracle::{self, Made};
use super::resources::{self, Sample};
use super::{Report, Run};
use genesys_sim::{AgentPick, Emit, ScheduleChange};
use rand::Rng;
use std::time::Duration;

/// Presence changes made while the daemon is dead, each of a different agent.
const DOWN_CHANGES: usize = 3;

impl Run<'_> {
    /// Every channel connected and every presence topic subscribed: changes made now reach
    /// the daemon (a change made into a gap is only ever seen as the reconciled end state).
    async fn settled(&self) -> bool {
        let n = self.agents.len();
        let within = Duration::from_secs(20);
        self.sim
            .wait_for_channels(crate::patience(within), |chs| {
                let topics: usize = chs
                    .iter()
                    .map(|c| c.topics.iter().filter(|t| t.ends_with(".presence")).count())
                    .sum();
                !chs.is_empty() && chs.iter().all(|c| c.connected) && topics >= n
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
        for _ in 0..self.plan.changes_per_hour {
            let user = self.agents[self.rng.random_range(0..self.agents.len())].clone();
            self.change_presence(user);
        }
        if hour % 3 == 1 {
            self.change_schedule();
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
            schedule_id: first.schedule,
            management_unit_id: None,
            agents: AgentPick::Count(self.rng.random_range(1..4)),
            emit,
        };
        self.sim
            .change_schedule(change)
            .expect("a scripted schedule change");
        self.schedule_changes += 1;
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
            oracle::judge(&made, &self.baseline, &file, &hooked)
        };
        let within = Duration::from_secs(60);
        let verdict = crate::eventually::poll(
            within,
            || std::future::ready(judge()),
            |v| v.violations.is_empty(),
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
            schedule_changes: self.schedule_changes,
            verdict,
            samples: std::mem::take(&mut self.samples),
            bounds,
            unsettled: std::mem::take(&mut self.unsettled),
        }
    }
}
