//! Table-driven tests of the presence and routing-status rules.

use super::*;

#[test]
fn normalises_every_spelling() {
    let table = [
        ("On Queue", "On Queue", true),
        ("ON_QUEUE", "On Queue", true),
        ("onqueue", "On Queue", true),
        ("OnQueue", "On Queue", true),
        ("AVAILABLE", "Available", true),
        (" available ", "Available", true),
        ("Break", "Break", true),
        ("MEAL", "Meal", true),
        ("offline", "Offline", true),
        ("Idle", "Idle", true),
        ("training", "Training", true),
        ("Meeting", "Meeting", true),
        ("away", "Away", true),
        ("busy", "Busy", true),
        ("Lunch Walk", "Lunch Walk", false),
        ("", "", false),
    ];
    for (raw, display, known) in table {
        let n = normalise_system_presence(raw);
        assert_eq!((n.display.as_str(), n.known), (display, known), "input {raw:?}");
    }
}

fn p(sp: &str, def: &str, at: &str) -> PresenceState {
    PresenceState {
        system_presence: sp.into(),
        presence_definition_id: Some(def.into()),
        modified_date: Some(at.into()),
    }
}

#[test]
fn presence_decisions() {
    let stored = p("Available", "d1", "2026-08-15T08:00:00.000Z");
    type D = Decision<PresenceState>;
    let table: Vec<(&str, Option<&PresenceState>, PresenceState, D)> = vec![
        (
            "never known",
            None,
            p("Available", "d1", "2026-08-15T08:00:00Z"),
            D::Emit { previous: None },
        ),
        (
            "newer change",
            Some(&stored),
            p("Busy", "d2", "2026-08-15T09:00:00Z"),
            D::Emit {
                previous: Some(stored.clone()),
            },
        ),
        (
            "same content newer",
            Some(&stored),
            p("Available", "d1", "2026-08-15T09:00:00Z"),
            D::Duplicate { advance: true },
        ),
        (
            "same content older",
            Some(&stored),
            p("Available", "d1", "2026-08-15T07:00:00Z"),
            D::Duplicate { advance: false },
        ),
        (
            "same instant other rendering",
            Some(&stored),
            p("Available", "d1", "2026-08-15T10:00:00+02:00"),
            D::Duplicate { advance: false },
        ),
        (
            "older change",
            Some(&stored),
            p("Busy", "d2", "2026-08-15T07:59:59Z"),
            D::Stale,
        ),
        (
            "secondary presence, same system presence",
            Some(&stored),
            p("Available", "d9", "2026-08-15T09:00:00Z"),
            D::Emit {
                previous: Some(stored.clone()),
            },
        ),
        (
            "equal instant, new content",
            Some(&stored),
            p("Meal", "d3", "2026-08-15T08:00:00Z"),
            D::Emit {
                previous: Some(stored.clone()),
            },
        ),
        (
            "unparseable date is not stale",
            Some(&stored),
            p("Meal", "d3", "yesterday"),
            D::Emit {
                previous: Some(stored.clone()),
            },
        ),
    ];
    for (name, stored, incoming, want) in table {
        assert_eq!(decide(stored, &incoming), want, "{name}");
    }
}

#[test]
fn routing_decisions() {
    let r = |s: &str, at: &str| RoutingState {
        status: s.into(),
        start_time: Some(at.into()),
    };
    let stored = r("IDLE", "2026-08-15T08:00:00Z");
    type D = Decision<RoutingState>;
    let table = [
        (
            "never known",
            None,
            r("IDLE", "2026-08-15T08:00:00Z"),
            D::Emit { previous: None },
        ),
        (
            "new status",
            Some(&stored),
            r("INTERACTING", "2026-08-15T08:01:00Z"),
            D::Emit {
                previous: Some(stored.clone()),
            },
        ),
        (
            "same status",
            Some(&stored),
            r("IDLE", "2026-08-15T08:05:00Z"),
            D::Duplicate { advance: true },
        ),
        (
            "older status",
            Some(&stored),
            r("OFF_QUEUE", "2026-08-15T07:00:00Z"),
            D::Stale,
        ),
    ];
    for (name, stored, incoming, want) in table {
        assert_eq!(decide_routing(stored, &incoming), want, "{name}");
    }
}

#[test]
fn from_api_normalises_and_requires_a_presence() {
    let up: crate::genesys::presence::UserPresence = serde_json::from_value(serde_json::json!({
        "source": "PURECLOUD",
        "presenceDefinition": {"id": "e08e", "systemPresence": "ON_QUEUE"},
        "modifiedDate": "2026-08-15T08:39:12.000Z",
        "unknownField": 1
    }))
    .unwrap();
    let s = PresenceState::from_api(&up).unwrap();
    assert_eq!(s.system_presence, "On Queue");
    assert_eq!(s.presence_definition_id.as_deref(), Some("e08e"));
    assert!(PresenceState::from_api(&Default::default()).is_none());
}
