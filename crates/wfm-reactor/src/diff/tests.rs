//! Canonical form, hash stability and the added/updated/removed rules.

use super::*;
use crate::genesys::wfm::BuAgentScheduleQueryResponse;
use serde_json::json;

fn api(v: serde_json::Value) -> (String, CanonicalAgentSchedule) {
    let a: BuAgentScheduleQueryResponse = serde_json::from_value(v).unwrap();
    CanonicalAgentSchedule::from_api(&a).unwrap()
}

fn agent(user: &str, start: &str) -> serde_json::Value {
    json!({
        "user": {"id": user},
        "shifts": [
            {"id": "s2", "startDate": "2026-08-18T13:00:00Z", "lengthMinutes": 480, "manuallyEdited": true,
             "activities": [{"startDate": "2026-08-18T13:00:00Z", "lengthMinutes": 480, "activityCodeId": "0"}]},
            {"id": "s1", "startDate": start, "lengthMinutes": 480, "workPlanShiftId": "w",
             "schedule": {"id": "sch", "weekDate": "2026-08-17"},
             "activities": [
                {"startDate": "2026-08-17T14:00:00Z", "lengthMinutes": 15, "activityCodeId": "1", "paid": true},
                {"startDate": "2026-08-17T13:00:00Z", "lengthMinutes": 60, "activityCodeId": "0", "description": ""}
             ]}
        ],
        "fullDayTimeOffMarkers": [
            {"businessUnitDate": "2026-08-21", "lengthMinutes": 480, "activityCodeId": "5", "timeOffRequestSyncVersion": 1},
            {"businessUnitDate": "2026-08-20", "lengthMinutes": 480, "activityCodeId": "5"}
        ],
        "someFutureField": {"x": 1}
    })
}

#[test]
fn canonical_form_sorts_and_drops_volatile_fields() {
    let (user, s) = api(agent("u1", "2026-08-17T13:00:00Z"));
    assert_eq!(user, "u1");
    let ids: Vec<_> = s.shifts.iter().map(|s| s.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["s1", "s2"]);
    let starts: Vec<_> = s.shifts[0]
        .activities
        .iter()
        .map(|a| a.start_date.as_str())
        .collect();
    assert_eq!(starts, ["2026-08-17T13:00:00.000Z", "2026-08-17T14:00:00.000Z"]);
    assert_eq!(
        s.shifts[0].activities[0].description, None,
        "empty text is no text"
    );
    let dates: Vec<_> = s
        .full_day_time_off_markers
        .iter()
        .map(|m| m.business_unit_date.as_str())
        .collect();
    assert_eq!(dates, ["2026-08-20", "2026-08-21"]);
    let text = serde_json::to_string(&s).unwrap();
    for dropped in [
        "manuallyEdited",
        "workPlanShiftId",
        "timeOffRequestSyncVersion",
        "someFutureField",
    ] {
        assert!(!text.contains(dropped), "{dropped} kept");
    }
}

#[test]
fn hash_is_stable_across_order_renderings_ids_and_volatile_fields() {
    let (_, a) = api(agent("u1", "2026-08-17T13:00:00Z"));
    let mut reordered = agent("u1", "2026-08-17T08:00:00-05:00");
    let shifts = reordered["shifts"].as_array_mut().unwrap();
    shifts.reverse();
    shifts[0]["id"] = json!("regenerated");
    shifts[0]["manuallyEdited"] = json!(false);
    reordered["fullDayTimeOffMarkers"]
        .as_array_mut()
        .unwrap()
        .reverse();
    let (_, b) = api(reordered);
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.hash().len(), 64);
    assert!(
        a.hash()
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    // and a known value, so an accidental change of the canonical form is noticed
    let empty = CanonicalAgentSchedule::default().hash();
    assert_eq!(empty, {
        use sha2::Digest;
        let d = sha2::Sha256::digest(br#"{"fullDayTimeOffMarkers":[],"shifts":[]}"#);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    });
}

#[test]
fn real_changes_change_the_hash() {
    let (_, base) = api(agent("u1", "2026-08-17T13:00:00Z"));
    let (_, moved) = api(agent("u1", "2026-08-17T13:30:00Z"));
    assert_ne!(base.hash(), moved.hash());
    let mut v = agent("u1", "2026-08-17T13:00:00Z");
    v["shifts"][1]["activities"][0]["activityCodeId"] = json!("3");
    assert_ne!(base.hash(), api(v).1.hash());
    let mut v = agent("u1", "2026-08-17T13:00:00Z");
    v["fullDayTimeOffMarkers"].as_array_mut().unwrap().pop();
    assert_ne!(base.hash(), api(v).1.hash());
}

#[test]
fn diff_reports_added_updated_removed_and_skips_unchanged() {
    let (_, same) = api(agent("same", "2026-08-17T13:00:00Z"));
    let (_, changed) = api(agent("changed", "2026-08-17T15:00:00Z"));
    let (_, new) = api(agent("new", "2026-08-17T13:00:00Z"));
    let emptied = CanonicalAgentSchedule::default();
    let previous: HashMap<String, String> = [
        ("same".to_string(), same.hash()),
        (
            "changed".to_string(),
            api(agent("changed", "2026-08-17T13:00:00Z")).1.hash(),
        ),
        ("gone".to_string(), "abc".to_string()),
        ("emptied".to_string(), same.hash()),
    ]
    .into();
    let current = vec![
        ("same".to_string(), same),
        ("changed".to_string(), changed.clone()),
        ("new".to_string(), new),
        ("emptied".to_string(), emptied),
    ];
    let d = diff(&previous, current.clone());
    let got: Vec<_> = d.iter().map(|a| (a.user_id.as_str(), a.change)).collect();
    assert_eq!(
        got,
        [
            ("changed", Change::Updated),
            ("emptied", Change::Updated),
            ("gone", Change::Removed),
            ("new", Change::Added),
        ]
    );
    assert_eq!(d[0].schedule, changed);
    assert_eq!(d[0].hash.as_deref(), Some(changed.hash().as_str()));
    assert!(d[1].schedule.shifts.is_empty());
    assert_eq!(d[2].hash, None);
}

#[test]
fn resolving_codes_fills_names_and_reports_unknown_ids() {
    let (_, mut s) = api(agent("u1", "2026-08-17T13:00:00Z"));
    let before = s.hash();
    let codes: HashMap<String, ActivityCodeInfo> = [(
        "0".to_string(),
        ActivityCodeInfo {
            name: Some("On Queue Work".into()),
            category: Some("OnQueueWork".into()),
        },
    )]
    .into();
    let unknown = resolve_codes(&mut s, &codes);
    assert_eq!(unknown.into_iter().collect::<Vec<_>>(), ["1", "5"]);
    let first = &s.shifts[0].activities[0];
    assert_eq!(
        first.activity_code.as_ref().unwrap().category.as_deref(),
        Some("OnQueueWork")
    );
    assert_eq!(s.shifts[0].activities[1].activity_code, None);
    assert_eq!(s.hash(), before, "resolution does not change the hash");
}

#[test]
fn an_entry_without_user_is_skipped() {
    let a: BuAgentScheduleQueryResponse = serde_json::from_value(json!({"shifts": []})).unwrap();
    assert!(CanonicalAgentSchedule::from_api(&a).is_none());
}

#[test]
fn the_streamed_hash_equals_the_value_based_one_on_a_real_schedule() {
    let (_, a) = api(agent("u1", "2026-08-17T13:00:00Z"));
    assert_eq!(a.hash(), super::hash::tests::reference_hash(&a));
    let empty = CanonicalAgentSchedule::default();
    assert_eq!(empty.hash(), super::hash::tests::reference_hash(&empty));
}

#[test]
fn instants_normalise_as_the_strftime_form() {
    for s in [
        "2026-08-17T08:00:00Z",
        "2026-08-17T08:00:00.000Z",
        "2026-08-17T08:00:00.5Z",
        "2026-08-17T08:00:00.123456789Z",
        "2026-08-17T08:00:00+02:00",
        "2026-08-17T00:30:00.999-05:30",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z",
        "2024-02-29T12:00:00Z",
    ] {
        let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
        let strftime = t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        assert_eq!(normalise_instant(s), strftime, "{s}");
    }
    assert_eq!(normalise_instant("not a date"), "not a date");
}

/// What `normalise_instant` answered before its copying fast path.
fn through_chrono(s: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        Err(_) => s.to_string(),
    }
}

#[test]
fn the_copying_fast_path_answers_as_chrono_on_every_shape_it_takes() {
    let fields = [
        ["0000", "0001", "1969", "2024", "2026", "9999", "20x6"],
        ["00", "01", "02", "12", "13", "1x", "09"],
        ["00", "01", "28", "29", "30", "31", "32"],
        ["00", "09", "23", "24", "1x", "19", "99"],
        ["00", "30", "59", "60", "x0", "07", "99"],
        ["00", "45", "59", "60", "61", "x9", "01"],
    ];
    let mut n = 0;
    for (i, year) in fields[0].iter().enumerate() {
        for month in fields[1] {
            for day in fields[2] {
                for (j, hour) in fields[3].iter().enumerate() {
                    let minute = fields[4][(i + j) % 7];
                    let second = fields[5][(i * 3 + j + day.len()) % 7];
                    for tail in ["Z", ".000Z", ".123Z", ".1x3Z", "z", ".5Z", "+00:00"] {
                        let s = format!("{year}-{month}-{day}T{hour}:{minute}:{second}{tail}");
                        assert_eq!(normalise_instant(&s), through_chrono(&s), "{s}");
                        n += 1;
                    }
                }
            }
        }
    }
    for s in [
        "2026-08-17 08:00:00Z",
        "2026-08-17T08:00:00",
        "2026-8-17T08:00:00.000Z",
    ] {
        assert_eq!(normalise_instant(s), through_chrono(s), "{s}");
    }
    assert!(n > 10_000);
}
