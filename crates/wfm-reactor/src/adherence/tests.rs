//! The engine's rules case by case, and properties of the timeline and the tracker: the
//! tracker's state at any instant equals a from-scratch evaluation at that instant, and it
//! reports a change only when an emitted field really changed.

use super::*;
use crate::diff::{ActivityCodeInfo, CanonicalActivity, CanonicalAgentSchedule, CanonicalShift};
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

const T0: i64 = 1_764_576_000_000; // 2025-12-01T08:00:00Z

fn t(minute: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(T0 + minute * 60_000).unwrap()
}

fn activity(start_min: i64, len: i64, category: &str) -> CanonicalActivity {
    CanonicalActivity {
        start_date: t(start_min).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        length_minutes: len,
        activity_code_id: Some(format!("code-{category}")),
        activity_code: Some(ActivityCodeInfo {
            name: Some(category.to_string()),
            category: Some(category.to_string()),
        }),
        description: None,
        paid: Some(true),
    }
}

fn schedule(activities: Vec<CanonicalActivity>) -> CanonicalAgentSchedule {
    CanonicalAgentSchedule {
        shifts: vec![CanonicalShift {
            id: Some("s".into()),
            start_date: activities
                .first()
                .map(|a| a.start_date.clone())
                .unwrap_or_default(),
            length_minutes: activities.iter().map(|a| a.length_minutes).sum(),
            activities,
        }],
        full_day_time_off_markers: vec![],
    }
}

/// 08:00 on queue for 60 min, 09:00 break for 15, 09:15 on queue for 45.
fn workday() -> Timeline {
    Timeline::from_schedules([&schedule(vec![
        activity(0, 60, "OnQueueWork"),
        activity(60, 15, "Break"),
        activity(75, 45, "OnQueueWork"),
    ])])
}

fn eval_at(tl: &Timeline, at: DateTime<Utc>, presence: Option<&str>, routing: Option<&str>) -> Evaluation {
    let scheduled = tl.at(at);
    let inputs = Inputs {
        scheduled: scheduled.as_ref(),
        system_presence: presence,
        routing_status: routing,
    };
    evaluate(inputs, &Mapping::default())
}

#[test]
fn on_queue_is_adherent_only_with_an_adherent_routing_status() {
    let tl = workday();
    let at = t(10);
    for (routing, want) in [
        (Some("IDLE"), AdherenceState::InAdherence),
        (Some("INTERACTING"), AdherenceState::InAdherence),
        (Some("COMMUNICATING"), AdherenceState::InAdherence),
        (Some("NOT_RESPONDING"), AdherenceState::OutOfAdherence),
        (Some("OFF_QUEUE"), AdherenceState::OutOfAdherence),
        (None, AdherenceState::InAdherence),
    ] {
        let e = eval_at(&tl, at, Some("On Queue"), routing);
        assert_eq!(e.state, want, "routing {routing:?}");
        assert_eq!(e.scheduled, Category::OnQueueWork);
        assert_eq!(e.actual, Some(Category::OnQueueWork));
    }
    assert_eq!(
        eval_at(&tl, at, Some("Available"), Some("IDLE")).state,
        AdherenceState::OutOfAdherence
    );
}

#[test]
fn a_scheduled_break_needs_the_break_presence() {
    let tl = workday();
    let e = eval_at(&tl, t(61), Some("On Queue"), Some("IDLE"));
    assert_eq!(
        (e.state, e.scheduled),
        (AdherenceState::OutOfAdherence, Category::Break)
    );
    assert_eq!(e.scheduled_code_id.as_deref(), Some("code-Break"));
    assert_eq!(
        eval_at(&tl, t(61), Some("Break"), None).state,
        AdherenceState::InAdherence
    );
}

#[test]
fn unscheduled_rules() {
    let tl = workday();
    let after = t(200);
    let state = |p| eval_at(&tl, after, Some(p), Some("IDLE")).state;
    assert_eq!(state("Offline"), AdherenceState::InAdherence);
    assert_eq!(state("Away"), AdherenceState::InAdherence);
    assert_eq!(state("Out of Office"), AdherenceState::InAdherence);
    assert_eq!(state("On Queue"), AdherenceState::OutOfAdherence);
    assert_eq!(state("Available"), AdherenceState::Unscheduled);
    assert_eq!(eval_at(&tl, after, None, None).state, AdherenceState::Unknown);
    assert_eq!(
        eval_at(&tl, after, Some("Offline"), None).scheduled,
        Category::Unscheduled
    );
}

#[test]
fn mapping_overrides_take_short_names_and_reject_unknown_categories() {
    let over = [("Busy".to_string(), "OnQueue".to_string())];
    let m = Mapping::with_overrides(over.iter().map(|(a, b)| (a, b))).unwrap();
    assert_eq!(m.category("busy"), Some(Category::OnQueueWork));
    assert_eq!(m.category("ON_QUEUE"), Some(Category::OnQueueWork));
    let bad = [("Busy".to_string(), "Napping".to_string())];
    let err = Mapping::with_overrides(bad.iter().map(|(a, b)| (a, b))).unwrap_err();
    assert_eq!(err.category, "Napping");
}

#[test]
fn boundaries_are_the_starts_and_ends() {
    let tl = workday();
    assert_eq!(tl.next_boundary(t(-5)), Some(t(0)));
    assert_eq!(tl.next_boundary(t(0)), Some(t(60)));
    assert_eq!(tl.next_boundary(t(70)), Some(t(75)));
    assert_eq!(tl.next_boundary(t(119)), Some(t(120)));
    assert_eq!(tl.next_boundary(t(120)), None);
    assert_eq!(tl.next_activity(t(10)).unwrap().category, Some(Category::Break));
}

fn unit() -> Unit {
    Unit {
        management_unit_id: "mu".into(),
        business_unit_id: "bu".into(),
    }
}

#[test]
fn the_tracker_changes_state_at_a_break_with_no_presence_change() {
    let mut tr = Tracker::new(Mapping::default());
    tr.track("u", unit());
    assert!(
        tr.set_timeline("u", workday(), t(-1)).is_none(),
        "no presence yet: no state"
    );
    let c = tr.set_inputs("u", Some("On Queue"), Some("IDLE"), t(5)).unwrap();
    assert_eq!(c.now.state, AdherenceState::InAdherence);
    assert_eq!(tr.next_deadline(), Some(t(60)));
    assert!(tr.take_due(t(59)).is_empty());
    let due = tr.take_due(t(61));
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].now.state, due[0].at),
        (AdherenceState::OutOfAdherence, t(60))
    );
    assert_eq!(
        due[0].previous.as_ref().unwrap().state,
        AdherenceState::InAdherence
    );
    let back = tr.set_inputs("u", Some("Break"), None, t(62)).unwrap();
    assert_eq!(back.now.state, AdherenceState::InAdherence);
    assert_eq!(tr.pending_timers(), 1);
    // The same inputs again: nothing.
    assert!(tr.set_inputs("u", Some("Break"), None, t(63)).is_none());
}

#[test]
fn a_restored_state_that_still_holds_emits_nothing() {
    let mut tr = Tracker::new(Mapping::default());
    tr.track("u", unit());
    let stored = eval_at(&workday(), t(5), Some("On Queue"), Some("IDLE"));
    tr.restore("u", stored, t(1));
    tr.prime("u", workday(), Some("On Queue"), Some("IDLE"));
    assert!(tr.reevaluate_all(t(6)).is_empty());
    assert!(tr.set_inputs("u", Some("On Queue"), Some("IDLE"), t(7)).is_none());
    assert_eq!(
        tr.next_deadline(),
        Some(t(60)),
        "the timer is armed by the first evaluation"
    );
    assert_eq!(tr.state("u").unwrap().1, t(1), "since is kept");
}

// === properties ===

const CATEGORIES: [&str; 5] = ["OnQueueWork", "Break", "Meal", "OffQueueWork", "Training"];
const PRESENCES: [&str; 7] = [
    "On Queue",
    "Break",
    "Meal",
    "Available",
    "Offline",
    "Away",
    "Training",
];
const ROUTING: [&str; 4] = ["IDLE", "INTERACTING", "OFF_QUEUE", "NOT_RESPONDING"];

fn timeline_strategy() -> impl Strategy<Value = Timeline> {
    let act = (0i64..300, 1i64..90, 0usize..CATEGORIES.len());
    prop::collection::vec(act, 0..8).prop_map(|acts| {
        let acts = acts
            .into_iter()
            .map(|(s, l, c)| activity(s, l, CATEGORIES[c]))
            .collect();
        Timeline::from_schedules([&schedule(acts)])
    })
}

/// Things happening to one agent, in time order: (minute, what).
#[derive(Debug, Clone)]
enum Step {
    Presence(usize, usize),
    Schedule(Timeline),
}

fn steps_strategy() -> impl Strategy<Value = Vec<(i64, Step)>> {
    let step = prop_oneof![
        4 => (0usize..PRESENCES.len(), 0usize..ROUTING.len()).prop_map(|(p, r)| Step::Presence(p, r)),
        1 => timeline_strategy().prop_map(Step::Schedule),
    ];
    prop::collection::vec((-10i64..400, step), 0..24).prop_map(|mut v| {
        v.sort_by_key(|(m, _)| *m);
        v
    })
}

fn schedule_strategy() -> impl Strategy<Value = CanonicalAgentSchedule> {
    let act = (0i64..300, 1i64..90, 0usize..CATEGORIES.len());
    prop::collection::vec(act, 0..8).prop_map(|acts| {
        schedule(
            acts.into_iter()
                .map(|(s, l, c)| activity(s, l, CATEGORIES[c]))
                .collect(),
        )
    })
}

proptest! {
    /// Merging shares the parts instead of re-sorting their activities: it must answer
    /// exactly as one timeline built from every schedule at once (overlaps and ties too).
    #[test]
    fn a_merged_timeline_answers_as_one_built_from_every_schedule(
        schedules in prop::collection::vec(schedule_strategy(), 0..4),
        probes in prop::collection::vec(-10i64..420, 1..16),
    ) {
        let whole = Timeline::from_schedules(&schedules);
        let parts: Vec<Timeline> = schedules.iter().map(|s| Timeline::from_schedules([s])).collect();
        let merged = Timeline::merged(&parts);
        prop_assert_eq!(whole.is_empty(), merged.is_empty());
        for m in probes {
            let at = t(m) + chrono::Duration::seconds(m % 7 * 11);
            prop_assert_eq!(whole.at(at), merged.at(at));
            prop_assert_eq!(whole.next_boundary(at), merged.next_boundary(at));
            prop_assert_eq!(whole.next_activity(at), merged.next_activity(at));
        }
    }

    #[test]
    fn at_is_constant_between_boundaries_and_matches_a_scan(tl in timeline_strategy(), m in -20i64..400, d in 0i64..60) {
        let at = t(m);
        let later = t(m) + chrono::Duration::seconds(d * 37);
        if tl.next_boundary(at).is_none_or(|b| later < b) {
            prop_assert_eq!(tl.at(at), tl.at(later));
        }
        if let Some(b) = tl.next_boundary(at) {
            prop_assert!(b > at);
        }
    }

    #[test]
    fn tracker_state_equals_a_from_scratch_evaluation(initial in timeline_strategy(), steps in steps_strategy(), probes in prop::collection::vec(-10i64..420, 1..16)) {
        let mut tr = Tracker::new(Mapping::default());
        tr.track("u", unit());
        let mut tl = initial;
        let (mut presence, mut routing): (Option<&str>, Option<&str>) = (None, None);
        let mut last = tr.set_timeline("u", tl.clone(), t(-20)).map(|c| c.now);
        let mut probes = probes;
        probes.sort_unstable();
        let mut steps = steps.into_iter().peekable();
        for probe in probes {
            // Apply every step up to the probe, firing timers on the way like the reactor.
            while let Some((m, _)) = steps.peek() {
                if *m > probe { break; }
                let (m, step) = steps.next().unwrap();
                let mut changes = tr.take_due(t(m));
                let change = match step {
                    Step::Presence(p, r) => {
                        presence = Some(PRESENCES[p]);
                        routing = Some(ROUTING[r]);
                        tr.set_inputs("u", presence, routing, t(m))
                    }
                    Step::Schedule(new) => { tl = new.clone(); tr.set_timeline("u", new, t(m)) }
                };
                changes.extend(change);
                for c in changes {
                    // Events only at real changes: each differs from the one before.
                    prop_assert!(last.as_ref().is_none_or(|l| l.differs(&c.now)));
                    prop_assert_eq!(c.previous.as_ref(), last.as_ref());
                    last = Some(c.now);
                }
            }
            for c in tr.take_due(t(probe)) {
                prop_assert!(last.as_ref().is_none_or(|l| l.differs(&c.now)));
                last = Some(c.now);
            }
            let scratch = eval_at(&tl, t(probe), presence, routing);
            if presence.is_none() {
                prop_assert!(tr.state("u").is_none());
                continue;
            }
            let (state, _, _) = tr.state("u").unwrap();
            prop_assert!(!state.differs(&scratch), "at {probe}: {state:?} vs {scratch:?}");
            prop_assert!(tr.pending_timers() <= 1);
        }
    }
}
