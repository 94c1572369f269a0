//! `SimHandle`: the scripting handle tests and the activity mode drive the simulator with.

use super::change::{self, ChangeOutcome, Emit, ScheduleChange, SimError};
use super::notify::{self, send_gone};
use super::presence_routes::definition;
use super::reap::reap;
use super::schedules::iso;
use super::state::{AppState, Fault, LoggedRequest, Outbound, StatusState};
use super::view::{BusinessUnitView, ChannelView, ManagementUnitView, OrgView, ScheduleView};
use chrono::Utc;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// A cheap, cloneable handle on a running simulator.
#[derive(Clone)]
pub struct SimHandle {
    pub(crate) shared: AppState,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`: login, API, downloads and websockets are all served there.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }
    /// The accepted OAuth client id.
    pub fn client_id(&self) -> String {
        self.shared.config.client_id.clone()
    }
    /// The accepted OAuth client secret.
    pub fn client_secret(&self) -> String {
        self.shared.config.client_secret.clone()
    }

    /// A snapshot of the org.
    pub fn org(&self) -> OrgView {
        let org = &self.shared.org;
        let inner = self.shared.lock();
        OrgView {
            business_units: org
                .bus
                .iter()
                .map(|b| BusinessUnitView {
                    id: b.id.clone(),
                    name: b.name.clone(),
                    time_zone: b.time_zone.clone(),
                    management_units: b
                        .mus
                        .iter()
                        .map(|&m| ManagementUnitView {
                            id: org.mus[m].id.clone(),
                            name: org.mus[m].name.clone(),
                            agent_ids: org.mus[m]
                                .agents
                                .iter()
                                .map(|&a| org.agents[a].id.clone())
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            schedules: inner
                .schedules
                .iter()
                .filter(|s| !s.deleted)
                .map(|s| ScheduleView {
                    id: s.id.clone(),
                    bu_id: org.bus[s.bu].id.clone(),
                    week_date: s.week_date,
                    published: s.published,
                    version: s.version,
                })
                .collect(),
            activity_codes: org.activity_codes.clone(),
        }
    }

    /// Publishes `event_body` under `topic` to every subscribed socket; returns how many got it.
    pub fn publish(&self, topic: &str, event_body: Value) -> usize {
        notify::publish(&self.shared, topic, &event_body)
    }

    /// Edits agents' shifts in a schedule and emits the chosen event sequence.
    pub fn change_schedule(&self, change: ScheduleChange) -> Result<ChangeOutcome, SimError> {
        change::apply(&self.shared, &change)
    }

    /// Deletes a schedule; returns the operation id of the emitted events.
    pub fn delete_schedule(&self, bu_id: &str, schedule_id: &str, emit: Emit) -> Result<String, SimError> {
        change::delete(&self.shared, bu_id, schedule_id, emit)
    }

    /// The org index of an agent, or `UnknownAgent`.
    fn agent(&self, user_id: &str) -> Result<usize, SimError> {
        self.shared
            .org
            .agent_index
            .get(user_id)
            .copied()
            .ok_or_else(|| SimError::UnknownAgent(user_id.into()))
    }

    /// Sets an agent's system presence ("On Queue", "Available", ...); returns `modifiedDate`.
    pub fn set_presence(&self, user_id: &str, system_presence: &str, emit: bool) -> Result<String, SimError> {
        let a = self.agent(user_id)?;
        let now = Utc::now();
        let mut inner = self.shared.lock();
        inner.presence.insert(
            a,
            StatusState {
                value: system_presence.into(),
                since: now,
            },
        );
        if emit {
            let body = json!({"source": "PURECLOUD", "presenceDefinition": definition(system_presence), "primary": true, "message": "", "modifiedDate": iso(now)});
            notify::publish_locked(&inner, &format!("v2.users.{user_id}.presence"), &body);
            crate::adherence::publish(&self.shared, &inner, a, now);
        }
        Ok(iso(now))
    }

    /// Sets an agent's routing status (`IDLE`, `OFF_QUEUE`, ...); returns `startTime`.
    pub fn set_routing_status(&self, user_id: &str, status: &str, emit: bool) -> Result<String, SimError> {
        let a = self.agent(user_id)?;
        let now = Utc::now();
        let mut inner = self.shared.lock();
        inner.routing.insert(
            a,
            StatusState {
                value: status.into(),
                since: now,
            },
        );
        if emit {
            let body = json!({"id": user_id, "routingStatus": {"status": status, "startTime": iso(now)}});
            notify::publish_locked(&inner, &format!("v2.users.{user_id}.routingStatus"), &body);
            crate::adherence::publish(&self.shared, &inner, a, now);
        }
        Ok(iso(now))
    }

    /// Serves each of the next `count` result downloads with `fault`.
    pub fn mangle_downloads(&self, fault: super::state::DownloadFault, count: usize) {
        let mut inner = self.shared.lock();
        inner.download_faults.extend(std::iter::repeat_n(fault, count));
    }

    /// Closes every socket abruptly (channels and subscriptions survive).
    pub fn drop_sockets(&self) {
        for ch in self.shared.lock().channels.iter_mut() {
            if let Some(s) = ch.socket.take() {
                s.send(Outbound::Close);
            }
        }
    }

    /// Silences (`true`) or revives (`false`) every socket attached right now, like a
    /// half-open TCP connection: it stays open but sends no heartbeats, pongs or events
    /// (events meant for it are lost). Sockets attached later start unmuted, so a client
    /// that detects the silence and reconnects is served normally.
    pub fn mute_sockets(&self, on: bool) {
        for ch in self.shared.lock().channels.iter() {
            if let Some(s) = &ch.socket {
                s.muted.store(on, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    /// Sends `v2.system.socket_closing` to every socket and force-closes each one that is
    /// still attached after the configured grace.
    pub fn send_socket_closing(&self) {
        let targets = self.announce_socket_closing();
        let shared = self.shared.clone();
        let grace = shared.config.socket_closing_grace;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            for ch in shared.lock().channels.iter_mut() {
                if ch
                    .socket
                    .as_ref()
                    .is_some_and(|s| targets.contains(&(ch.id.clone(), s.conn)))
                    && let Some(s) = ch.socket.take()
                {
                    s.send(Outbound::Close);
                }
            }
        });
    }

    /// Sends `v2.system.socket_closing` to every socket and never closes them: the
    /// announced maintenance that does not come. Returns (channel, connection) of each.
    pub fn announce_socket_closing(&self) -> Vec<(String, u64)> {
        let body = json!({"message": "The websocket is closing for maintenance; reconnect to the same channel.", "systemTopicType": "socket_closing"});
        let frame = axum::extract::ws::Utf8Bytes::from(notify::envelope("v2.system.socket_closing", &body));
        let mut targets = Vec::new();
        for ch in self.shared.lock().channels.iter() {
            if let Some(s) = &ch.socket {
                s.send(Outbound::Text(frame.clone()));
                targets.push((ch.id.clone(), s.conn));
            }
        }
        targets
    }

    /// Another process with the same OAuth client creates `n` channels (under a token
    /// of its own), pushing out the oldest as the 20-channel limit does: unconnected ones
    /// first, then connected ones, whose sockets get `{"result":"404"}`.
    pub fn crowd_channels(&self, n: usize) {
        let token = crate::oauth::issue(&self.shared, &self.shared.config.client_id);
        for _ in 0..n {
            crate::channels::admit(&self.shared, &mut self.shared.lock(), &token);
        }
    }

    /// Publishes a draft schedule: it becomes published, and an `Update` with
    /// `published: true` is announced for every agent of its business unit's first
    /// management unit.
    pub fn publish_schedule(
        &self,
        bu_id: &str,
        schedule_id: &str,
        emit: Emit,
    ) -> Result<ChangeOutcome, SimError> {
        {
            let mut inner = self.shared.lock();
            let s = inner
                .schedules
                .iter_mut()
                .find(|s| s.id == schedule_id && !s.deleted)
                .ok_or_else(|| SimError::UnknownSchedule(schedule_id.into()))?;
            s.published = true;
        }
        change::apply(
            &self.shared,
            &ScheduleChange {
                business_unit_id: bu_id.into(),
                schedule_id: schedule_id.into(),
                management_unit_id: None,
                agents: change::AgentPick::Count(usize::MAX),
                emit,
            },
        )
    }

    /// Expires every channel: sockets get `{"result":"404"}` and close; HEAD answers 404.
    pub fn expire_channels(&self) {
        let gone: Vec<_> = std::mem::take(&mut self.shared.lock().channels);
        for ch in &gone {
            if let Some(s) = &ch.socket {
                send_gone(s);
            }
        }
    }

    /// Makes every issued token expired (API calls answer 401); with
    /// `channels_bound_to_token` their channels die (sockets get `{"result":"404"}`).
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        let mut inner = self.shared.lock();
        for t in inner.tokens.values_mut() {
            t.expires_at = now;
        }
        reap(&self.shared, &mut inner);
    }

    /// Revokes every issued token (API calls answer 401); with `channels_bound_to_token`
    /// their sockets get `v2.system.token_revoked.{id}`, then `{"result":"404"}`, and close.
    pub fn revoke_tokens(&self) {
        let mut inner = self.shared.lock();
        for t in inner.tokens.values_mut() {
            t.revoked = true;
        }
        reap(&self.shared, &mut inner);
    }

    /// Refuses `client_id`'s credentials from now on and revokes its tokens (its channels
    /// die as with [`SimHandle::revoke_tokens`]); the other clients are untouched.
    pub fn revoke_client(&self, client_id: &str) {
        let mut inner = self.shared.lock();
        inner.refused_clients.insert(client_id.to_string());
        for t in inner.tokens.values_mut().filter(|t| t.client == client_id) {
            t.revoked = true;
        }
        reap(&self.shared, &mut inner);
    }

    /// Accepts `client_id`'s credentials again (after [`SimHandle::revoke_client`]).
    pub fn restore_client(&self, client_id: &str) {
        self.shared.lock().refused_clients.remove(client_id);
    }

    /// Ends every injected failure still pending (an outage that is over).
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Fails the next `count` requests whose path contains `route` (optionally prefixed by
    /// a method, `"POST /agentschedules/query"`) with `status` and an optional `Retry-After`.
    pub fn fail_next(&self, route: &str, count: usize, status: u16, retry_after: Option<u64>) {
        self.shared.lock().faults.push(Fault {
            route: route.into(),
            remaining: count,
            status,
            retry_after,
        });
    }

    /// Answers every agent-schedule query with `Processing` (async) unless the client
    /// passes `forceDownloadService=true`, as a loaded Genesys may do.
    pub fn set_async_only(&self, on: bool) {
        self.shared.lock().async_only = on;
    }

    /// Takes a permission away from the simulated client.
    pub fn deny_permission(&self, permission: &str) {
        self.shared.lock().denied.insert(permission.into());
    }

    /// Gives back a permission taken by [`SimHandle::deny_permission`].
    pub fn allow_permission(&self, permission: &str) {
        self.shared.lock().denied.remove(permission);
    }

    /// Every request served so far (the newest 20,000).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.iter().cloned().collect()
    }

    /// The live channels and their subscriptions (dead ones are reaped first).
    pub fn channels(&self) -> Vec<ChannelView> {
        let mut inner = self.shared.lock();
        reap(&self.shared, &mut inner);
        inner
            .channels
            .iter()
            .map(|c| ChannelView {
                id: c.id.clone(),
                topics: c.topics.clone(),
                connected: c.socket.is_some(),
                expires: c.expires,
                client: inner.tokens.get(&c.token).map(|t| t.client.clone()),
            })
            .collect()
    }

    /// Waits (up to `timeout`) until `pred` holds for the channel list; true if it did.
    pub async fn wait_for_channels(&self, timeout: Duration, pred: impl Fn(&[ChannelView]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(&self.channels()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the server, the sockets and the activity task.
    pub fn shutdown(&self) {
        self.shared.cancel.cancel();
    }
}
