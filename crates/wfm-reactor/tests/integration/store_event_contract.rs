//! The CloudEvent JSON of every type, locked by snapshots so the contract cannot drift.

use wfm_reactor::events::*;

const HOST: &str = "api.mypurecloud.com";

fn rendered(ev: &NewEvent, seq: u64) -> serde_json::Value {
    serde_json::from_str(&ev.render(seq)).unwrap()
}

fn schedule_changed() -> ScheduleChanged {
    ScheduleChanged {
        business_unit_id: "bu-1".into(),
        management_unit_id: "mu-1".into(),
        schedule_id: "sch-1".into(),
        week_date: "2026-03-02".into(),
        week_count: 1,
        published: true,
        version: 4,
        operation_id: Some("op-9".into()),
        cause: Cause::Notification,
        business_unit_time_zone: "Europe/Dublin".into(),
        agents: vec![
            AgentChange {
                user_id: "user-a".into(),
                change: ChangeKind::Updated,
                shifts: vec![Shift {
                    id: "shift-1".into(),
                    start_date: "2026-03-02T08:00:00Z".into(),
                    length_minutes: 480,
                    activities: vec![Activity {
                        start_date: "2026-03-02T08:00:00Z".into(),
                        length_minutes: 240,
                        activity_code_id: "ac-0".into(),
                        activity_code: Some(ActivityCodeRef {
                            name: "On Queue Work".into(),
                            category: "OnQueueWork".into(),
                        }),
                        description: None,
                        paid: true,
                    }],
                }],
                full_day_time_off_markers: vec![],
            },
            AgentChange {
                user_id: "user-b".into(),
                change: ChangeKind::Removed,
                shifts: vec![],
                full_day_time_off_markers: vec![],
            },
        ],
    }
}

fn presence() -> PresenceChanged {
    PresenceChanged {
        user_id: "user-a".into(),
        system_presence: "On Queue".into(),
        presence_definition_id: "def-q".into(),
        previous: Some(PresenceRef {
            system_presence: "Available".into(),
            presence_definition_id: "def-a".into(),
        }),
        modified_date: "2026-03-02T09:15:00.123Z".into(),
        source: Some("PURECLOUD".into()),
        cause: Cause::Notification,
    }
}

#[test]
fn schedule_changed_json() {
    let ev = NewEvent::schedule_changed(HOST, "2026-03-01T12:00:00Z", &schedule_changed());
    insta::assert_json_snapshot!(rendered(&ev, 1));
}

#[test]
fn schedule_deleted_json() {
    let data = ScheduleDeleted {
        business_unit_id: "bu-1".into(),
        schedule_id: "sch-1".into(),
        week_date: "2026-03-02".into(),
        operation_id: None,
        cause: Cause::Reconcile,
    };
    insta::assert_json_snapshot!(rendered(
        &NewEvent::schedule_deleted(HOST, "2026-03-01T12:00:00Z", &data),
        2
    ));
}

#[test]
fn presence_changed_json() {
    insta::assert_json_snapshot!(rendered(&NewEvent::presence_changed(HOST, &presence()), 3));
}

#[test]
fn routing_status_changed_json() {
    let data = RoutingStatusChanged {
        user_id: "user-a".into(),
        status: "INTERACTING".into(),
        previous_status: None,
        start_time: "2026-03-02T09:16:00Z".into(),
        cause: Cause::Snapshot,
    };
    insta::assert_json_snapshot!(rendered(
        &NewEvent::routing_status_changed("localhost:8080", &data),
        4
    ));
}

#[test]
fn ids_are_deterministic_and_follow_the_content() {
    let a = NewEvent::presence_changed(HOST, &presence());
    assert_eq!(
        a.id,
        NewEvent::presence_changed(HOST, &presence()).id,
        "same change, same id"
    );
    assert_eq!(
        a.render(1).replace("\"1\"", "\"9\""),
        a.render(9),
        "only the sequence differs"
    );
    let mut later = presence();
    later.modified_date = "2026-03-02T09:15:01.000Z".into();
    assert_ne!(a.id, NewEvent::presence_changed(HOST, &later).id);

    let s = NewEvent::schedule_changed(HOST, "t", &schedule_changed());
    let mut other = schedule_changed();
    other.agents[0].shifts[0].length_minutes = 470;
    assert_ne!(
        s.id,
        NewEvent::schedule_changed(HOST, "t", &other).id,
        "agents payload is in the id"
    );
    let mut bumped = schedule_changed();
    bumped.version = 5;
    assert_ne!(
        s.id,
        NewEvent::schedule_changed(HOST, "t", &bumped).id,
        "version is in the id"
    );
    assert_eq!(
        s.id,
        NewEvent::schedule_changed(HOST, "other time", &schedule_changed()).id
    );
}
