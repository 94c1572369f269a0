//! An agent-schedules answer read straight into canonical schedules, in one pass.
//!
//! Why: reading the answer into the API models of `genesys::wfm` first allocated every
//! field of every shift and activity (shift and work-plan ids, time-off request ids, a
//! `serde_json::Value` map for each shift's `schedule` reference) only to copy the few
//! fields the canonical form keeps and drop the rest: that was the largest cost of a
//! schedule fetch. Here only the kept fields are read (into text borrowed from the body
//! where it has no escapes), every other field is skipped unread, and each shift is put
//! in canonical order as soon as it is parsed.
//!
//! [`CanonicalAgentSchedule::from_api`] stays the definition: a test and the diff fuzz
//! target check that both give the same schedules. The one difference is leniency: a
//! field the canonical form does not keep is not type-checked (`"manuallyEdited": "yes"`
//! no longer fails the whole answer).

use super::canonical::{
    CanonicalActivity, CanonicalAgentSchedule, CanonicalShift, CanonicalTimeOff, normalise_instant,
};
use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// The canonical schedules of one `BuAgentSchedulesQueryResponse`, in answer order;
/// an agent without a user id is skipped (it cannot be attributed).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CanonicalAnswer {
    /// `(user id, schedule)` per agent.
    pub agents: Vec<(String, CanonicalAgentSchedule)>,
}

impl<'de> Deserialize<'de> for CanonicalAnswer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let answer = Answer::deserialize(d)?;
        Ok(Self {
            agents: answer.agent_schedules,
        })
    }
}

/// The answer's members: only `agentSchedules` is read.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Answer {
    #[serde(deserialize_with = "agents")]
    agent_schedules: Vec<(String, CanonicalAgentSchedule)>,
}

/// Text borrowed from the body when it holds no escape, owned otherwise.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `Some(text)` unless absent, null or empty (empty text is no text).
fn non_empty(t: Option<Text<'_>>) -> Option<String> {
    t.map(|t| t.0).filter(|t| !t.is_empty()).map(Cow::into_owned)
}

/// One `BuAgentScheduleQueryResponse`, the kept fields only.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Agent {
    user: Option<User>,
    #[serde(deserialize_with = "shifts")]
    shifts: Vec<CanonicalShift>,
    #[serde(deserialize_with = "markers")]
    full_day_time_off_markers: Vec<CanonicalTimeOff>,
}

/// The agent's `user` reference.
#[derive(Deserialize, Default)]
#[serde(default)]
struct User {
    id: Option<String>,
}

/// One `BuAgentScheduleShift`, the kept fields only.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Shift<'a> {
    id: Option<String>,
    #[serde(borrow)]
    start_date: Option<Text<'a>>,
    length_minutes: Option<i64>,
    #[serde(deserialize_with = "activities")]
    activities: Vec<CanonicalActivity>,
}

/// One `BuAgentScheduleActivity`, the kept fields only.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Activity<'a> {
    #[serde(borrow)]
    start_date: Option<Text<'a>>,
    length_minutes: Option<i64>,
    #[serde(borrow)]
    description: Option<Text<'a>>,
    activity_code_id: Option<String>,
    paid: Option<bool>,
}

/// One `BuFullDayTimeOffMarker`, the kept fields only.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Marker<'a> {
    business_unit_date: Option<String>,
    length_minutes: Option<i64>,
    #[serde(borrow)]
    description: Option<Text<'a>>,
    activity_code_id: Option<String>,
    paid: Option<bool>,
}

fn text<'a>(t: &'a Option<Text<'_>>) -> &'a str {
    t.as_ref().map_or("", |t| &t.0)
}

fn agent(a: Agent) -> Option<(String, CanonicalAgentSchedule)> {
    let user = a.user?.id?;
    Some((
        user,
        CanonicalAgentSchedule::new(a.shifts, a.full_day_time_off_markers),
    ))
}

fn shift(s: Shift<'_>) -> CanonicalShift {
    CanonicalShift::new(
        s.id,
        text(&s.start_date),
        s.length_minutes.unwrap_or_default(),
        s.activities,
    )
}

fn activity(a: Activity<'_>) -> CanonicalActivity {
    CanonicalActivity {
        start_date: normalise_instant(text(&a.start_date)),
        length_minutes: a.length_minutes.unwrap_or_default(),
        activity_code_id: a.activity_code_id,
        activity_code: None,
        description: non_empty(a.description),
        paid: a.paid,
    }
}

fn marker(m: Marker<'_>) -> CanonicalTimeOff {
    CanonicalTimeOff {
        business_unit_date: m.business_unit_date.unwrap_or_default(),
        length_minutes: m.length_minutes.unwrap_or_default(),
        activity_code_id: m.activity_code_id,
        activity_code: None,
        description: non_empty(m.description),
        paid: m.paid,
    }
}

fn agents<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, CanonicalAgentSchedule)>, D::Error> {
    d.deserialize_seq(Each(agent, PhantomData))
}

fn shifts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CanonicalShift>, D::Error> {
    d.deserialize_seq(Each(|s| Some(shift(s)), PhantomData))
}

fn activities<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CanonicalActivity>, D::Error> {
    d.deserialize_seq(Each(|a| Some(activity(a)), PhantomData))
}

fn markers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CanonicalTimeOff>, D::Error> {
    d.deserialize_seq(Each(|m| Some(marker(m)), PhantomData))
}

/// A JSON array whose elements are read as `L` and turned into `T` one by one (no
/// intermediate vector of `L`); `None` drops the element.
struct Each<L, T>(fn(L) -> Option<T>, PhantomData<L>);

impl<'de, L: Deserialize<'de>, T> Visitor<'de> for Each<L, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(element) = seq.next_element::<L>()? {
            out.extend((self.0)(element));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
