//! The one-pass read gives the schedules the API models and `from_api` give, on any
//! answer the API models accept, from a slice (borrowed text) and from a reader (owned).

use super::CanonicalAnswer;
use crate::diff::CanonicalAgentSchedule;
use crate::genesys::wfm::BuAgentSchedulesQueryResponse;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// What the schedule fetch built before: API models, then `from_api`.
fn two_pass(body: &[u8]) -> Option<CanonicalAnswer> {
    let answer: BuAgentSchedulesQueryResponse = serde_json::from_slice(body).ok()?;
    Some(CanonicalAnswer {
        agents: answer
            .agent_schedules
            .iter()
            .filter_map(CanonicalAgentSchedule::from_api)
            .collect(),
    })
}

fn check(body: &[u8]) {
    let Some(expected) = two_pass(body) else {
        return;
    };
    let from_slice: CanonicalAnswer = serde_json::from_slice(body).expect("the API models accepted it");
    assert_eq!(from_slice, expected, "{}", String::from_utf8_lossy(body));
    let from_reader: CanonicalAnswer = serde_json::from_reader(body).expect("and from a reader");
    assert_eq!(from_reader, expected);
}

#[test]
fn a_full_answer_reads_as_the_api_models_canonicalise_it() {
    let body = json!({
        "businessUnitTimeZone": "Europe/Paris",
        "agentSchedules": [
            {
                "user": {"id": "u1", "selfUri": "/api/v2/users/u1"},
                "shifts": [
                    {"id": "s2", "startDate": "2026-08-18T13:00:00Z", "lengthMinutes": 480, "manuallyEdited": true,
                     "schedule": {"id": "sch", "weekDate": "2026-08-17"}, "workPlanId": "w", "workPlanShiftId": "ws",
                     "activities": [
                        {"startDate": "2026-08-18T14:00:00.000Z", "lengthMinutes": 15, "activityCodeId": "1",
                         "paid": true, "payableMinutes": 15, "description": "q\"uoted \u{e9}\\n"},
                        {"startDate": "2026-08-18T13:00:00+02:00", "lengthMinutes": 60, "activityCodeId": "0",
                         "description": "", "externalActivityType": "Coaching"}
                     ]},
                    {"id": "s1", "startDate": "2026-08-17T13:00:00Z", "lengthMinutes": 480, "activities": []}
                ],
                "fullDayTimeOffMarkers": [
                    {"businessUnitDate": "2026-08-21", "lengthMinutes": 480, "activityCodeId": "5",
                     "timeOffRequestId": "t", "timeOffRequestSyncVersion": 2, "description": "sick"},
                    {"businessUnitDate": "2026-08-20", "lengthMinutes": 480, "activityCodeId": "5", "paid": null}
                ],
                "workPlan": {"id": "w"},
                "metadata": {"version": 3}
            },
            {"shifts": []},
            {"user": null},
            {"user": {"id": "u2"}}
        ]
    });
    let bytes = serde_json::to_vec(&body).unwrap();
    check(&bytes);
    let read: CanonicalAnswer = serde_json::from_slice(&bytes).unwrap();
    let users: Vec<_> = read.agents.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(users, ["u1", "u2"], "entries without a user are skipped");
    let first = &read.agents[0].1;
    assert_eq!(
        first.shifts[1].activities[0].start_date,
        "2026-08-18T11:00:00.000Z"
    );
    assert_eq!(
        first.shifts[1].activities[1].description.as_deref(),
        Some("q\"uoted \u{e9}\\n")
    );
}

#[test]
fn an_empty_or_missing_list_is_no_agents_and_a_malformed_kept_field_is_an_error() {
    for body in [r#"{}"#, r#"{"agentSchedules": []}"#] {
        let read: CanonicalAnswer = serde_json::from_str(body).unwrap();
        assert!(read.agents.is_empty());
    }
    for body in [
        r#"{"agentSchedules": null}"#,
        r#"{"agentSchedules": [{"user": {"id": "u"}, "shifts": null}]}"#,
        r#"{"agentSchedules": [{"user": {"id": "u"}, "shifts": [{"lengthMinutes": "8h"}]}]}"#,
        r#"{"agentSchedules": [{"user": {"id": "u"}, "shifts": [{"activities": [{"paid": 1}]}]}]}"#,
    ] {
        assert!(serde_json::from_str::<CanonicalAnswer>(body).is_err(), "{body}");
        assert!(two_pass(body.as_bytes()).is_none(), "{body}");
    }
}

/// A value for an optional field: absent, null, or one of `values`.
fn field(map: &mut Map<String, Value>, key: &str, choice: usize, values: &[Value]) {
    match choice % (values.len() + 2) {
        0 => {}
        1 => {
            map.insert(key.into(), Value::Null);
        }
        n => {
            map.insert(key.into(), values[n - 2].clone());
        }
    }
}

fn instants() -> Vec<Value> {
    [
        "2026-08-17T08:00:00Z",
        "2026-08-17T08:00:00.000Z",
        "2026-08-17T08:00:00.5Z",
        "2026-08-17T10:00:00+02:00",
        "2026-02-30T08:00:00Z",
        "not a date",
        "",
    ]
    .into_iter()
    .map(Value::from)
    .collect()
}

fn texts() -> Vec<Value> {
    ["", "x", "q\"b\\s", "é ✓ 😀\n", "0"]
        .into_iter()
        .map(Value::from)
        .collect()
}

fn object(choices: &[usize], fields: &[(&str, Vec<Value>)]) -> Value {
    let mut map = Map::new();
    for ((key, values), &c) in fields.iter().zip(choices) {
        field(&mut map, key, c, values);
    }
    Value::Object(map)
}

fn activity() -> impl Strategy<Value = Value> {
    proptest::collection::vec(any::<usize>(), 8).prop_map(|c| {
        object(
            &c,
            &[
                ("startDate", instants()),
                ("lengthMinutes", vec![json!(15), json!(0), json!(-5)]),
                ("description", texts()),
                ("activityCodeId", vec![json!("0"), json!("1"), json!("x\"y")]),
                ("paid", vec![json!(true), json!(false)]),
                ("payableMinutes", vec![json!(15)]),
                ("timeOffRequestId", vec![json!("t")]),
                ("externalActivityType", vec![json!("Coaching")]),
            ],
        )
    })
}

fn shift() -> impl Strategy<Value = Value> {
    (
        proptest::collection::vec(any::<usize>(), 7),
        proptest::collection::vec(activity(), 0..5),
    )
        .prop_map(|(c, activities)| {
            let mut v = object(
                &c,
                &[
                    ("id", vec![json!("s1"), json!("s2"), json!("")]),
                    ("startDate", instants()),
                    ("lengthMinutes", vec![json!(480), json!(30)]),
                    ("manuallyEdited", vec![json!(true)]),
                    ("schedule", vec![json!({"id": "sch", "weekDate": "2026-08-17"})]),
                    ("workPlanId", vec![json!("w")]),
                    ("workPlanShiftId", vec![json!("ws")]),
                ],
            );
            if c[0] % 4 != 0 {
                v["activities"] = Value::Array(activities);
            }
            v
        })
}

fn marker() -> impl Strategy<Value = Value> {
    proptest::collection::vec(any::<usize>(), 7).prop_map(|c| {
        object(
            &c,
            &[
                ("businessUnitDate", vec![json!("2026-08-20"), json!("2026-08-21")]),
                ("lengthMinutes", vec![json!(480)]),
                ("description", texts()),
                ("activityCodeId", vec![json!("5"), json!("6")]),
                ("paid", vec![json!(true)]),
                ("timeOffRequestId", vec![json!("t")]),
                ("timeOffRequestSyncVersion", vec![json!(1)]),
            ],
        )
    })
}

fn agent() -> impl Strategy<Value = Value> {
    (
        any::<usize>(),
        proptest::collection::vec(shift(), 0..4),
        proptest::collection::vec(marker(), 0..3),
    )
        .prop_map(|(c, shifts, markers)| {
            let mut v = object(
                &[c, c / 7, c / 49],
                &[
                    ("user", vec![json!({"id": "u1"}), json!({"id": "u2"}), json!({})]),
                    ("metadata", vec![json!({"version": 2})]),
                    ("workPlan", vec![json!({"id": "w"})]),
                ],
            );
            if c % 3 != 0 {
                v["shifts"] = Value::Array(shifts);
            }
            if c % 5 != 0 {
                v["fullDayTimeOffMarkers"] = Value::Array(markers);
            }
            v
        })
}

proptest! {
    #[test]
    fn any_answer_the_api_models_accept_reads_the_same(agents in proptest::collection::vec(agent(), 0..4)) {
        let body = serde_json::to_vec(&json!({"agentSchedules": agents})).unwrap();
        check(&body);
    }
}

#[test]
fn a_malformed_field_the_canonical_form_drops_no_longer_fails_the_answer() {
    let body = r#"{"agentSchedules": [{"user": {"id": "u"}, "metadata": "v3",
        "shifts": [{"startDate": "2026-08-17T08:00:00Z", "manuallyEdited": "yes", "schedule": 7,
                    "activities": [{"startDate": "2026-08-17T08:00:00Z", "payableMinutes": "all"}]}]}]}"#;
    assert!(two_pass(body.as_bytes()).is_none(), "the API models refuse it");
    let read: CanonicalAnswer = serde_json::from_str(body).unwrap();
    assert_eq!(read.agents.len(), 1);
    assert_eq!(
        read.agents[0].1.shifts[0].activities[0].start_date,
        "2026-08-17T08:00:00.000Z"
    );
}
