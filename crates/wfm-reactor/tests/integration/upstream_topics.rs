//! Frame parsing against the fixtures in fixtures/frames/.

use wfm_reactor::topics::{Frame, FrameError, Notification, SystemKind, parse_frame};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/frames/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn notification(name: &str) -> (String, Notification) {
    match parse_frame(&fixture(name)).unwrap() {
        Frame::Notification { topic, notification } => (topic, notification),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn presence_is_typed_with_user_from_topic() {
    let (topic, n) = notification("presence.json");
    assert!(topic.ends_with(".presence"));
    let Notification::Presence(p) = n else {
        panic!("{n:?}")
    };
    assert_eq!(p.user_id, "6a1c0c2e-1111-2222-3333-444455556666");
    assert_eq!(p.system_presence.as_deref(), Some("On Queue"));
    assert_eq!(
        p.presence_definition_id.as_deref(),
        Some("e08eaf1b-ee47-4fa9-a231-1200e284798f")
    );
    assert_eq!(p.modified_date.unwrap().to_rfc3339(), "2026-08-15T08:39:12+00:00");
    assert_eq!(p.source.as_deref(), Some("PURECLOUD"));
}

#[test]
fn routing_status_and_query_result() {
    let (_, n) = notification("routing_status.json");
    let Notification::RoutingStatus(r) = n else {
        panic!("{n:?}")
    };
    assert_eq!((r.user_id.as_str(), r.status.as_deref()), ("u1", Some("IDLE")));
    let (_, n) = notification("schedule_query_result.json");
    assert_eq!(
        n,
        Notification::ScheduleQueryResult {
            operation_id: Some("op9".into()),
            business_unit_id: Some("bu-1".into()),
            download_url: Some("https://example.invalid/dl/1".into()),
        }
    );
}

#[test]
fn bu_schedule_full_error_and_date_only_week() {
    let (_, n) = notification("bu_schedule_complete.json");
    let Notification::BuSchedule(b) = n else {
        panic!("{n:?}")
    };
    assert_eq!(b.business_unit_id, "bu-1");
    let result = b.notification.result.unwrap();
    assert_eq!(result.metadata.unwrap().version, Some(7));
    let mu = &result.management_units[0];
    assert_eq!(mu.management_unit.as_ref().unwrap().id.as_deref(), Some("mu-1"));
    assert_eq!(mu.agents.len(), 2);

    let (_, n) = notification("bu_schedule_error.json");
    let Notification::BuSchedule(b) = n else {
        panic!("{n:?}")
    };
    assert_eq!(b.notification.status.as_deref(), Some("Error"));
    assert!(b.notification.result.is_none());

    let (_, n) = notification("bu_schedule_date_weekdate.json");
    let Notification::BuSchedule(b) = n else {
        panic!("{n:?}")
    };
    let week = b.notification.result.unwrap().week_date.unwrap();
    assert_eq!(week.to_rfc3339(), "2026-08-10T00:00:00+00:00");
}

#[test]
fn control_frames() {
    assert_eq!(parse_frame(&fixture("heartbeat.json")).unwrap(), Frame::Heartbeat);
    assert_eq!(parse_frame(&fixture("pong.json")).unwrap(), Frame::Pong);
    assert_eq!(
        parse_frame(&fixture("result_404.json")).unwrap(),
        Frame::Result {
            code: "404".into(),
            message: Some("channel not found".into())
        }
    );
    assert_eq!(
        parse_frame(r#"{"result":404}"#).unwrap(),
        Frame::Result {
            code: "404".into(),
            message: None
        }
    );
    let (_, n) = notification("socket_closing.json");
    let Notification::System(s) = n else {
        panic!("{n:?}")
    };
    assert_eq!(s.kind, SystemKind::SocketClosing);
}

#[test]
fn bad_frames_have_reasons() {
    let reason = |name: &str| {
        parse_frame(&fixture(&format!("bad/{name}")))
            .unwrap_err()
            .reason()
    };
    assert_eq!(reason("truncated.json"), "invalid_json");
    assert_eq!(reason("not_object.json"), "invalid_json");
    assert_eq!(reason("unknown_topic.json"), "unknown_topic");
    assert_eq!(reason("wrong_type.json"), "wrong_type");
    assert_eq!(reason("no_topic.json"), "no_topic");
    assert!(matches!(parse_frame("{}"), Err(FrameError::NoTopic)));
}
