//! An agent-schedules answer parsed one agent at a time straight into canonical form.
//!
//! The API's shape (`BuAgentScheduleQueryResponse`: every shift with its work plan, its
//! `schedule` object, every activity with time-off and external-activity fields) is only
//! a step on the way to [`CanonicalAgentSchedule`]. Parsing the whole answer into it first
//! held a complete second tree of a management unit (thousands of small allocations per
//! unit) next to the canonical one until the diff began; here each agent's API form lives
//! only while that agent is converted. The result equals
//! `answer.agent_schedules.iter().filter_map(CanonicalAgentSchedule::from_api)` (tested).

use super::CanonicalAgentSchedule;
use crate::genesys::wfm::BuAgentScheduleQueryResponse;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A `BuAgentSchedulesQueryResponse` (inline `result` or downloaded body) in canonical form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CanonicalAnswer {
    /// Each attributable agent (an entry without a user id is skipped), in answer order.
    pub agents: Vec<(String, CanonicalAgentSchedule)>,
    /// `businessUnitTimeZone`, when given.
    pub business_unit_time_zone: Option<String>,
}

impl<'de> Deserialize<'de> for CanonicalAnswer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AnswerVisitor)
    }
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = CanonicalAnswer;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an agent schedules query response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CanonicalAnswer, A::Error> {
        let mut answer = CanonicalAnswer::default();
        let (mut seen_agents, mut seen_zone) = (false, false);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::AgentSchedules if seen_agents => {
                    return Err(de::Error::duplicate_field("agentSchedules"));
                }
                Key::AgentSchedules => {
                    seen_agents = true;
                    map.next_value_seed(Agents(&mut answer.agents))?;
                }
                Key::TimeZone if seen_zone => {
                    return Err(de::Error::duplicate_field("businessUnitTimeZone"));
                }
                Key::TimeZone => {
                    seen_zone = true;
                    answer.business_unit_time_zone = map.next_value()?;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(answer)
    }
}

/// The members that matter (any other is skipped, as the derived form did).
enum Key {
    AgentSchedules,
    TimeZone,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "agentSchedules" => Key::AgentSchedules,
                    "businessUnitTimeZone" => Key::TimeZone,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// The `agentSchedules` array, converted element by element into `out`.
struct Agents<'a>(&'a mut Vec<(String, CanonicalAgentSchedule)>);

impl<'de> DeserializeSeed<'de> for Agents<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Agents<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of agent schedules")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(agent) = seq.next_element::<BuAgentScheduleQueryResponse>()? {
            self.0.extend(CanonicalAgentSchedule::from_api(&agent));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesys::wfm::BuAgentSchedulesQueryResponse;

    const ANSWER: &str = r#"{
        "businessUnitTimeZone": "Europe/Paris",
        "extra": {"nested": [1, 2, {"agentSchedules": []}]},
        "agentSchedules": [
            {"user": {"id": "u2"}, "shifts": [
                {"id": "s2", "startDate": "2026-01-06T08:00:00Z", "lengthMinutes": 480,
                 "schedule": {"id": "x", "selfUri": "/x"}, "workPlanId": "wp", "manuallyEdited": true,
                 "activities": [
                    {"startDate": "2026-01-06T12:00:00.000Z", "lengthMinutes": 60, "activityCodeId": "2", "paid": false, "description": ""},
                    {"startDate": "2026-01-06T08:00:00Z", "lengthMinutes": 240, "activityCodeId": "0", "paid": true, "timeOffRequestId": "t"}
                 ]},
                {"id": "s1", "startDate": "2026-01-05T08:00:00Z", "lengthMinutes": 60, "activities": []}
            ], "fullDayTimeOffMarkers": [
                {"businessUnitDate": "2026-01-09", "lengthMinutes": 480, "activityCodeId": "5", "paid": true, "description": "holiday"}
            ], "metadata": {"version": 3}},
            {"shifts": []},
            {"user": {"id": "u1", "selfUri": "/u1"}, "shifts": [], "fullDayTimeOffMarkers": []},
            {"user": {"id": "u2"}, "shifts": []}
        ]
    }"#;

    #[test]
    fn agent_by_agent_equals_the_whole_answer_converted_afterwards() {
        let whole: BuAgentSchedulesQueryResponse = serde_json::from_str(ANSWER).unwrap();
        let expected: Vec<_> = whole
            .agent_schedules
            .iter()
            .filter_map(CanonicalAgentSchedule::from_api)
            .collect();
        let streamed: CanonicalAnswer = serde_json::from_str(ANSWER).unwrap();
        assert_eq!(streamed.agents, expected);
        assert_eq!(streamed.agents.len(), 3, "the entry without a user is skipped");
        assert_eq!(streamed.business_unit_time_zone.as_deref(), Some("Europe/Paris"));
        let from_reader: CanonicalAnswer = serde_json::from_reader(ANSWER.as_bytes()).unwrap();
        assert_eq!(from_reader, streamed, "the download path reads the same");
    }

    #[test]
    fn absent_members_are_empty_and_malformed_answers_are_refused_like_before() {
        let empty: CanonicalAnswer = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, CanonicalAnswer::default());
        for bad in [
            r#"{"agentSchedules": null}"#,
            r#"{"agentSchedules": [{"shifts": 3}]}"#,
            r#"{"agentSchedules": [], "agentSchedules": []}"#,
        ] {
            let old = serde_json::from_str::<BuAgentSchedulesQueryResponse>(bad);
            let new = serde_json::from_str::<CanonicalAnswer>(bad);
            assert!(old.is_err() && new.is_err(), "{bad}: refused by both");
        }
    }
}
