//! The streamed hash equals the original definition (a `Value` with shift ids and resolved
//! codes stripped, re-serialised with sorted keys), so hashes already stored stay valid.

use crate::diff::CanonicalAgentSchedule;

/// The hash as first defined: the canonical JSON as a `Value`, shift ids and resolved codes
/// removed, re-serialised with sorted keys. Stored hashes were made this way.
pub(crate) fn reference_hash(s: &CanonicalAgentSchedule) -> String {
    use sha2::Digest;
    let mut v = serde_json::to_value(s).unwrap();
    for shift in v["shifts"].as_array_mut().unwrap() {
        let o = shift.as_object_mut().unwrap();
        o.remove("id");
        for a in o["activities"].as_array_mut().unwrap() {
            a.as_object_mut().unwrap().remove("activityCode");
        }
    }
    for m in v["fullDayTimeOffMarkers"].as_array_mut().unwrap() {
        m.as_object_mut().unwrap().remove("activityCode");
    }
    let d = sha2::Sha256::digest(serde_json::to_vec(&v).unwrap());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

mod streamed_hash {
    use super::*;
    use crate::diff::{ActivityCodeInfo, CanonicalActivity, CanonicalShift, CanonicalTimeOff};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("[a-zA-Z0-9 \"\\\\\u{0}-\u{1f}é€😀]{0,12}")
    }

    fn code() -> impl Strategy<Value = Option<ActivityCodeInfo>> {
        proptest::option::of(
            (text(), text()).prop_map(|(name, category)| ActivityCodeInfo { name, category }),
        )
    }

    fn activity() -> impl Strategy<Value = CanonicalActivity> {
        (
            ".{0,30}",
            any::<i64>(),
            text(),
            code(),
            text(),
            any::<Option<bool>>(),
        )
            .prop_map(
                |(start_date, length_minutes, activity_code_id, activity_code, description, paid)| {
                    CanonicalActivity {
                        start_date,
                        length_minutes,
                        activity_code_id,
                        activity_code,
                        description,
                        paid,
                    }
                },
            )
    }

    fn schedule() -> impl Strategy<Value = CanonicalAgentSchedule> {
        let shift = (
            text(),
            ".{0,30}",
            any::<i64>(),
            proptest::collection::vec(activity(), 0..4),
        )
            .prop_map(|(id, start_date, length_minutes, activities)| CanonicalShift {
                id,
                start_date,
                length_minutes,
                activities,
            });
        let marker = (
            ".{0,12}",
            any::<i64>(),
            text(),
            code(),
            text(),
            any::<Option<bool>>(),
        )
            .prop_map(
                |(business_unit_date, length_minutes, activity_code_id, activity_code, description, paid)| {
                    CanonicalTimeOff {
                        business_unit_date,
                        length_minutes,
                        activity_code_id,
                        activity_code,
                        description,
                        paid,
                    }
                },
            );
        (
            proptest::collection::vec(shift, 0..4),
            proptest::collection::vec(marker, 0..3),
        )
            .prop_map(|(shifts, full_day_time_off_markers)| CanonicalAgentSchedule {
                shifts,
                full_day_time_off_markers,
            })
    }

    proptest! {
        #[test]
        fn equals_the_value_based_definition(s in schedule()) {
            prop_assert_eq!(s.hash(), reference_hash(&s));
        }
    }
}
