//! The outgoing CloudEvent (1.0, JSON structured mode): the downstream contract.
//!
//! A [`NewEvent`] is built by the reactor with one constructor per type; it carries its
//! deterministic `id` and its `data` already serialised. The store assigns `sequence` at
//! commit and renders the envelope once ([`NewEvent::render`]); that text is what the
//! outbox stores and every sink sends, so all sinks see byte-identical events.

mod adherence;
mod data;

pub use adherence::{AdherenceCause, AdherenceChanged, AdherenceRef, TYPE_ADHERENCE_CHANGED};

pub use data::{
    Activity, ActivityCodeRef, AgentChange, Cause, ChangeKind, PresenceChanged, PresenceRef,
    RoutingStatusChanged, ScheduleChanged, ScheduleDeleted, Shift,
};

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// `type` of a schedule change.
pub const TYPE_SCHEDULE_CHANGED: &str = "wfm.schedule.changed";
/// `type` of a schedule deletion.
pub const TYPE_SCHEDULE_DELETED: &str = "wfm.schedule.deleted";
/// `type` of a presence change.
pub const TYPE_PRESENCE_CHANGED: &str = "presence.changed";
/// `type` of a routing status change.
pub const TYPE_ROUTING_STATUS_CHANGED: &str = "routing.status.changed";

/// An event decided by the daemon but not yet committed (no `sequence` yet).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Deterministic idempotency key: same change, same id.
    pub id: String,
    /// `wfm-reactor://{api host}/{entity path}`.
    pub source: String,
    /// One of the `TYPE_*` constants.
    pub event_type: &'static str,
    /// Schedule id + `/` + management unit id, or user id.
    pub subject: String,
    /// When the change happened upstream (RFC 3339), else when observed.
    pub time: String,
    /// The `data` member, already serialised JSON.
    pub data_json: String,
    /// When the triggering frame was received (for `wfm_reactor_event_to_outbox_seconds`).
    pub received_at: Option<tokio::time::Instant>,
}

impl NewEvent {
    /// A `wfm.schedule.changed`; `time` is when the change happened (or was observed).
    pub fn schedule_changed<A: Serialize>(api_host: &str, time: &str, data: &ScheduleChanged<A>) -> Self {
        let data_json = to_json(data);
        let agents_hash = match agents_member(&data_json) {
            Some(agents) => sha256_hex(agents.as_bytes()),
            None => sha256_hex(to_json(&data.agents).as_bytes()),
        };
        Self::build(
            TYPE_SCHEDULE_CHANGED,
            bu_source(api_host, &data.business_unit_id),
            format!("{}/{}", data.schedule_id, data.management_unit_id),
            time,
            &[&data.version.to_string(), &agents_hash],
            data_json,
        )
    }

    /// A `wfm.schedule.deleted`; the id depends on the schedule only (deleted once).
    pub fn schedule_deleted(api_host: &str, time: &str, data: &ScheduleDeleted) -> Self {
        Self::build(
            TYPE_SCHEDULE_DELETED,
            bu_source(api_host, &data.business_unit_id),
            data.schedule_id.clone(),
            time,
            &[&data.week_date],
            to_json(data),
        )
    }

    /// A `presence.changed`; `time` is the notification's `modifiedDate`.
    pub fn presence_changed(api_host: &str, data: &PresenceChanged) -> Self {
        Self::build(
            TYPE_PRESENCE_CHANGED,
            user_source(api_host, &data.user_id),
            data.user_id.clone(),
            &data.modified_date,
            &[
                &data.modified_date,
                &data.system_presence,
                &data.presence_definition_id,
            ],
            to_json(data),
        )
    }

    /// A `routing.status.changed`; `time` is the status `startTime`.
    pub fn routing_status_changed(api_host: &str, data: &RoutingStatusChanged) -> Self {
        Self::build(
            TYPE_ROUTING_STATUS_CHANGED,
            user_source(api_host, &data.user_id),
            data.user_id.clone(),
            &data.start_time,
            &[&data.start_time, &data.status],
            to_json(data),
        )
    }

    /// Records when the triggering frame arrived, if known (builder style).
    pub(crate) fn received_at(mut self, at: impl Into<Option<tokio::time::Instant>>) -> Self {
        self.received_at = at.into();
        self
    }

    fn build(
        event_type: &'static str,
        source: String,
        subject: String,
        time: &str,
        fingerprint: &[&str],
        data_json: String,
    ) -> Self {
        let id = event_id(event_type, &subject, fingerprint);
        Self {
            id,
            source,
            event_type,
            subject,
            time: time.to_string(),
            data_json,
            received_at: None,
        }
    }

    /// The complete CloudEvent JSON with `sequence` set: attribute order is fixed.
    ///
    /// Written by hand around the pre-serialised `data` so the (hot) commit path never
    /// re-parses or re-serialises the payload.
    pub fn render(&self, sequence: u64) -> String {
        // Strings are escaped straight into `out`: no temporary string per attribute.
        let mut out = String::with_capacity(self.data_json.len() + 256);
        out.push_str("{\"specversion\":\"1.0\",\"id\":");
        push_json_str(&mut out, &self.id);
        out.push_str(",\"source\":");
        push_json_str(&mut out, &self.source);
        out.push_str(",\"type\":");
        push_json_str(&mut out, self.event_type);
        out.push_str(",\"subject\":");
        push_json_str(&mut out, &self.subject);
        out.push_str(",\"time\":");
        push_json_str(&mut out, &self.time);
        out.push_str(",\"datacontenttype\":\"application/json\",\"sequence\":\"");
        let _ = write!(out, "{sequence}");
        out.push_str("\",\"data\":");
        out.push_str(&self.data_json);
        out.push('}');
        out
    }
}

/// The `agents` array inside a serialised [`ScheduleChanged`]: its last member, so the
/// text between its key and the closing brace. The id hashes exactly these bytes, which a
/// second serialisation of the agents (the cost of a large change, once per agent) used
/// to produce. A `"` inside a JSON string is always escaped, so `,"agents":` can only be
/// the member's key; `None` if the layout ever changes (the caller serialises instead).
fn agents_member(data_json: &str) -> Option<&str> {
    const KEY: &str = ",\"agents\":";
    let start = data_json.find(KEY)? + KEY.len();
    data_json
        .get(start..data_json.len().checked_sub(1)?)
        .filter(|a| a.starts_with('[') && a.ends_with(']') && data_json.ends_with('}'))
}

fn to_json<T: Serialize>(data: &T) -> String {
    serde_json::to_string(data).expect("plain data structs always serialise")
}

fn bu_source(api_host: &str, bu: &str) -> String {
    format!("wfm-reactor://{api_host}/workforcemanagement/businessunits/{bu}")
}

fn user_source(api_host: &str, user: &str) -> String {
    format!("wfm-reactor://{api_host}/users/{user}")
}

/// Appends `v` as a JSON string literal (quotes, `\\`, `\"` and control characters escaped).
fn push_json_str(out: &mut String, v: &str) {
    out.push('"');
    // Ids, hosts, dates: almost never anything to escape, so copy them in one go.
    if !v.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(v);
        out.push('"');
        return;
    }
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The deterministic id: the first 128 bits (32 hex digits) of the SHA-256 of
/// `type \n subject \n fingerprint parts joined by \n`. 128 bits is plenty for an
/// idempotency key and keeps ids short. The parts are hashed in place rather than joined
/// into a temporary string first (one allocation less per event on the hot path).
fn event_id(event_type: &str, subject: &str, fingerprint: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(event_type.as_bytes());
    h.update(b"\n");
    h.update(subject.as_bytes());
    for part in fingerprint {
        h.update(b"\n");
        h.update(part.as_bytes());
    }
    hex(&h.finalize()[..16])
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// Lower-case hex SHA-256 (also used for canonical agent-schedule hashes).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_exactly_like_serde_json() {
        for v in [
            "",
            "plain",
            "q\"b\\s/",
            "\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}",
            "é ✓ 😀",
        ] {
            let mut out = String::new();
            push_json_str(&mut out, v);
            assert_eq!(out, serde_json::to_string(v).unwrap(), "for {v:?}");
        }
    }

    fn schedule_change(operation_id: &str, agents: Vec<AgentChange>) -> ScheduleChanged {
        ScheduleChanged {
            business_unit_id: "bu,\"agents\":[1]".into(),
            management_unit_id: "mu".into(),
            schedule_id: "s".into(),
            week_date: "2026-01-05".into(),
            week_count: 1,
            published: true,
            version: 3,
            operation_id: Some(operation_id.into()),
            cause: Cause::Notification,
            business_unit_time_zone: "Europe/Paris".into(),
            agents,
        }
    }

    #[test]
    fn a_schedule_change_id_hashes_its_agents_as_a_second_serialisation_would() {
        let agent = |user: &str, description: &str| AgentChange {
            user_id: user.into(),
            change: ChangeKind::Updated,
            shifts: vec![Shift {
                id: "sh".into(),
                start_date: "2026-01-05T08:00:00Z".into(),
                length_minutes: 480,
                activities: vec![Activity {
                    start_date: "2026-01-05T08:00:00Z".into(),
                    length_minutes: 60,
                    activity_code_id: "0".into(),
                    activity_code: None,
                    description: Some(description.into()),
                    paid: true,
                }],
            }],
            full_day_time_off_markers: vec![serde_json::json!({"agents": [1]})],
        };
        for data in [
            schedule_change(",\"agents\":[]}", vec![agent("a1", "q\"b,\"agents\":[")]),
            schedule_change("op", vec![]),
            schedule_change("op", vec![agent("a1", "x"), agent("a2", "é ✓ 😀\n")]),
        ] {
            let agents = serde_json::to_string(&data.agents).unwrap();
            let expected = event_id(
                TYPE_SCHEDULE_CHANGED,
                "s/mu",
                &["3", &sha256_hex(agents.as_bytes())],
            );
            let event = NewEvent::schedule_changed("api.example", "2026-01-05T08:00:00Z", &data);
            assert_eq!(event.id, expected, "for {data:?}");
            assert_eq!(agents_member(&event.data_json), Some(agents.as_str()));
        }
    }

    #[test]
    fn event_ids_hash_the_joined_key_without_building_it() {
        let joined = sha256_hex(b"presence.changed\nu1\n2026-01-01T00:00:00.000Z\nAvailable\nd1");
        let id = event_id(
            "presence.changed",
            "u1",
            &["2026-01-01T00:00:00.000Z", "Available", "d1"],
        );
        assert_eq!(id, joined[..32]);
    }

    #[test]
    fn sha256_hex_is_lower_case_hex_of_the_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
