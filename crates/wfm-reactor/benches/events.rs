//! CloudEvent serialisation: building a [`NewEvent`] (data JSON + deterministic id) and
//! rendering the envelope with its sequence, for a presence change and for a schedule
//! change touching one agent and 30 agents (each with one shift of four activities).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wfm_reactor::events::{
    Activity, ActivityCodeRef, AgentChange, Cause, ChangeKind, NewEvent, PresenceChanged, PresenceRef,
    ScheduleChanged, Shift,
};

const HOST: &str = "api.mypurecloud.com";

fn presence() -> PresenceChanged {
    PresenceChanged {
        user_id: "8b0c4ff4-1c1b-4b8e-9f5e-3f2f6c1d2a11".into(),
        system_presence: "On Queue".into(),
        presence_definition_id: "e08eaf1b-ee47-4fa9-a231-1200e284798f".into(),
        previous: Some(PresenceRef {
            system_presence: "Available".into(),
            presence_definition_id: "6a3af858-942f-489d-9700-5f9bcdcdae9b".into(),
        }),
        modified_date: "2026-11-22T07:01:02.345Z".into(),
        source: Some("PURECLOUD".into()),
        cause: Cause::Notification,
    }
}

fn agent(i: usize) -> AgentChange {
    let activity = |start: &str, len: i64, code: &str, name: &str, cat: &str, paid: bool| Activity {
        start_date: start.into(),
        length_minutes: len,
        activity_code_id: code.into(),
        activity_code: Some(ActivityCodeRef {
            name: name.into(),
            category: cat.into(),
        }),
        description: None,
        paid,
    };
    AgentChange {
        user_id: format!("00000000-0000-4000-8000-{i:012}"),
        change: ChangeKind::Updated,
        shifts: vec![Shift {
            id: format!("shift-{i}-2026-11-23"),
            start_date: "2026-11-23T08:00:00Z".into(),
            length_minutes: 480,
            activities: vec![
                activity("2026-11-23T08:00:00Z", 120, "0", "On Queue", "OnQueueWork", true),
                activity("2026-11-23T10:00:00Z", 15, "1", "Break", "Break", true),
                activity("2026-11-23T10:15:00Z", 105, "0", "On Queue", "OnQueueWork", true),
                activity("2026-11-23T12:00:00Z", 60, "2", "Meal", "Meal", false),
            ],
        }],
        full_day_time_off_markers: vec![],
    }
}

fn schedule(agents: usize) -> ScheduleChanged {
    ScheduleChanged {
        business_unit_id: "3f1c2b7a-8d3e-4a4b-9c55-1e2d3c4b5a69".into(),
        management_unit_id: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f".into(),
        schedule_id: "a6f2b1c0-5d4e-4f3a-8b2c-1d0e9f8a7b6c".into(),
        week_date: "2026-11-23".into(),
        week_count: 1,
        published: true,
        version: 42,
        operation_id: Some("6d1f0f8e-9a9b-4c59-8c1e-2f0a5c3b7d11".into()),
        cause: Cause::Notification,
        business_unit_time_zone: "Europe/Dublin".into(),
        agents: (0..agents).map(agent).collect(),
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("cloudevent");
    g.throughput(Throughput::Elements(1));
    let p = presence();
    g.bench_function("presence_build", |b| {
        b.iter(|| NewEvent::presence_changed(HOST, black_box(&p)))
    });
    let built = NewEvent::presence_changed(HOST, &p);
    g.bench_function("presence_render", |b| {
        b.iter(|| black_box(&built).render(black_box(123_456)))
    });
    g.bench_function("presence_build_and_render", |b| {
        b.iter(|| NewEvent::presence_changed(HOST, black_box(&p)).render(123_456))
    });
    for n in [1usize, 30] {
        let s = schedule(n);
        let ev = NewEvent::schedule_changed(HOST, "2026-11-22T07:01:02.345Z", &s);
        let rendered = ev.render(1);
        // Guard: the rendered envelope must be valid JSON carrying the data, or the figure lies.
        let v: serde_json::Value = serde_json::from_str(&rendered).expect("rendered event is JSON");
        assert_eq!(v["data"]["agents"].as_array().map(Vec::len), Some(n));
        g.bench_function(
            format!("schedule_{n}_agents_build_and_render ({} bytes)", rendered.len()),
            |b| {
                b.iter(|| {
                    NewEvent::schedule_changed(HOST, "2026-11-22T07:01:02.345Z", black_box(&s)).render(7)
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
